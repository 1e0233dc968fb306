"""DriveSource against a fake Drive v3 over real HTTP: the real google-api-python-client and google-auth do the
talking, so URL shapes, ``fields``, paging, auth and error bodies are exercised as they would be with Google."""

from __future__ import annotations

import hashlib
import json
import random
import urllib.error
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from google.oauth2 import service_account
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from soleil_ui.errors import ConfigError, Forbidden, InvalidInput, NotFound, UpstreamUnavailable
from soleil_ui.sources.base import ChartSource, SourceFile
from soleil_ui.sources.drive import (
    DriveAccessError,
    DriveSource,
    DriveState,
    RetryPolicy,
    parse_folder_id,
    service_account_credentials,
    user_credentials,
)
from tests.fakes.drive_server import GOOGLE_SHEET, FakeDrive, fake_pdf, write_service_account_json

FAST = RetryPolicy(max_tries=4, base_delay=0.001, max_delay=0.004)
SA_EMAIL = "band-sync@soleil-test.iam.gserviceaccount.com"
Ids = dict[str, str]
Upserts = set[tuple[tuple[str, ...], str]]


# --------------------------------------------------------------------------------------------------------------
# Fixtures: one fake Drive per test, one service-account key per module (RSA key generation is the slow part).


@pytest.fixture(scope="module")
def sa_key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sa") / "key.json"
    write_service_account_json(path, token_uri="http://127.0.0.1:9/unused", client_email=SA_EMAIL)
    return path


@pytest.fixture(scope="module")
def sa_credentials(sa_key: Path) -> service_account.Credentials:
    return service_account_credentials(str(sa_key))  # loading the key is slow; with_token_uri copies share it


@pytest.fixture
def fake(sa_key: Path):
    drive = FakeDrive(page_size_cap=3)
    drive.register_service_account(json.loads(sa_key.read_text()))
    with drive:
        yield drive


@pytest.fixture
def make_source(fake: FakeDrive, sa_credentials: service_account.Credentials) -> Callable[..., DriveSource]:
    credentials = sa_credentials.with_token_uri(fake.token_uri)

    def make(folder_id: str, **options) -> DriveSource:
        options.setdefault("retry", FAST)
        options.setdefault("timeout", 5.0)
        options.setdefault("credentials", credentials)
        return DriveSource(folder_id, api_endpoint=fake.base_url, **options)

    return make


def build_library(fake: FakeDrive) -> Ids:
    """Three levels of folders, more children than a page, a Doc, a Sheet, shortcuts (one a cycle), a trashed file."""
    ids: Ids = {}
    ids["root"] = root = fake.add_folder("Band charts")
    ids["score"] = fake.add_file("Score.pdf", root, b"%PDF score")
    ids["notes"] = fake.add_google_doc("Notes", root, "count-in: 4")
    ids["budget"] = fake.add_file("Budget", root, mime=GOOGLE_SHEET)
    ids["old"] = fake.add_file("Old.pdf", root, b"old")
    fake.trash(ids["old"])
    ids["horns"] = horns = fake.add_folder("Horns", root)
    ids["tp1"] = fake.add_file("Trumpet 1.pdf", horns, b"tp1")
    ids["tp2"] = fake.add_file("Trumpet 2.pdf", horns, b"tp2")
    ids["sax"] = sax = fake.add_folder("Sax", horns)
    ids["alto"] = fake.add_file("Alto.pdf", sax, b"alto")
    ids["tenor"] = fake.add_file("Tenor.pdf", sax, b"tenor")
    ids["bari_dir"] = bari = fake.add_folder("Bari", sax)
    ids["bari"] = fake.add_file("Bari.pdf", bari, b"bari")
    fake.add_shortcut("Back to the top", sax, root)  # a cycle: must not loop
    ids["rhythm"] = rhythm = fake.add_folder("Rhythm", root)
    for part in ("Piano", "Bass", "Drums", "Guitar"):
        ids[part.lower()] = fake.add_file(f"{part}.pdf", rhythm, part.encode())
    ids["outside"] = outside = fake.add_folder("Other stuff")  # shared with SOLEil too, but not the band folder
    ids["extras"] = extras = fake.add_folder("Shared extras", outside)
    ids["extra"] = fake.add_file("Extra.pdf", extras, b"extra")
    ids["vocals"] = fake.add_file("Vocals.pdf", outside, b"vocals")
    ids["extras_link"] = fake.add_shortcut("Extras", root, extras)
    ids["vocals_link"] = fake.add_shortcut("Vocals.pdf", root, ids["vocals"])
    return ids


