"""A song: my part first (with my own key and octave for a part engraved from a score or chord sheet), every other
part — PDFs and the parts a MusicXML or ChordPro file engraves — each also as a PDF to print, reference audio."""

from __future__ import annotations

from urllib.parse import urlencode

from nicegui import APIRouter, ui

from components.guard import member_page
from components.layout import page_frame
from soleil_ui.access import Actor
from soleil_ui.engraving.theory import Key
from soleil_ui.models import Chart
from soleil_ui.services import chart_pages, library, page_data, work
from soleil_ui.services.library import KeyPref, SongDetail

router = APIRouter()
_TONICS = ("C", "Db", "D", "Eb", "E", "F", "F#", "Gb", "G", "Ab", "A", "Bb", "B")
OCTAVES = {-2: "Two octaves down", -1: "An octave down", 0: "As written", 1: "An octave up", 2: "Two octaves up"}
AS_ENGRAVED = "As engraved"


def stand_href(chart_id: int, part_key: str | None = None, generated: bool = False) -> str:
    """The stand for a chart, in a part when the chart is engraved for many."""
    return f"/stand/{chart_id}" + (f"?{urlencode({'part': part_key})}" if generated and part_key else "")


def key_choices(source_key: str | None) -> dict[str, str]:
    """Written keys a member may ask for: every tonic, minor when the file is in a minor key."""
    minor = bool((parsed := Key.try_parse(source_key)) and parsed.minor)
    keys = [Key.parse(t + ("m" if minor else "")) for t in _TONICS]
    return {"": AS_ENGRAVED, **{k.name(): k.name(unicode=True) for k in keys}}


@router.page("/songs/{song_id:id}")
@member_page
async def song_page(actor: Actor, song_id: int) -> None:
    data = await page_data.song(actor, song_id)
    detail, played, zone = data.detail, data.last_played, data.zone
    charts = {c.id: c for c in detail.charts}
    with page_frame(actor, detail.song.title, active="Library", back="/library"):
        my_part(actor, detail, charts.get(detail.chart_id))
        ui.label(f"Last played {played.astimezone(zone):%a %d %b %Y}" if played else "Not played at a gig yet") \
            .classes("text-sm text-grey-7").mark("last-played")
        if not detail.charts:
            ui.label("This song has no charts yet.").classes("text-grey-7")
        if detail.parts:
            ui.label("All parts").classes("text-sm uppercase text-grey-7 mt-2")
            with ui.list().props("separator").classes("w-full bg-white rounded-borders"):
                for option in detail.parts:
                    part_item(option, charts[option.chart_id])
        if detail.audio:
            ui.label("Reference recordings").classes("text-sm uppercase text-grey-7 mt-2")
            for track in detail.audio:
                ui.label(track.file_name).classes("text-sm")
                ui.audio(f"/media/audio/{track.id}").props("preload=metadata").classes("w-full")
    return None


def part_item(option: library.PartOption, chart: Chart) -> None:
    href = stand_href(option.chart_id, option.part_key, option.generated)
    pages = f"{option.page_count} page{'s' if option.page_count != 1 else ''}" if option.page_count else ""
    caption = " · ".join(x for x in (option.source_label, pages) if x)
    with ui.item(on_click=lambda h=href: ui.navigate.to(h)).props("clickable").classes("min-h-[56px]") \
            .mark(f"part-{option.part_key}"):
        with ui.item_section():
            ui.item_label(option.label)
            if caption:
                ui.item_label(caption).props("caption")
        with ui.item_section().props("side"):
            url = chart_pages.print_url(chart, option.part_key)
            ui.link("PDF", url).props(f'download aria-label="Download {option.label} as PDF"') \
                .classes("text-sm px-2 soleil-link justify-center").mark(f"pdf-{option.part_key}") \
                .on("click.stop", lambda: None)


def marked_url(chart: Chart, part_key: str | None, pref: KeyPref | None = None) -> str:
    """The part to print with the pencil's marks I see (an engraved part laid out as on a phone's stand)."""
    query: dict[str, str] = {"part": part_key or ""}
    if library.is_generated(chart):
        spec = library.engrave_spec(chart, part_key or "", pref=pref)
        query["layout"] = urlencode({"w": chart_pages.BASE_WIDTH, **spec.to_params()})
    return f"/annotations/{chart.id}/print.pdf?" + urlencode(query)


def my_part(actor: Actor, detail: SongDetail, chart: Chart | None) -> None:
    """The explanation, "Open my part", and for an engraved part: a preview, my key and octave, a PDF."""
    resolved = detail.resolved
    state = {"pref": detail.pref}

    @ui.refreshable
    def block() -> None:
        assert resolved is not None
        ui.label(resolved.explanation).classes("text-base").mark("my-part-explanation")
        if chart is None or resolved.chart_id is None:
            return
        ui.button("Open my part", icon="menu_book", on_click=lambda: ui.navigate.to(
            stand_href(resolved.chart_id or 0, resolved.part_key, resolved.generated))) \
            .props("unelevated size=lg").classes("w-full").mark("open-my-part")
        pref: KeyPref = state["pref"]
        if not resolved.generated:
            with ui.row().classes("gap-4"):
                ui.link("Download PDF", chart_pages.print_url(chart)).props("download").classes("text-sm") \
                    .mark("my-pdf")
                ui.link("PDF with my marks", marked_url(chart, resolved.part_key)).props("download") \
                    .classes("text-sm soleil-link").mark("my-marked-pdf")
            return
        spec = library.engrave_spec(chart, resolved.part_key or "", pref=pref)
        with ui.row().classes("w-full items-center gap-3 no-wrap"):
            ui.image(chart_pages.svg_url(chart.id or 0, chart.checksum, 0, chart_pages.BASE_WIDTH, spec)) \
                .classes("w-24 border rounded-borders bg-white").mark("my-preview").props(
                    'fit=contain ratio=0.7727 data-testid="my-part-preview" alt="First page of my part"')
            with ui.column().classes("gap-1 grow"):
                ui.label(f"{resolved.part_label} · {resolved.source_label}").classes("text-sm text-grey-8")
                ui.link("Download PDF", chart_pages.print_url(chart, resolved.part_key, pref=pref)) \
                    .props("download").classes("text-sm").mark("my-pdf")
                ui.link("PDF with my marks", marked_url(chart, resolved.part_key, pref)).props("download") \
                    .classes("text-sm soleil-link").mark("my-marked-pdf")
        with ui.row().classes("w-full gap-2 no-wrap"):
            key = ui.select(key_choices(chart.source_key), value=pref.musical_key or "", label="Key of my part") \
                .classes("grow").props("outlined dense").mark("pref-key")
            octave = ui.select(OCTAVES, value=pref.octave_shift, label="Octave").classes("grow") \
                .props("outlined dense").mark("pref-octave")

        async def save() -> None:
            state["pref"] = await work.act(library.set_member_pref, actor, detail.song.id or 0,
                                           musical_key=key.value or None, octave_shift=int(octave.value or 0))
            ui.notify("Saved for you: " + describe(state["pref"]), type="positive")
            block.refresh()

        key.on_value_change(save)
        octave.on_value_change(save)

    if resolved is not None:
        block()


def describe(pref: KeyPref) -> str:
    key = f"in {library.key_label(pref.musical_key)}" if pref.musical_key else "in the engraved key"
    return key + ("" if pref.octave_shift == 0 else ", " + OCTAVES[pref.octave_shift].lower())
