"""A Drive folder must be proven to be the band's before SOLEil reads it through the shared service account.

The real google-api-python-client talks to the fake Drive over HTTP; the fake answers per caller (the service
account sees what is shared with its email). Proofs: the band's verification file in the folder, or the leader's own
Google account seeing the folder (tests/test_drive_leader_proof.py, over OAuth). A folder that is, lies inside or holds
another band's folder is refused with a message that doesn't name that band.
"""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from soleil_ui.access import Actor
from soleil_ui.db import db
from soleil_ui.errors import Conflict, Forbidden, InvalidInput
from soleil_ui.models import Chart, LibrarySource, Role
from soleil_ui.services import library_source
from soleil_ui.services.library_source import IN_USE, verification_file_name
from soleil_ui.services.sync import sync_configured
from tests.fakes.drive_server import GOOGLE_SHEET, FakeDrive
from tests.library_helpers import FIXTURE_CHARTS, band_with_member

SA = "band-sync@soleil-test.iam.gserviceaccount.com"
TRUMPET = [{"instrument": "trumpet"}]


async def _leader(name: str) -> Actor:
    return await band_with_member(name, TRUMPET, role=Role.LEADER, email=f"{name.lower().replace(' ', '')}@x.org")


async def _connect(actor: Actor, folder: str) -> LibrarySource:
    async with db.session() as session:
        return await library_source.connect_drive(session, actor, folder)


async def _source(band_id: int) -> LibrarySource | None:
    async with db.session() as session:
        return (await session.exec(select(LibrarySource).where(LibrarySource.band_id == band_id))).first()


def _proven(fake: FakeDrive, actor: Actor, folder: str) -> None:
    fake.add_file(verification_file_name(actor.band_id), folder, b"", mime="text/plain")


async def test_a_folder_connects_once_the_band_verification_file_is_in_it(fake: FakeDrive, core: object) -> None:
    root = fake.add_folder("Our charts", shared_with=(SA,))
    fake.add_file("TakeFive_Bb.pdf", root, (FIXTURE_CHARTS / "TakeFive_Bb.pdf").read_bytes())
    band, other = await _leader("Band A"), await _leader("Band B")
    name = verification_file_name(band.band_id)
    assert name == verification_file_name(band.band_id) != verification_file_name(other.band_id)
    assert re.fullmatch(r"soleil-verify-[0-9a-f]{20}\.txt", name)

    with pytest.raises(InvalidInput) as missing:
        await _connect(band, f"https://drive.google.com/drive/folders/{root}")
    assert name in missing.value.user_message and missing.value.status_code == 422
    _proven(fake, other, root)  # another band's code proves nothing for this band
    fake.add_file(name, fake.add_folder("Horns", root), b"")  # nor the right name in a subfolder
    with pytest.raises(InvalidInput):
        await _connect(band, root)
    assert await _source(band.band_id) is None, "nothing is connected without proof"

    _proven(fake, band, root)
    await _connect(band, root)
    record = await _source(band.band_id)
    assert record is not None and (record.location, record.proof) == (root, "file")
    assert record.verified_at is not None and record.credentials_enc is None
    assert not library_source.needs_verification(record)
    assert (await sync_configured(band.band_id, prerender=False)).phase == "done"


async def test_a_folder_the_service_account_cannot_open_is_refused_with_what_to_do(
        fake: FakeDrive, core: object) -> None:
    hidden = fake.add_folder("Private", shared=False)
    band = await _leader("Band")
    with pytest.raises(Forbidden) as refused:
        await _connect(band, hidden)
    assert SA in refused.value.user_message and refused.value.status_code == 403
    assert await _source(band.band_id) is None