LIBRARY = {
    ((), "Score.pdf"),
    ((), "Notes.pdf"),
    ((), "Vocals.pdf"),
    (("Horns",), "Trumpet 1.pdf"),
    (("Horns",), "Trumpet 2.pdf"),
    (("Horns", "Sax"), "Alto.pdf"),
    (("Horns", "Sax"), "Tenor.pdf"),
    (("Horns", "Sax", "Bari"), "Bari.pdf"),
    (("Rhythm",), "Piano.pdf"),
    (("Rhythm",), "Bass.pdf"),
    (("Rhythm",), "Drums.pdf"),
    (("Rhythm",), "Guitar.pdf"),
    (("Extras",), "Extra.pdf"),
}


def shape(files: list[SourceFile]) -> Upserts:
    return {(f.folder, f.name) for f in files}


# --------------------------------------------------------------------------------------------------------------
# Listing and fetching.


def test_lists_the_tree_recursively_across_pages(fake: FakeDrive, make_source) -> None:
    ids = build_library(fake)
    source = make_source(ids["root"])
    assert isinstance(source, ChartSource)

    files = {f.id: f for f in source.list_files()}

    assert shape(list(files.values())) == LIBRARY
    assert len(files) == len(LIBRARY)
    score, notes = files[ids["score"]], files[ids["notes"]]
    assert score.checksum == hashlib.md5(b"%PDF score").hexdigest()
    assert (score.mime_type, score.size) == ("application/pdf", len(b"%PDF score"))
    assert score.modified is not None and score.modified.tzinfo is not None
    assert (
        notes.mime_type == "application/pdf" and notes.checksum == f"{ids['notes']}:{fake.item(ids['notes']).version}"
    )
    assert ids["vocals"] in files and ids["extra"] in files  # shortcuts followed to their targets
    # 6 folders, three with more than a page of children (3 per page here): 10 pages; the root plus a shortcut target
    assert fake.requests["files.list"] == 10
    assert fake.requests["files.get"] == 2


def test_shared_drive_folder(fake: FakeDrive, make_source, sa_key: Path) -> None:
    drive = fake.add_shared_drive("Band drive")
    root = fake.add_folder("Charts", drive)
    fake.add_file("Score.pdf", root, b"score")
    fake.add_file("Alto.pdf", fake.add_folder("Sax", fake.add_folder("Horns", root)), b"alto")

    assert shape(make_source(root).list_files()) == {((), "Score.pdf"), (("Horns", "Sax"), "Alto.pdf")}
    # Without the all-drives flags Google (and the fake) shows nothing of a shared drive.
    raw = raw_client(fake, sa_key)
    assert raw.files().list(q=f"'{root}' in parents", fields="files(id)").execute()["files"] == []


def test_fetch_bytes_and_export_google_docs(fake: FakeDrive, make_source) -> None:
    ids = build_library(fake)
    source = make_source(ids["root"])
    assert source.fetch(ids["score"]) == b"%PDF score"
    assert source.fetch(ids["vocals"]) == b"vocals"

    # A source that never listed the folder learns from Drive's answer that a Doc must be exported.
    fresh = make_source(ids["root"])
    fake.reset_counters()
    assert fresh.fetch(ids["notes"]) == fake_pdf("Notes", "count-in: 4")
    assert (fake.requests["files.get_media"], fake.requests["files.export"]) == (1, 1)
    fake.reset_counters()
    assert fresh.fetch(ids["notes"]) == fake_pdf("Notes", "count-in: 4")
    assert (fake.requests["files.get_media"], fake.requests["files.export"]) == (0, 1)

    with pytest.raises(NotFound):
        source.fetch("1NoSuchFileAtAll0000000000000000")


