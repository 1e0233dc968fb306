"""Offline sets: everything one member's device must keep to play a setlist with no network.

For a setlist and a member (the ``Actor``), ``offline_set`` lists every song in order with the chart the stand
would open for them (``setlist_plan.stand_plan``: my part, or the nearest readable one), each page's image URL at
the widths the device asked for, and, if asked, the songs' reference recordings. The browser's service worker
downloads exactly those URLs into the member's own cache (``scope``: one per band and person, so one band's
images are never served to another band's member) and keeps the manifest next to them.

A MusicXML or ChordPro part (a *generated* chart) is the engraved SVG pages the stand shows for this member
(``setlist_plan.stand_plan`` resolves it with the setlist entry's key, ``chart_pages.stop_pages`` lists it): one layout
width, no ``srcset``, so the device's widths don't apply to it.

Staleness is a comparison of ``digest``: a hash of what the set *shows* (names, order, chart checksums, page
counts, recordings), independent of the widths. Image URLs carry the file's checksum (``v=``), so when the
library changes, only the URLs of changed files are new: a refresh downloads those and drops the ones no set
uses any more; everything else stays cached (immutable).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..access import Actor
from ..errors import SoleilError
from ..models import AudioTrack, Chart
from ..rendering import WIDTHS, snap_width
from . import chart_pages, setlist_plan, setlists
from .crops import stored_crops
from .recordings import audio_url

BASE_WIDTH = chart_pages.BASE_WIDTH  # the stand's ``src`` width; srcset offers every standard width
MAX_WIDTHS = 2  # a device asks for its portrait width and at most one more (tablet landscape, fit-to-width)


def scope_of(actor: Actor) -> str:
    """The name of this member's offline data on a device: per band *and* person (cache names, storage keys)."""
    return f"b{actor.band_id}-u{actor.user_id}"


def normalize_widths(requested: Iterable[int] | None) -> tuple[int, ...]:
    """The standard widths for what a device asked for (snapped up, deduplicated, at most ``MAX_WIDTHS``)."""
    widths: list[int] = []
    for value in requested or ():
        try:
            width = snap_width(max(1, int(value)))
        except (TypeError, ValueError):
            continue
        if width not in widths:
            widths.append(width)
    return tuple(sorted(widths[:MAX_WIDTHS])) or (BASE_WIDTH,)


def width_for_screen(css_pixels: float, device_pixel_ratio: float) -> int:
    """The standard width a page needs to be sharp across a screen this wide (what ``srcset`` would pick)."""
    return snap_width(max(1, round(css_pixels * max(1.0, min(device_pixel_ratio, 3.0)))))


@dataclass(frozen=True, slots=True)
class OfflinePage:
    width: int  # the stand's layout size of this page (``BASE_WIDTH`` wide), for a stable layout while loading
    height: int
    urls: dict[int, str]  # standard width -> image URL
    crop: list[float] | None = None  # the page's measured crop box (``services.crops``): the offline stand crops too

    def stand_page(self) -> dict[str, Any]:
        """The page as ``components.stand.Stand`` takes it (``src`` at the smallest width asked for)."""
        first = min(self.urls)
        page: dict[str, Any] = {"src": self.urls[first], "width": self.width, "height": self.height}
        if len(self.urls) > 1 or "/pages/" in self.urls[first]:  # an engraved SVG page has one layout, no srcset
            page["srcset"] = ", ".join(f"{url} {w}w" for w, url in sorted(self.urls.items()))
        if self.crop is not None:
            page["crop"] = self.crop
        return page


@dataclass(frozen=True, slots=True)
class OfflineAudio:
    track_id: int
    file_name: str
    mime_type: str
    size: int
    url: str


@dataclass(frozen=True, slots=True)
class OfflineSong:
    item_id: int
    song_id: int
    title: str
    part_label: str  # "Trumpet in B♭", or "" when there is no chart
    musical_key: str | None
    notes: str
    chart_id: int | None
    checksum: str | None
    explanation: str  # the match explanation ("Your part: B♭", "No chart in your part…")
    pages: list[OfflinePage]
    audio: list[OfflineAudio] = field(default_factory=list)
    engraved: bool = False  # SVG pages engraved for this member's part (their URLs say what is drawn)

    def urls(self) -> list[str]:
        return [url for page in self.pages for _, url in sorted(page.urls.items())] + [a.url for a in self.audio]


@dataclass(frozen=True, slots=True)
class OfflineSet:
    setlist_id: int
    name: str
    setlist_version: int
    scope: str
    widths: tuple[int, ...]
    audio: bool
    songs: list[OfflineSong]
    digest: str  # what the set shows; a different digest means the copy on the device is stale

    def urls(self) -> list[str]:
        """Every URL to keep, each once, in reading order (so the first songs are ready first)."""
        seen: dict[str, None] = {}
        for song in self.songs:
            for url in song.urls():
                seen.setdefault(url, None)
        return list(seen)

    def to_json(self) -> dict[str, Any]:
        """The manifest the browser stores (``offline.js``/``sw.js``) and the offline stand reads."""
        return {
            "setlist_id": self.setlist_id, "name": self.name, "setlist_version": self.setlist_version,
            "scope": self.scope, "widths": list(self.widths), "audio": self.audio, "digest": self.digest,
            "urls": self.urls(),
            "songs": [{
                "item_id": s.item_id, "song_id": s.song_id, "title": s.title, "part_label": s.part_label,
                "musical_key": s.musical_key, "notes": s.notes, "chart_id": s.chart_id,
                "explanation": s.explanation, "pages": [p.stand_page() for p in s.pages],
                "audio": [{"track_id": a.track_id, "file_name": a.file_name, "mime_type": a.mime_type,
                           "size": a.size, "url": a.url} for a in s.audio],
            } for s in self.songs],
        }


