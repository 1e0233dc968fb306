"""Setlists as operations, on SQLite and PostgreSQL: placement rules, stale references, validation, history and
undo, authorization, durations and sets; and two OS processes editing one setlist at once.

Run as ``python -m tests.test_setlists_ops URL TOKEN SETLIST NAME SEED COUNT`` it is one of those processes: it
prints ``ready``, waits for ``go`` on stdin, applies COUNT random operations (keys ``NAME-<n>``) through the
service layer, each against a possibly stale view of the list, and prints ``done``.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import sys
import wave
from pathlib import Path

import pytest
from sqlmodel import select

from soleil_ui.access import Actor
from soleil_ui.db import db
from soleil_ui.errors import Forbidden, InvalidInput, NotFound
from soleil_ui.events import Event, EventHub, PgNotifyTransport, asyncpg_dsn, configure_hub, hub
from soleil_ui.models import AudioTrack, Setlist, SetlistOp, Song
from soleil_ui.services import auth, setlist_plan, setlists
from soleil_ui.services.recordings import audio_seconds
from soleil_ui.services.setlists import Op, parse_duration, sets_of, target_index
from tests.factories import apply_op, band_with_songs, member_of, new_setlist

REPO = Path(__file__).resolve().parents[1]










async def _labels(actor: Actor, setlist_id: int) -> list[str]:
    async with db.session() as session:
        return [e.label for e in await setlists.entries(session, actor, setlist_id)]


async def _ids(actor: Actor, setlist_id: int) -> list[int]:
    async with db.session() as session:
        return [e.item_id for e in await setlists.entries(session, actor, setlist_id)]


def test_target_index_rules() -> None:
    assert target_index([1, 2, 3], 2, None) == 2  # right after 2
    assert target_index([1, 2, 3], 9, 1) == 1  # 9 is gone: the index the sender saw
    assert target_index([1, 2, 3], 9, 99) == 3  # clamped
    assert target_index([1, 2, 3], None, -5) == 0
    assert target_index([1, 2, 3], None, None) == 3  # the end
    assert target_index([], 4, None) == 0


def test_durations_parse_and_sets_add_up() -> None:
    assert [parse_duration(t) for t in ("3:45", "225", "1:02:00", "", None)] == [225, 225, 3720, None, None]
    for bad in ("3:4x", "-1", "1:2:3:4", "0"):
        with pytest.raises(InvalidInput):
            parse_duration(bad)
    entry = setlists.SetlistEntry
    listed = [entry(1, 1, False, "A", 1, "", None, 200), entry(2, 2, True, "Set 2", None, "", None),
              entry(3, 3, False, "B", 2, "", None, 100), entry(4, 4, False, "C", 3, "", None, None),
              entry(5, 5, True, "Encore", None, "", None)]
    assert [(s.label, s.songs, s.seconds, s.unknown) for s in sets_of(listed)] == [
        ("Set 1", 1, 200, 0), ("Set 2", 2, 100, 1), ("Encore", 0, 0, 0)]
    assert setlists.format_duration(3725) == "1:02:05" and setlists.format_duration(65) == "1:05"


def test_keys_are_spelled_one_way() -> None:
    assert [setlists.clean_key(k) for k in ("Bb", "f#m", "E flat minor", "C", " ", "B♭maj")] == [
        "B♭", "F♯m", "E♭m", "C", None, "B♭"]
    with pytest.raises(InvalidInput, match="key"):
        setlists.clean_key("H#")


def test_recording_lengths_are_measured(tmp_path: Path) -> None:
    path = tmp_path / "take.wav"
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(b"\0\0" * 8000 * 3)
    assert audio_seconds(path) == 3
    frame = bytes([0xFF, 0xFB, 0x90, 0x64]) + b"\0" * 413  # MPEG-1 layer III, 128 kbit/s, 44.1 kHz: 417 bytes
    mp3 = tmp_path / "take.mp3"
    mp3.write_bytes(b"ID3\x03\0\0\0\0\0\x0a" + b"\0" * 10 + frame * 383)  # 383 frames of 1152 samples ≈ 10 s
    assert audio_seconds(mp3) == 10
    (tmp_path / "junk.mp3").write_bytes(b"not audio")
    assert audio_seconds(tmp_path / "junk.mp3") is None
    assert audio_seconds(tmp_path / "missing.wav") is None


@pytest.mark.usefixtures("core")
async def test_insert_move_remove_edit_follow_the_rules() -> None:
    leader, songs, _ = await band_with_songs("Hot Five")
    setlist_id = await new_setlist(leader)
    first = await apply_op(leader, setlist_id, Op.insert_song(songs[0]))
    second = await apply_op(leader, setlist_id, Op.insert_song(songs[1]))
    top = await apply_op(leader, setlist_id, Op.insert_break("Set 1", index=0))
    middle = await apply_op(leader, setlist_id, Op.insert_song(songs[2], after_id=first.item_id))
    assert await _labels(leader, setlist_id) == ["Set 1", "Hot Five song 1", "Hot Five song 3", "Hot Five song 2"]
    assert (first.version, second.version, top.version, middle.version) == (1, 2, 3, 4)

    await apply_op(leader, setlist_id, Op.move(second.item_id or 0, after_id=top.item_id))
    assert await _labels(leader, setlist_id) == ["Set 1", "Hot Five song 2", "Hot Five song 1", "Hot Five song 3"]
    gone = await apply_op(leader, setlist_id, Op.remove(first.item_id or 0))
    assert gone.effective
    # Someone else's stale operations on the removed entry: no-ops, still counted once each.
    again = await apply_op(leader, setlist_id, Op.remove(first.item_id or 0))
    moved = await apply_op(leader, setlist_id, Op.move(first.item_id or 0, index=0))
    edited = await apply_op(leader, setlist_id, Op.edit(first.item_id or 0, notes="late"))
    assert not (again.effective or moved.effective or edited.effective)
    # "After an entry that's gone" falls back to the index the sender saw, clamped.
    await apply_op(leader, setlist_id, Op.move(middle.item_id or 0, after_id=first.item_id, index=1))
    assert await _labels(leader, setlist_id) == ["Set 1", "Hot Five song 3", "Hot Five song 2"]
    await apply_op(leader, setlist_id, Op.move(middle.item_id or 0, after_id=first.item_id, index=99))
    assert await _labels(leader, setlist_id) == ["Set 1", "Hot Five song 2", "Hot Five song 3"]

    await apply_op(leader, setlist_id, Op.edit(middle.item_id or 0, notes="  Ava solos,  segue ", musical_key="bb",
                                             duration_seconds=245))
    async with db.session() as session:
        listed = await setlists.entries(session, leader, setlist_id)
        positions = [e.position for e in listed]
        record = await session.get(Setlist, setlist_id)
    song3 = next(e for e in listed if e.item_id == middle.item_id)
    assert (song3.notes, song3.musical_key, song3.duration_seconds, song3.number) == ("Ava solos, segue", "B♭",
                                                                                      245, 2)
    assert positions == [1, 2, 3]
    assert record is not None and record.version == 12


@pytest.mark.usefixtures("core")
@pytest.mark.parametrize(("op", "message"), [
    (Op.edit(0, notes="x" * 501), "Note is too long"),
    (Op.edit(0, musical_key="Q"), "key"),
    (Op.edit(0, duration_seconds=-3), "duration"),
    (Op.edit(0, duration_seconds="3:00"), "duration"),
    (Op.edit(0, label="Renamed song"), "library"),
    (Op.edit(0, tempo=120), "isn't one"),
    (Op.insert_break("   "), "Set name can't be empty"),
    (Op.insert_break(None), "Set name can't be empty"),  # type: ignore[arg-type]
    (Op.rename(""), "Setlist name can't be empty"),
    (Op.rename("x" * 121), "Setlist name is too long"),
    (Op("shuffle"), "isn't one"),
])
async def test_every_input_is_validated_with_a_clear_message(op: Op, message: str) -> None:
    leader, songs, _ = await band_with_songs("Band")
    setlist_id = await new_setlist(leader)
    item = await apply_op(leader, setlist_id, Op.insert_song(songs[0]))
    if op.item_id == 0:
        op = Op(op.kind, item.item_id, values=op.values)
    with pytest.raises(InvalidInput, match=message):
        await apply_op(leader, setlist_id, op)
    async with db.session() as session:
        assert (await session.get(Setlist, setlist_id)).version == 1  # type: ignore[union-attr]


@pytest.mark.usefixtures("core")
async def test_unknown_songs_and_other_bands_are_refused() -> None:
    leader, songs, _ = await band_with_songs("A")
    other, other_songs, _ = await band_with_songs("B")
    member = await member_of(leader, "player@a.org")
    setlist_id = await new_setlist(leader)
    with pytest.raises(NotFound):
        await apply_op(leader, setlist_id, Op.insert_song(other_songs[0]))
    with pytest.raises(NotFound):
        await apply_op(other, setlist_id, Op.insert_song(other_songs[0]))
    for attempt in (Op.insert_song(songs[0]), Op.rename("Mine")):
        with pytest.raises(Forbidden):
            await apply_op(member, setlist_id, attempt)
    async with db.session() as session:
        with pytest.raises(Forbidden):
            await setlists.undo(session, member, setlist_id)
        with pytest.raises(Forbidden):
            await setlists.duplicate_setlist(session, member, setlist_id)
        with pytest.raises(Forbidden):
            await setlists.delete_setlist(session, member, setlist_id)
        with pytest.raises(NotFound):
            await setlists.delete_setlist(session, other, setlist_id)
        with pytest.raises(NotFound):
            await setlists.history(session, other, setlist_id)


@pytest.mark.usefixtures("core")
async def test_undo_walks_back_every_kind_of_change() -> None:
    leader, songs, _ = await band_with_songs("Undo")
    setlist_id = await new_setlist(leader, "Before")
    a = await apply_op(leader, setlist_id, Op.insert_song(songs[0], notes="intro"))
    b = await apply_op(leader, setlist_id, Op.insert_song(songs[1]))
    await apply_op(leader, setlist_id, Op.insert_break("Encore"))
    snapshots = [await _ids(leader, setlist_id)]
    await apply_op(leader, setlist_id, Op.move(b.item_id or 0, index=0))
    snapshots.append(await _ids(leader, setlist_id))
    await apply_op(leader, setlist_id, Op.edit(a.item_id or 0, notes="drum intro", musical_key="F"))
    await apply_op(leader, setlist_id, Op.remove(a.item_id or 0))
    await apply_op(leader, setlist_id, Op.remove(a.item_id or 0))  # a no-op: undo skips it
    await apply_op(leader, setlist_id, Op.rename("After"))

    async def undo() -> setlists.OpResult | None:
        async with db.session() as session:
            return await setlists.undo(session, leader, setlist_id)

    assert (await undo()) is not None  # rename
    async with db.session() as session:
        assert (await setlists.get_setlist(session, leader, setlist_id)).name == "Before"
    await undo()  # the removal: the entry comes back under its id, where it was, with its note
    async with db.session() as session:
        back = {e.item_id: e for e in await setlists.entries(session, leader, setlist_id)}[a.item_id or 0]
    assert (back.notes, back.musical_key) == ("drum intro", "F")
    assert await _ids(leader, setlist_id) == snapshots[1]
    await undo()  # the edit
    await undo()  # the move
    assert await _ids(leader, setlist_id) == snapshots[0]
    async with db.session() as session:
        back = {e.item_id: e for e in await setlists.entries(session, leader, setlist_id)}[a.item_id or 0]
        assert (back.notes, back.musical_key) == ("intro", None)
    for _ in range(3):
        assert (await undo()) is not None
    assert await _ids(leader, setlist_id) == []
    assert (await undo()) is None
    async with db.session() as session:
        recent = await setlists.history(session, leader, setlist_id, limit=3)
    assert recent[0].summary.startswith("Undid: Added") and recent[0].who == "Lead"
    assert [h.undone for h in recent] == [False, False, False]


@pytest.mark.usefixtures("core")
async def test_a_retried_operation_applies_once() -> None:
    leader, songs, _ = await band_with_songs("Retry")
    setlist_id = await new_setlist(leader)
    first = await apply_op(leader, setlist_id, Op.insert_song(songs[0], key="tap-1"))
    again = await apply_op(leader, setlist_id, Op.insert_song(songs[0], key="tap-1"))
    assert again.replayed and (again.version, again.item_id) == (first.version, first.item_id)
    assert await _labels(leader, setlist_id) == ["Retry song 1"]


@pytest.mark.usefixtures("core")
async def test_duplicate_rename_delete_and_the_list_topic() -> None:
    leader, songs, _ = await band_with_songs("Lists")
    heard: list[Event] = []
    hub.subscribe(leader.band_id, setlists.LIST_TOPIC, heard.append)
    setlist_id = await new_setlist(leader, "Friday")
    await apply_op(leader, setlist_id, Op.insert_break("Set 1"))
    await apply_op(leader, setlist_id, Op.insert_song(songs[0], musical_key="Eb", notes="count 4"))
    async with db.session() as session:
        copy = await setlists.duplicate_setlist(session, leader, setlist_id)
        assert copy.id
    assert copy.name == "Friday (copy)"
    async with db.session() as session:
        copied = await setlists.entries(session, leader, copy.id)
        assert [(e.label, e.musical_key, e.notes) for e in copied] == [("Set 1", None, ""),
                                                                       ("Lists song 1", "E♭", "count 4")]
        assert await setlists.ops_since(session, leader, copy.id) == []
        await setlists.rename_setlist(session, leader, copy.id, "Saturday")
    async with db.session() as session:
        await setlists.delete_setlist(session, leader, setlist_id)
    await hub.drain()
    async with db.session() as session:
        assert [s.name for s in await setlists.list_setlists(session, leader)] == ["Saturday"]
        with pytest.raises(NotFound):
            await setlists.get_setlist(session, leader, setlist_id)
        assert (await session.exec(select(SetlistOp).where(SetlistOp.setlist_id == setlist_id))).all() == []
    assert [e.payload["setlist"] for e in heard] == [setlist_id, copy.id, copy.id, setlist_id]


@pytest.mark.usefixtures("core")
async def test_running_time_uses_typed_song_and_recording_durations() -> None:
    leader, songs, _ = await band_with_songs("Times", songs=3)
    async with db.session() as session:
        song = await session.get(Song, songs[1])
        assert song is not None
        song.duration_seconds = 180
        session.add(song)
        session.add(AudioTrack(band_id=leader.band_id, song_id=songs[2], source_file_id="x", file_name="x.mp3",
                               duration_seconds=300))
    setlist_id = await new_setlist(leader)
    await apply_op(leader, setlist_id, Op.insert_song(songs[0], duration_seconds=200))
    await apply_op(leader, setlist_id, Op.insert_break("Set 2"))
    await apply_op(leader, setlist_id, Op.insert_song(songs[1]))
    await apply_op(leader, setlist_id, Op.insert_song(songs[2]))
    async with db.session() as session:
        listed = await setlists.entries(session, leader, setlist_id)
        _, pages = await setlist_plan.print_sets(session, leader, setlist_id)
    assert [e.duration_seconds for e in listed if not e.is_break] == [200, 180, 300]
    assert [(s.label, s.seconds) for s in sets_of(listed)] == [("Set 1", 200), ("Set 2", 480)]
    assert [(p.label, [s.label for s in p.songs]) for p in pages] == [
        ("Set 1", ["Times song 1"]), ("Set 2", ["Times song 2", "Times song 3"])]


def _replay(ops: list[SetlistOp]) -> list[int]:
    """The order the recorded history implies, applying each op with the same placement rules, in version order."""
    order: list[int] = []
    for op in ops:
        data = op.data
        spec = Op.from_json(data["op"])
        if not op.effective:
            continue
        if spec.kind == "insert":
            order.insert(target_index(order, spec.after_id, spec.index), data["item_id"])
        elif spec.kind == "remove":
            order.remove(spec.item_id)
        elif spec.kind == "move":
            order.remove(spec.item_id)
            order.insert(target_index(order, spec.after_id, spec.index), spec.item_id)
    return order


async def _worker(url: str, token: str, setlist_id: int, name: str, seed: int, count: int) -> None:
    db.configure(url)
    configure_hub(url)  # with PostgreSQL, this process's edits reach the test's listeners
    await hub.start()
    async with db.session() as session:
        actor = await auth.resolve(session, token)
        songs = [s for s in (await session.exec(select(Song.id).where(Song.band_id == actor.band_id))).all()]
    rng = random.Random(seed)
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    for n in range(count):
        async with db.session() as session:
            seen = [e.item_id for e in await setlists.entries(session, actor, setlist_id)]  # soon stale
        key = f"{name}-{n}"
        pick = rng.random()
        if pick < 0.3 or len(seen) < 3:
            op = Op.insert_song(rng.choice(songs), after_id=rng.choice([None, *seen]),
                                index=rng.randrange(len(seen) + 1), key=key)
        elif pick < 0.55:
            op = Op.move(rng.choice(seen), after_id=rng.choice([None, *seen]), index=rng.randrange(len(seen) + 1),
                         key=key)
        elif pick < 0.75:
            op = Op.remove(rng.choice(seen), key=key)
        elif pick < 0.9:
            op = Op.edit(rng.choice(seen), notes=f"{name} {n}", key=key)
        else:
            op = None
        async with db.session() as session:
            if op is None:
                await setlists.undo(session, actor, setlist_id, key=key)
            else:
                await setlists.apply_op(session, actor, setlist_id, op)
    await hub.stop()
    await db.dispose()
    print("done", flush=True)


async def _start_worker(url: str, token: str, setlist_id: int, name: str, seed: int, count: int
                        ) -> asyncio.subprocess.Process:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.test_setlists_ops", url, token, str(setlist_id), name, str(seed), str(count),
        cwd=str(REPO), stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT)
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), timeout=60)
    assert line.strip() == b"ready", line + await process.stdout.read()
    return process


class _Client:
    """A page showing the setlist: on every event it re-reads and keeps the newest version's order."""

    def __init__(self, events: EventHub, leader: Actor, setlist_id: int) -> None:
        self.leader, self.setlist_id = leader, setlist_id
        self.version, self.order = -1, []  # type: ignore[var-annotated]
        self.changed = asyncio.Event()
        self.tasks: set[asyncio.Task[None]] = set()
        events.subscribe(leader.band_id, setlists.topic(setlist_id), self.heard)

    def heard(self, event: Event) -> None:
        task = asyncio.get_running_loop().create_task(self.refresh())
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def refresh(self) -> None:
        async with db.session() as session:
            setlist = await setlists.get_setlist(session, self.leader, self.setlist_id)
            listed = await setlists.entries(session, self.leader, self.setlist_id)
        if setlist.version > self.version:
            self.version, self.order = setlist.version, [e.item_id for e in listed]
            self.changed.set()

    async def reaches(self, version: int) -> None:
        while self.version < version:
            self.changed.clear()
            await self.changed.wait()