def test_fetch_large_file_in_chunks(fake: FakeDrive, make_source) -> None:
    root = fake.add_folder("Charts")
    data = random.Random(1).randbytes(1024 * 1024 + 123)
    file_id = fake.add_file("Big score.pdf", root, data)
    source = make_source(root, chunk_size=256 * 1024)

    assert source.fetch(file_id) == data
    assert fake.requests["files.get_media"] == 5

    # Random 429/5xx/rate-limit 403s on the chunks: each chunk is retried on its own and the bytes still match.
    fake.reset_counters()
    fake.random_faults(0.4, seed=3, kinds=(429, 500, 503, 403), endpoint="files.get_media")
    patient = make_source(root, chunk_size=256 * 1024, retry=RetryPolicy(max_tries=10, base_delay=0, max_delay=0))
    assert patient.fetch(file_id) == data
    assert fake.requests["files.get_media"] > 5


# --------------------------------------------------------------------------------------------------------------
# The fake is as strict as Google.


def raw_client(fake: FakeDrive, sa_key: Path):
    credentials = service_account_credentials(str(sa_key), token_uri=fake.token_uri)
    return build(
        "drive",
        "v3",
        credentials=credentials,
        client_options={"api_endpoint": fake.base_url},
        static_discovery=True,
        cache_discovery=False,
    )


def test_a_listing_that_forgets_next_page_token_cannot_page(fake: FakeDrive, sa_key: Path) -> None:
    root = fake.add_folder("Charts")
    for n in range(7):
        fake.add_file(f"{n}.pdf", root, b"x")
    files = raw_client(fake, sa_key).files()
    query = f"'{root}' in parents and trashed = false"

    forgetful = files.list(q=query, fields="files(id, name)").execute()
    assert set(forgetful) == {"files"} and len(forgetful["files"]) == 3  # no token: the rest is silently lost

    careful = files.list(q=query, fields="nextPageToken, files(id, name)").execute()
    assert set(careful) == {"files", "nextPageToken"}


def test_unknown_parameters_and_fields_are_rejected(fake: FakeDrive, sa_key: Path) -> None:
    files = raw_client(fake, sa_key).files()
    request = files.list(q="trashed = false", fields="files(id)")
    request.uri += "&includeTrashed=true"  # the client itself refuses unknown keyword arguments
    with pytest.raises(HttpError) as bad_param:
        request.execute()
    assert bad_param.value.resp.status == 400 and bad_param.value.error_details[0]["reason"] == "invalidParameter"

    with pytest.raises(HttpError) as bad_field:
        files.list(fields="nextPageToken, files(id, md5)").execute()
    assert bad_field.value.resp.status == 400


def test_api_requires_a_bearer_token(fake: FakeDrive) -> None:
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(fake.base_url + "files?fields=files(id)", timeout=5)
    assert err.value.code == 401


# --------------------------------------------------------------------------------------------------------------
# The changes feed.


def _add_file(fake: FakeDrive, ids: Ids) -> tuple[Upserts, set[str]]:
    fake.add_file("Trumpet 3.pdf", ids["horns"], b"tp3")
    return {(("Horns",), "Trumpet 3.pdf")}, set()


def _rename_file(fake: FakeDrive, ids: Ids) -> tuple[Upserts, set[str]]:
    fake.rename(ids["tp1"], "Trumpet 1 (Bb).pdf")
    return {(("Horns",), "Trumpet 1 (Bb).pdf")}, set()


def _edit_content(fake: FakeDrive, ids: Ids) -> tuple[Upserts, set[str]]:
    fake.update_content(ids["score"], b"%PDF score, second edition")
    return {((), "Score.pdf")}, set()


