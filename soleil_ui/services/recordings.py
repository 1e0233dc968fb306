"""How long a song lasts, told by its reference recording: WAV headers, or MP3 frames (a Xing/Info frame count, else
constant bit rate by size). Read in a thread, once per recording, and kept in ``AudioTrack.duration_seconds``.
And which recording the stand plays for a song (``recording_urls``).
"""

from __future__ import annotations

import asyncio
import wave
from collections.abc import Collection
from pathlib import Path

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..errors import SoleilError
from ..models import AudioTrack
from ..runtime import get_runtime


async def fill_recording_durations(session: AsyncSession, band_id: int, song_ids: list[int]) -> None:
    """Measure the songs' reference recordings that have no duration yet (WAV and MP3), and keep the result."""
    try:
        blobs = get_runtime().blobs
    except RuntimeError:
        return
    tracks = (await session.exec(select(AudioTrack).where(
        AudioTrack.band_id == band_id, col(AudioTrack.song_id).in_(song_ids),
        col(AudioTrack.duration_seconds).is_(None), AudioTrack.checksum != ""))).all()
    for track in tracks:
        try:
            path = await blobs.local_path(track.checksum)
        except SoleilError:  # not stored (yet) or the store is unreachable: measured another time
            continue
        seconds = await asyncio.to_thread(audio_seconds, path)
        if seconds:
            track.duration_seconds = seconds
            session.add(track)


async def recording_urls(session: AsyncSession, band_id: int, song_ids: Collection[int],
                         scope: Collection[int] | None = None) -> dict[int, str]:
    """The stand's recording for each of these songs that has one: the band's stored track first by file name (the
    order the song page and the offline set list them), as its media URL. ``scope`` limits a substitute to their
    gig's songs (``library.song_scope``); the media route checks the same again when the file is asked for."""
    wanted = [s for s in song_ids if scope is None or s in scope]
    if not wanted:
        return {}
    tracks = (await session.exec(select(AudioTrack).where(
        AudioTrack.band_id == band_id, col(AudioTrack.song_id).in_(wanted), AudioTrack.checksum != "")
        .order_by(col(AudioTrack.file_name), col(AudioTrack.id)))).all()
    urls: dict[int, str] = {}
    for track in tracks:
        if track.song_id is not None and track.song_id not in urls:
            urls[track.song_id] = audio_url(track)
    return urls


def audio_url(track: AudioTrack) -> str:
    """A reference recording's URL; ``v=`` makes a changed recording a new URL (the server ignores it)."""
    return f"/media/audio/{track.id}?v={track.checksum[:16]}"


def audio_seconds(path: Path) -> int | None:
    """The length of a WAV or MP3 file in whole seconds, or None when it can't be told."""
    try:
        with path.open("rb") as handle:
            head = handle.read(12)
        if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
            with wave.open(str(path)) as wav:
                return round(wav.getnframes() / wav.getframerate()) or None
        return _mp3_seconds(path)
    except (OSError, EOFError, wave.Error, ZeroDivisionError, ValueError):
        return None


_MP3_BITRATES = {  # kbit/s by (MPEG-1?, index) for layer III
    True: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    False: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_MP3_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


def _mp3_seconds(path: Path) -> int | None:
    """Layer III: the frame count of a Xing/Info header when there is one, else constant bit rate by size."""
    size = path.stat().st_size
    with path.open("rb") as handle:
        data = handle.read(64 * 1024)
    start = 0
    if data[:3] == b"ID3" and len(data) >= 10:
        start = 10 + ((data[6] & 0x7F) << 21 | (data[7] & 0x7F) << 14 | (data[8] & 0x7F) << 7 | (data[9] & 0x7F))
        with path.open("rb") as handle:
            handle.seek(start)
            data = handle.read(64 * 1024)
        size -= start
    for offset in range(0, max(0, len(data) - 4)):
        b1, b2, b3 = data[offset + 1], data[offset + 2], data[offset + 3]
        if data[offset] != 0xFF or b1 & 0xE0 != 0xE0:
            continue
        version, layer = (b1 >> 3) & 3, (b1 >> 1) & 3
        bitrate_index, rate_index = b2 >> 4, (b2 >> 2) & 3
        if version == 1 or layer != 1 or bitrate_index in (0, 15) or rate_index == 3:
            continue
        mpeg1 = version == 3
        rate = _MP3_RATES[version][rate_index]
        samples = 1152 if mpeg1 else 576
        side = (32 if b3 >> 6 != 3 else 17) if mpeg1 else (17 if b3 >> 6 != 3 else 9)
        xing = offset + 4 + side
        if data[xing:xing + 4] in (b"Xing", b"Info") and data[xing + 7] & 1:
            frames = int.from_bytes(data[xing + 8:xing + 12], "big")
            return round(frames * samples / rate) or None
        bitrate = _MP3_BITRATES[mpeg1][bitrate_index] * 1000
        return round((size - offset) * 8 / bitrate) or None
    return None