@pytest.mark.usefixtures("core")
async def test_two_processes_editing_at_once_apply_every_operation_once_in_one_order(database_url: str) -> None:
    leader, songs, token = await band_with_songs("Race", songs=6)
    setlist_id = await new_setlist(leader)
    for song in songs[:4]:
        await apply_op(leader, setlist_id, Op.insert_song(song))
    postgres = database_url.startswith("postgresql")
    listeners = [EventHub() for _ in range(2)] if postgres else [hub, hub]
    for listener in listeners if postgres else []:
        listener.use_transport(PgNotifyTransport(asyncpg_dsn(database_url)))
        await listener.start()
    clients = [_Client(listener, leader, setlist_id) for listener in listeners]
    count = 40
    try:
        workers = [await _start_worker(database_url, token, setlist_id, name, seed, count)
                   for name, seed in (("alice", 1), ("bob", 2))]
        for worker in workers:
            assert worker.stdin is not None
            worker.stdin.write(b"go\n")
            await worker.stdin.drain()
        outputs = [await asyncio.wait_for(worker.communicate(), timeout=120) for worker in workers]
        for worker, (out, _) in zip(workers, outputs, strict=True):
            assert worker.returncode == 0 and out.strip().endswith(b"done"), out.decode()
        if not postgres:  # the workers' events stayed in their processes: one more edit here tells the pages
            await apply_op(leader, setlist_id, Op.insert_break("Encore"))
        async with db.session() as session:
            history = await setlists.ops_since(session, leader, setlist_id)
            final = [e.item_id for e in await setlists.entries(session, leader, setlist_id)]
            version = (await setlists.get_setlist(session, leader, setlist_id)).version
        await asyncio.wait_for(asyncio.gather(*(c.reaches(version) for c in clients)), timeout=30)
    finally:
        for listener in listeners if postgres else []:
            await listener.stop()
    assert [op.version for op in history] == list(range(1, version + 1))  # one order, no fork, no gap
    keys = [op.op_key for op in history if op.op_key]
    expected = [f"{name}-{n}" for name in ("alice", "bob") for n in range(count)]
    assert sorted(keys) == sorted(expected)  # each operation exactly once
    assert len(history) == 4 + 2 * count + (0 if postgres else 1)
    names = [op.op_key.split("-")[0] for op in history if op.op_key]
    assert any(a != b for a, b in itertools.pairwise(names)), "the two processes never interleaved"
    assert _replay(history) == final  # the recorded order of operations explains the final list
    assert [c.order for c in clients] == [final, final]  # every page ends on the same list
    assert len(set(final)) == len(final)


if __name__ == "__main__":
    _url, _token, _setlist, _name, _seed, _count = sys.argv[1:7]
    asyncio.run(_worker(_url, _token, int(_setlist), _name, int(_seed), int(_count)))