def _edit_google_doc(fake: FakeDrive, ids: Ids) -> tuple[Upserts, set[str]]:
    fake.update_content(ids["notes"], b"count-in: 2")
    return {((), "Notes.pdf")}, set()


def _move_within_tree(fake: FakeDrive, ids: Ids) -> tuple[Upserts, set[str]]:
    fake.move(ids["tp1"], ids["rhythm"])
    return {(("Rhythm",), "Trumpet 1.pdf")}, set()


def _move_file_out(fake: FakeDrive, ids: Ids) -> tuple[Upserts, set[str]]:
    fake.move(ids["tp2"], ids["outside"])
    return set(), {ids["tp2"]}


def _trash_file(fake: FakeDrive, ids: Ids) -> tuple[Upserts, set[str]]:
    fake.trash(ids["alto"])
    return set(), {ids["alto"]}


def _delete_file(fake: FakeDrive, ids: Ids) -> tuple[Upserts, set[str]]:
    fake.delete(ids["tenor"])
    return set(), {ids["tenor"]}


def _new_subfolder_with_file(fake: FakeDrive, ids: Ids) -> tuple[Upserts, set[str]]:
    strings = fake.add_folder("Strings", ids["root"])
    fake.add_file("Violin.pdf", fake.add_folder("Violin", strings), b"violin")
    return {(("Strings", "Violin"), "Violin.pdf")}, set()


def _rename_folder(fake: FakeDrive, ids: Ids) -> tuple[Upserts, set[str]]:
    fake.rename(ids["sax"], "Saxes")
    return {
        (("Horns", "Saxes"), "Alto.pdf"),
        (("Horns", "Saxes"), "Tenor.pdf"),
        (("Horns", "Saxes", "Bari"), "Bari.pdf"),
    }, set()


def _move_folder_out(fake: FakeDrive, ids: Ids) -> tuple[Upserts, set[str]]:
    fake.move(ids["rhythm"], ids["outside"])
    return set(), {ids["piano"], ids["bass"], ids["drums"], ids["guitar"]}


def _trash_folder(fake: FakeDrive, ids: Ids) -> tuple[Upserts, set[str]]:
    fake.trash(ids["horns"])
    return set(), {ids["tp1"], ids["tp2"], ids["alto"], ids["tenor"], ids["bari"]}


def _move_folder_in(fake: FakeDrive, ids: Ids) -> tuple[Upserts, set[str]]:
    strings = fake.add_folder("Strings", ids["outside"])
    fake.add_file("Cello.pdf", fake.add_folder("Cello", strings), b"cello")
    fake.move(strings, ids["root"])
    return {(("Strings", "Cello"), "Cello.pdf")}, set()


def _add_shortcut(fake: FakeDrive, ids: Ids) -> tuple[Upserts, set[str]]:
    guest = fake.add_file("Guest solo.pdf", ids["outside"], b"guest")
    fake.add_shortcut("Guest solo.pdf", ids["horns"], guest)
    return {(("Horns",), "Guest solo.pdf")}, set()


def _new_folder_with_a_shortcut(fake: FakeDrive, ids: Ids) -> tuple[Upserts, set[str]]:
    guest = fake.add_file("Guest solo.pdf", ids["outside"], b"guest")
    guests = fake.add_folder("Guests", ids["outside"])
    fake.add_shortcut("Guest solo.pdf", guests, guest)
    fake.move(guests, ids["root"])
    return {(("Guests",), "Guest solo.pdf")}, set()


def _edit_shortcut_target(fake: FakeDrive, ids: Ids) -> tuple[Upserts, set[str]]:
    fake.update_content(ids["vocals"], b"vocals v2")
    return {((), "Vocals.pdf")}, set()


def _remove_folder_shortcut(fake: FakeDrive, ids: Ids) -> tuple[Upserts, set[str]]:
    fake.trash(ids["extras_link"])
    return set(), {ids["extra"]}