@pytest.mark.parametrize("synced", [False, True], ids=["before-its-first-sync", "after-a-sync"])
async def test_a_folder_another_band_uses_or_one_inside_or_above_it_is_refused(
        fake: FakeDrive, core: object, synced: bool, caplog: pytest.LogCaptureFixture) -> None:
    above = fake.add_folder("Everything", shared_with=(SA,))
    theirs = fake.add_folder("Band A charts", above)
    inside = fake.add_folder("Horns", theirs)
    deeper = fake.add_folder("Trumpets", inside)
    band_a, band_b = await _leader("Band A"), await _leader("Band B")
    _proven(fake, band_a, theirs)
    await _connect(band_a, theirs)
    if synced:
        await sync_configured(band_a.band_id, prerender=False)

    for folder in (theirs, inside, deeper, above):
        _proven(fake, band_b, folder)  # B may even write there: the folder is still A's
        with pytest.raises(Conflict) as refused:
            await _connect(band_b, folder)
        assert refused.value.user_message == IN_USE and refused.value.status_code == 409
        assert "Band A" not in refused.value.user_message
        assert await _source(band_b.band_id) is None
    assert f"band {band_b.band_id} asked to connect Drive folder" in caplog.text

    elsewhere = fake.add_folder("Band B charts", shared_with=(SA,))
    _proven(fake, band_b, elsewhere)
    assert (await _connect(band_b, elsewhere)).location == elsewhere


async def test_a_parent_shared_later_is_refused_from_below(fake: FakeDrive, core: object) -> None:
    """When A connected, the service account couldn't see above A's folder (no ancestry learned); the folder around
    it is shared with the service account later, and B tries it: the folders below B's folder give A's away."""
    above = fake.add_folder("Everything", shared=False)
    theirs = fake.add_folder("Band A charts", above)
    fake.share(theirs, SA)
    band_a, band_b = await _leader("Band A"), await _leader("Band B")
    _proven(fake, band_a, theirs)
    assert (await _connect(band_a, theirs)).ancestry == []
    fake.share(above, SA)
    _proven(fake, band_b, above)
    with pytest.raises(Conflict):
        await _connect(band_b, above)


async def test_an_existing_unverified_connection_keeps_syncing_and_asks_to_verify(
        fake: FakeDrive, core: object) -> None:
    root = fake.add_folder("Old charts", shared_with=(SA,))
    fake.add_file("TakeFive_Bb.pdf", root, (FIXTURE_CHARTS / "TakeFive_Bb.pdf").read_bytes())
    band, squatter = await _leader("Band"), await _leader("Squatter")
    async with db.session() as session:  # both connected before proofs existed (the migration leaves them unproven)
        for actor in (band, squatter):
            session.add(LibrarySource(band_id=actor.band_id, kind="drive", location=root))

    assert (await sync_configured(band.band_id, prerender=False)).phase == "done"
    async with db.session() as session:
        assert (await session.exec(select(Chart.file_name).where(Chart.band_id == band.band_id))).all() == [
            "TakeFive_Bb.pdf"]
    record = await _source(band.band_id)
    assert library_source.needs_verification(record)

    async with db.session() as session:
        with pytest.raises(InvalidInput) as missing:
            await library_source.verify_drive(session, band)
    assert verification_file_name(band.band_id) in missing.value.user_message
    _proven(fake, band, root)
    async with db.session() as session:  # the squatter's unproven connection doesn't block the band
        await library_source.verify_drive(session, band)
    record = await _source(band.band_id)
    assert record is not None and record.proof == "file" and not library_source.needs_verification(record)

    _proven(fake, squatter, root)  # now the folder is proven the band's: nobody else can verify it
    async with db.session() as session:
        with pytest.raises(Conflict):
            await library_source.verify_drive(session, squatter)
    assert library_source.needs_verification(await _source(squatter.band_id))