async def _engraved_pages(stop: setlist_plan.StandStop) -> list[OfflinePage]:
    """A generated part's pages as this member's stand draws them (their part, the night's key, their preference)."""
    return [OfflinePage(p["width"], p["height"], {p["width"]: p["src"]})
            for p in await chart_pages.stop_pages(stop)]


def chart_pages_of(chart: Chart, widths: Iterable[int] = WIDTHS) -> list[OfflinePage]:
    """Each page of a chart: its layout size and its image URL at each of ``widths`` (standard widths)."""
    assert chart.id is not None
    wanted = sorted({snap_width(w) for w in widths})
    crops = stored_crops(chart)  # measured at sync (or by the first stand that showed it): never measured here
    pages = []
    for index in range(chart.page_count):
        crop = crops[index] if crops is not None and crops[index] != [0.0, 0.0, 1.0, 1.0] else None
        pages.append(OfflinePage(BASE_WIDTH, chart_pages.page_height(chart, index),
                                 {w: chart_pages.page_url(chart.id, chart.checksum, index, w) for w in wanted}, crop))
    return pages


def _digest(name: str, songs: list[OfflineSong], audio: bool) -> str:
    shown = [name, audio, [[s.item_id, s.song_id, s.title, s.part_label, s.musical_key, s.notes, s.chart_id,
                            s.checksum, len(s.pages), [p.height for p in s.pages],
                            [p.urls for p in s.pages] if s.engraved else None,
                            [[a.track_id, a.url] for a in s.audio]] for s in songs]]
    return hashlib.sha256(json.dumps(shown, ensure_ascii=False).encode()).hexdigest()[:20]


async def offline_set(session: AsyncSession, actor: Actor, setlist_id: int, *, widths: Iterable[int] | None = None,
                      audio: bool = False) -> OfflineSet:
    """The offline manifest of a setlist for this member (NotFound for another band's or a hidden setlist)."""
    plan = await setlist_plan.stand_plan(session, actor, setlist_id)
    chosen = normalize_widths(widths)
    tracks: dict[int, list[AudioTrack]] = {}
    song_ids = sorted({stop.song_id for stop in plan.stops})
    if audio and song_ids:
        query = (select(AudioTrack).where(AudioTrack.band_id == actor.band_id, col(AudioTrack.song_id).in_(song_ids),
                                          AudioTrack.checksum != "").order_by(col(AudioTrack.file_name)))
        for track in (await session.exec(query)).all():
            tracks.setdefault(track.song_id or 0, []).append(track)
    songs = []
    for stop in plan.stops:
        chart = stop.chart
        part = chart_pages.stand_label(stop)
        explanation, engraved = stop.explanation, stop.generated
        pages: list[OfflinePage] = []
        if chart is not None and engraved:
            try:
                pages = await _engraved_pages(stop)
            except SoleilError as exc:  # an unusable file: the stand says why, the rest of the set still goes
                explanation = exc.user_message
        elif chart is not None:
            pages = chart_pages_of(chart, chosen)
        songs.append(OfflineSong(
            stop.item_id, stop.song_id, stop.title, part, stop.musical_key, stop.notes,
            chart.id if chart is not None else None, chart.checksum if chart is not None else None,
            explanation, pages,
            [OfflineAudio(t.id or 0, t.file_name, t.mime_type, t.size, audio_url(t))
             for t in tracks.get(stop.song_id, [])], engraved))
    return OfflineSet(plan.setlist_id, plan.name, plan.version, scope_of(actor), chosen, audio, songs,
                      _digest(plan.name, songs, audio))


async def digests(session: AsyncSession, actor: Actor, setlist_ids: Iterable[int], *,
                  audio: Iterable[int] = ()) -> dict[int, str | None]:
    """The current digest of each setlist (None: gone or not visible to this member), to tell stale copies."""
    with_audio = set(audio)
    result: dict[int, str | None] = {}
    for setlist_id in list(dict.fromkeys(setlist_ids))[:50]:
        try:
            result[setlist_id] = (await offline_set(session, actor, setlist_id, audio=setlist_id in with_audio)).digest
        except SoleilError:  # NotFound, Forbidden: the set is no longer this member's to keep
            result[setlist_id] = None
    return result


async def check_prepare(session: AsyncSession, actor: Actor, setlist_id: int) -> str:
    """A leader asks every member's device to make this setlist available offline: allowed? Returns its name."""
    actor.require_leader()
    return (await setlists.get_setlist(session, actor, setlist_id)).name