def _outside_and_unusable(fake: FakeDrive, ids: Ids) -> tuple[Upserts, set[str]]:
    fake.add_file("Not ours.pdf", ids["outside"], b"x")
    fake.add_file("Rota", ids["root"], mime=GOOGLE_SHEET)
    return set(), set()


def _burst(fake: FakeDrive, ids: Ids) -> tuple[Upserts, set[str]]:
    """Several edits in one poll window, in an order that makes the feed list a file before its folder moves."""
    new = fake.add_folder("New", ids["root"])
    fake.move(ids["tp1"], new)
    fake.add_file("Flute.pdf", new, b"flute")
    fake.rename(new, "Winds")
    fake.trash(ids["score"])
    fake.move(ids["bari_dir"], ids["rhythm"])
    return {(("Winds",), "Trumpet 1.pdf"), (("Winds",), "Flute.pdf"), (("Rhythm", "Bari"), "Bari.pdf")}, {ids["score"]}


SCENARIOS = [
    _add_file,
    _rename_file,
    _edit_content,
    _edit_google_doc,
    _move_within_tree,
    _move_file_out,
    _trash_file,
    _delete_file,
    _new_subfolder_with_file,
    _rename_folder,
    _move_folder_out,
    _trash_folder,
    _move_folder_in,
    _add_shortcut,
    _new_folder_with_a_shortcut,
    _edit_shortcut_target,
    _remove_folder_shortcut,
    _outside_and_unusable,
    _burst,
]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__.strip("_"))
def test_changes_since_reports_exactly_what_changed(fake: FakeDrive, make_source, scenario) -> None:
    ids = build_library(fake)
    source = make_source(ids["root"])
    files, state = source.snapshot()
    expected_upserts, expected_removed = scenario(fake, ids)
    fake.reset_counters()

    stored = DriveState.from_dict(json.loads(json.dumps(state.to_dict())))  # what the sync service keeps
    change = source.changes_since(stored)

    assert shape(change.upserts) == expected_upserts
    assert set(change.removed_ids) == expected_removed
    assert fake.requests["files.get_media"] + fake.requests["files.export"] == 0
    assert change.state.page_token == change.new_token != state.page_token
    # Patching the old listing with the change set gives exactly what a full listing says now.
    view = {f.id: f for f in files}
    for file_id in change.removed_ids:
        del view[file_id]
    view |= {f.id: f for f in change.upserts}
    assert view == {f.id: f for f in source.list_files()}
    # The state to persist is what a fresh snapshot would give (shortcut ids may linger: they only cost a re-list).
    fresh = source.snapshot()[1]
    assert (change.state.folders, change.state.files) == (fresh.folders, fresh.files)
    assert fresh.linked <= change.state.linked
    # Nothing is reported twice.
    again = source.changes_since(change.state)
    assert (again.upserts, again.removed_ids) == ([], [])


def test_an_unchanged_folder_costs_one_changes_request(fake: FakeDrive, make_source) -> None:
    ids = build_library(fake)
    source = make_source(ids["root"])
    _, state = source.snapshot()
    fake.reset_counters()

    change = source.changes_since(state)

    assert (change.upserts, change.removed_ids, change.new_token) == ([], [], state.page_token)
    assert dict(fake.requests) == {"changes.list": 1}


def test_changes_after_the_folder_is_unshared_raise_instead_of_removing_everything(
    fake: FakeDrive, make_source
) -> None:
    ids = build_library(fake)
    source = make_source(ids["root"])
    _, state = source.snapshot()
    fake.unshare(ids["root"])

    with pytest.raises(DriveAccessError) as err:
        source.changes_since(state)
    assert err.value.reason == "unshared"
    assert SA_EMAIL in err.value.user_message


# --------------------------------------------------------------------------------------------------------------
# Errors and retries.