async def test_other_google_files_are_read_only_from_inside_the_verified_folder(
        fake: FakeDrive, core: object, caplog: pytest.LogCaptureFixture) -> None:
    ours = fake.add_folder("Our charts", shared_with=(SA,))
    nested_sheet = fake._add("Setlists", GOOGLE_SHEET, fake.add_folder("Admin", ours))
    theirs = fake.add_folder("Their charts", shared_with=(SA,))
    their_sheet = fake._add("Their setlists", GOOGLE_SHEET, theirs)
    fake.add_shortcut("Borrowed setlists", ours, their_sheet)
    band = await _leader("Band")

    async with db.session() as session:
        with pytest.raises(Forbidden):  # no verified folder yet
            await library_source.ensure_readable_by_band(session, band, nested_sheet)
    _proven(fake, band, ours)
    await _connect(band, ours)
    async with db.session() as session:
        await library_source.ensure_readable_by_band(session, band, nested_sheet)
        await library_source.ensure_readable_by_band(session, band, ours)
        for outside in (their_sheet, theirs, "1NoSuchFileAnywhere000"):  # a shortcut in our folder doesn't count
            with pytest.raises(Forbidden) as refused:
                await library_source.ensure_readable_by_band(session, band, outside)
            assert refused.value.status_code == 403
    assert f"band {band.band_id} asked to read Drive file {their_sheet}" in caplog.text


async def test_a_band_never_syncs_another_bands_proven_folder_through_a_shortcut_or_an_old_connection(
        fake: FakeDrive, core: object, caplog: pytest.LogCaptureFixture) -> None:
    """B proves its own folder, then puts shortcuts in it to A's folder and to a chart inside it; C connected A's
    folder itself before proofs existed. Once A proves the folder theirs, neither B nor C reads it any more."""
    theirs = fake.add_folder("Band A charts", shared_with=(SA,))
    fake.add_file("TakeFive_Bb.pdf", theirs, (FIXTURE_CHARTS / "TakeFive_Bb.pdf").read_bytes())
    their_chart = fake.add_file("All of Me - Eb.pdf", theirs, (FIXTURE_CHARTS / "All of Me - Eb.pdf").read_bytes())
    ours = fake.add_folder("Band B charts", shared_with=(SA,))
    fake.add_file("TakeFive_Eb.pdf", ours, (FIXTURE_CHARTS / "TakeFive_Eb.pdf").read_bytes())
    band_a, band_b, band_c = await _leader("Band A"), await _leader("Band B"), await _leader("Band C")
    async with db.session() as session:  # A and C connected A's folder before proofs existed
        session.add(LibrarySource(band_id=band_a.band_id, kind="drive", location=theirs))
        session.add(LibrarySource(band_id=band_c.band_id, kind="drive", location=theirs))
    _proven(fake, band_b, ours)
    await _connect(band_b, ours)
    fake.add_shortcut("Borrowed", ours, theirs)
    fake.add_shortcut("All of Me - Eb.pdf", ours, their_chart)

    async def files(band_id: int) -> set[str]:
        async with db.session() as session:
            return set((await session.exec(select(Chart.file_name).where(Chart.band_id == band_id))).all())

    for band in (band_a, band_b, band_c):
        assert (await sync_configured(band.band_id, prerender=False)).phase == "done"
    assert await files(band_b.band_id) == {"TakeFive_Eb.pdf", "TakeFive_Bb.pdf", "All of Me - Eb.pdf"}, \
        "while nobody has proven A's folder, the shortcuts are followed as before"

    _proven(fake, band_a, theirs)
    async with db.session() as session:
        await library_source.verify_drive(session, band_a)
    assert (await sync_configured(band_b.band_id, prerender=False)).phase == "done"
    assert await files(band_b.band_id) == {"TakeFive_Eb.pdf"}
    assert "points into another band's folder; not followed" in caplog.text
    stopped = await sync_configured(band_c.band_id, prerender=False)
    assert stopped.phase == "failed" and "couldn't be verified as the band's" in (stopped.error or "")
    assert (await sync_configured(band_a.band_id, prerender=False)).phase == "done"
    assert await files(band_a.band_id) == {"TakeFive_Bb.pdf", "All of Me - Eb.pdf"}