@pytest.mark.parametrize(
    ("status", "reason"),
    [(429, None), (500, None), (503, None), (403, "rateLimitExceeded"), (403, "userRateLimitExceeded")],
)
def test_busy_answers_are_retried_with_backoff(fake: FakeDrive, make_source, status: int, reason: str | None) -> None:
    root = fake.add_folder("Charts")
    fake.add_file("Score.pdf", root, b"score")
    delays: list[float] = []
    source = make_source(root, sleep=delays.append)
    fake.fail_next(2, status, reason=reason, endpoint="files.list")

    assert shape(source.list_files()) == {((), "Score.pdf")}
    assert fake.requests["files.list"] == 3
    assert len(delays) == 2 and all(0 <= d <= FAST.max_delay for d in delays)


def test_persistent_503_gives_up_with_a_plain_message(fake: FakeDrive, make_source) -> None:
    root = fake.add_folder("Charts")
    source = make_source(root, sleep=lambda _: None)
    fake.fail_next(100, 503)

    with pytest.raises(UpstreamUnavailable) as err:
        source.list_files()
    assert err.value.user_message.startswith("Google Drive is busy")
    assert fake.api_requests() == FAST.max_tries


def test_other_403s_are_not_retried(fake: FakeDrive, make_source) -> None:
    root = fake.add_folder("Charts")
    file_id = fake.add_file("Score.pdf", root, b"score")
    fake.fail_next(1, 403, reason="insufficientFilePermissions", endpoint="files.get_media")

    with pytest.raises(DriveAccessError) as err:
        make_source(root).fetch(file_id)
    assert err.value.reason == "denied" and fake.requests["files.get_media"] == 1


def test_timeouts_are_retried_then_give_up(fake: FakeDrive, make_source) -> None:
    root = fake.add_folder("Charts")
    fake.add_file("Score.pdf", root, b"score")
    fake.timeout_next(1, 3.0, endpoint="files.list")
    assert shape(make_source(root, timeout=0.25).list_files()) == {((), "Score.pdf")}
    assert fake.requests["files.list"] == 2

    fake.reset_counters()
    fake.timeout_next(10, 3.0)
    impatient = make_source(root, timeout=0.25, retry=RetryPolicy(max_tries=2, base_delay=0, max_delay=0))
    with pytest.raises(UpstreamUnavailable):
        impatient.list_files()
    assert fake.api_requests() == 2


def test_revoked_grant_asks_the_leader_to_reconnect(fake: FakeDrive, make_source) -> None:
    root = fake.add_folder("Charts")
    source = make_source(root)
    source.list_files()
    fake.revoke_access()
    fake.reset_counters()

    with pytest.raises(DriveAccessError) as err:
        source.list_files()
    assert isinstance(err.value, Forbidden) and err.value.reason == "revoked"
    assert "reconnect Google Drive" in err.value.user_message
    assert fake.api_requests() == 1 and fake.requests["token"] == 1  # 401, one refresh attempt, no retries


def test_expired_access_tokens_are_refreshed_transparently(fake: FakeDrive, make_source) -> None:
    root = fake.add_folder("Charts")
    source = make_source(root)
    source.list_files()
    fake.expire_tokens()
    fake.reset_counters()

    assert source.list_files() == []
    assert fake.requests["token"] == 1 and fake.requests["files.get"] == 2  # a 401, a refresh, the same call again


def test_user_oauth_grant(fake: FakeDrive, make_source) -> None:
    root = fake.add_folder("Charts")
    fake.add_file("Score.pdf", root, b"score")
    fake.register_user("refresh-1", "client-1", "secret-1")

    good = user_credentials("refresh-1", "client-1", "secret-1", token_uri=fake.token_uri)
    assert shape(make_source(root, credentials=good).list_files()) == {((), "Score.pdf")}

    stale = user_credentials("refresh-revoked", "client-1", "secret-1", token_uri=fake.token_uri)
    with pytest.raises(DriveAccessError) as err:
        make_source(root, credentials=stale).list_files()
    assert err.value.reason == "revoked"
    with pytest.raises(DriveAccessError) as unshared:
        make_source("1NoSuchFolder0000000000000000000", credentials=good).list_files()
    assert "no longer shared" in unshared.value.user_message


def test_key_file_pointing_at_the_fake_and_a_foreign_key(fake: FakeDrive, make_source, tmp_path: Path) -> None:
    root = fake.add_folder("Charts")
    own = service_account_credentials(str(fake.create_service_account(tmp_path)))  # token_uri from the file
    assert make_source(root, credentials=own).list_files() == []

    foreign = tmp_path / "foreign.json"
    write_service_account_json(foreign, token_uri=fake.token_uri)  # a key the fake never saw: bad JWT signature
    with pytest.raises(DriveAccessError):
        make_source(root, credentials=service_account_credentials(str(foreign))).list_files()
    with pytest.raises(ConfigError):
        service_account_credentials(str(tmp_path / "missing.json"))


def test_unshared_or_trashed_folder(fake: FakeDrive, make_source) -> None:
    ids = build_library(fake)
    source = make_source(ids["root"])
    fake.trash(ids["root"])
    with pytest.raises(DriveAccessError, match="trash"):
        source.list_files()
    fake.untrash(ids["root"])
    fake.unshare(ids["root"])
    with pytest.raises(DriveAccessError) as err:
        source.list_files()
    assert err.value.reason == "unshared"
    assert f"Share it with {SA_EMAIL}" in err.value.user_message


def test_retry_policy_is_truncated_exponential_with_full_jitter() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=8.0)
    rng = random.Random(0)
    for failures, cap in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (9, 8.0)]:
        delays = [policy.delay(failures, rng) for _ in range(200)]
        assert all(0 <= d <= cap for d in delays)
        assert max(delays) > cap * 0.8  # full jitter spans the whole range


# --------------------------------------------------------------------------------------------------------------
# Concurrency.


def test_parallel_fetches_stay_within_the_band_limit(fake: FakeDrive, make_source) -> None:
    root = fake.add_folder("Charts")
    ids = [fake.add_file(f"{n}.pdf", root, f"part {n}".encode()) for n in range(24)]
    first, second = make_source(root, max_concurrent=3), make_source(root, max_concurrent=3)
    first.list_files()  # fetch the access token up front
    fake.latency = 0.03
    fake.reset_counters()

    with ThreadPoolExecutor(max_workers=12) as pool:
        results = list(pool.map(lambda i: (first if i % 2 else second).fetch(ids[i]), range(len(ids))))

    assert results == [f"part {n}".encode() for n in range(24)]
    assert fake.peak_in_flight == 3  # parallel, but never more than the band's limit


# --------------------------------------------------------------------------------------------------------------
# Folder links.


@pytest.mark.parametrize(
    "text",
    [
        "https://drive.google.com/drive/folders/1AbC_dEf-123456789xyz?usp=sharing",
        "https://drive.google.com/drive/u/0/folders/1AbC_dEf-123456789xyz",
        "https://drive.google.com/drive/mobile/folders/1AbC_dEf-123456789xyz?usp=drive_link",
        "drive.google.com/drive/folders/1AbC_dEf-123456789xyz",
        "https://drive.google.com/open?id=1AbC_dEf-123456789xyz",
        "  1AbC_dEf-123456789xyz  ",
    ],
)
def test_parse_folder_id_accepts_links_and_ids(text: str) -> None:
    assert parse_folder_id(text) == "1AbC_dEf-123456789xyz"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("https://drive.google.com/file/d/1AbC_dEf-123456789xyz/view", "single file"),
        ("https://example.com/drive/folders/1AbC_dEf-123456789xyz", "isn't a Google Drive folder link"),
        ("my charts", "isn't a Google Drive folder link"),
        ("", "isn't a Google Drive folder link"),
    ],
)
def test_parse_folder_id_rejects_other_text(text: str, says: str) -> None:
    with pytest.raises(InvalidInput) as err:
        parse_folder_id(text)
    assert says in err.value.user_message
