"""The domain as tables. Every band-owned row carries ``band_id`` so each query can be scoped to one band.

Times are stored as UTC and always come back timezone-aware (SQLite forgets the zone; ``UTCDateTime``
restores it), so comparisons never mix naive and aware values.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import JSON, Column, Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """A timestamp that is UTC-aware on the way in and on the way out, on SQLite and PostgreSQL alike."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime; use an aware UTC datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _ts(**kwargs: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kwargs)


class Role(StrEnum):
    LEADER = "leader"
    MEMBER = "member"
    SUB = "sub"  # a substitute for one gig: sees that gig and its setlist in their part, until ``expires_at``


class ChartStatus(StrEnum):
    OK = "ok"
    UNSORTED = "unsorted"  # understood as a file, but not which song or part: a leader assigns it
    BROKEN = "broken"  # cannot be used; ``problem`` says why in plain words


class Band(SQLModel, table=True):
    __tablename__ = "band"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120)
    timezone: str = Field(default="UTC", max_length=64)
    created_at: datetime = _ts(default_factory=utcnow)


class User(SQLModel, table=True):
    __tablename__ = "user_account"
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=320, unique=True, index=True)  # stored lower-case
    name: str = Field(default="", max_length=120)
    oidc_subject: str | None = Field(default=None, max_length=255, unique=True)
    is_demo: bool = False
    night_mode: bool = False  # the stand's light-on-dark reading, the same on every instance and device
    created_at: datetime = _ts(default_factory=utcnow)


class Membership(SQLModel, table=True):
    """A person in a band. ``instruments``: ordered, primary first, e.g. [{"instrument": "trumpet", "chair": 2}].

    ``reading``: how they like to read on an instrument that offers a choice (``parts.reading_choices``), e.g.
    {"bass": "chords"}; an instrument not named reads the default way.
    """

    __tablename__ = "membership"
    __table_args__ = (sa.UniqueConstraint("band_id", "user_id", name="uq_membership_band_user"),)
    id: int | None = Field(default=None, primary_key=True)
    band_id: int = Field(foreign_key="band.id", index=True, ondelete="CASCADE")
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    role: str = Field(default=Role.MEMBER, max_length=16)
    instruments: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    reading: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = _ts(default_factory=utcnow)
    # A substitute's scope: the one gig they play (their membership goes with it) and when their access ends.
    gig_id: int | None = Field(default=None, foreign_key="gig.id", ondelete="CASCADE")
    expires_at: datetime | None = _ts(default=None)


class AuthSession(SQLModel, table=True):
    """Server-side half of a sign-in; the cookie carries only a random token whose hash is ``token_hash``."""

    __tablename__ = "auth_session"
    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    band_id: int | None = Field(default=None, foreign_key="band.id", ondelete="SET NULL")  # the band in view
    created_at: datetime = _ts(default_factory=utcnow)
    last_seen_at: datetime = _ts(default_factory=utcnow)
    expires_at: datetime = _ts()
    revoked_at: datetime | None = _ts(default=None)
    user_agent: str = Field(default="", max_length=300)


class LibrarySource(SQLModel, table=True):
    """Where one band's charts come from. Belongs to that band alone; credentials are encrypted at rest."""

    __tablename__ = "library_source"
    id: int | None = Field(default=None, primary_key=True)
    band_id: int = Field(foreign_key="band.id", unique=True, ondelete="CASCADE")
    kind: str = Field(max_length=16)  # "local" | "drive"
    location: str = Field(max_length=1024)  # folder path, or Drive folder id
    credentials_enc: str | None = Field(default=None, sa_type=sa.Text)
    state: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    last_sync_at: datetime | None = _ts(default=None)
    last_error: str | None = Field(default=None, max_length=1000)
    # A Drive folder must be proven to be the band's (see services/library_source.py): how ("account": read with
    # the leader's own grant; "leader": the leader's Google account sees it; "file": the band's verification file is
    # in it) and when. None = connected before proofs existed: it keeps syncing and its leader is asked to verify.
    proof: str | None = Field(default=None, max_length=16)
    verified_at: datetime | None = _ts(default=None)
    # The Drive folder's ancestors as Drive reported their ``parents`` (nearest first), to refuse a folder inside or
    # above another band's.
    ancestry: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class Song(SQLModel, table=True):
    __tablename__ = "song"
    __table_args__ = (
        sa.UniqueConstraint("band_id", "song_key", name="uq_song_band_key"),
        sa.Index("ix_song_band_search", "band_id", "search_key"),  # a page of the band's songs, read in title order
        # LIKE '%word%' over the folded title: a trigram index on PostgreSQL (pg_trgm), a plain one on SQLite
        sa.Index("ix_song_search_key", "search_key", postgresql_using="gin",
                 postgresql_ops={"search_key": "gin_trgm_ops"}),
    )
    id: int | None = Field(default=None, primary_key=True)
    band_id: int = Field(foreign_key="band.id", index=True, ondelete="CASCADE")
    title: str = Field(max_length=300)
    song_key: str = Field(max_length=300)  # normalised grouping key from file names
    search_key: str = Field(default="", max_length=300)  # case- and accent-folded title
    title_locked: bool = False  # a leader renamed it: sync keeps the leader's title
    musical_key: str | None = Field(default=None, max_length=8)
    duration_seconds: int | None = None
    created_at: datetime = _ts(default_factory=utcnow)


class Chart(SQLModel, table=True):
    """One file of a song for one part. Unsorted and broken files are rows too, so nothing is silently lost."""

    __tablename__ = "chart"
    __table_args__ = (
        sa.UniqueConstraint("band_id", "source_file_id", name="uq_chart_band_file"),
        sa.Index("ix_chart_band_song", "band_id", "song_id"),
        sa.Index("ix_chart_band_part", "band_id", "part_key"),
    )
    id: int | None = Field(default=None, primary_key=True)
    band_id: int = Field(foreign_key="band.id", ondelete="CASCADE")
    song_id: int | None = Field(default=None, foreign_key="song.id", ondelete="SET NULL")
    source_file_id: str = Field(max_length=1024)
    file_name: str = Field(max_length=512)
    folder: str = Field(default="", max_length=1024)
    mime_type: str = Field(default="application/pdf", max_length=128)
    kind: str = Field(default="chart", max_length=16)  # chart (PDF) | notation | chordpro
    checksum: str = Field(default="", max_length=128, index=True)
    size: int = 0
    part_key: str | None = Field(default=None, max_length=64)
    page_count: int = 0
    page_sizes: list[list[float]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))  # points
    # Where the music is on each page of a PDF ([left, top, right, bottom], fractions of the page, padded), measured
    # once from a low-resolution render (``rendering.ink_box``): the stand's automatic crop. [] until measured.
    page_crops: list[list[float]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    pdf_title: str | None = Field(default=None, max_length=300)  # the file's own title (PDF metadata, MusicXML...)
    # MusicXML and ChordPro files are engraved for every part they can serve: those part keys (empty for a PDF),
    # and the concert key the file is written in ("Bb", "Gm"; None when the file doesn't say and it can't be told).
    parts: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    source_key: str | None = Field(default=None, max_length=8)
    status: str = Field(default=ChartStatus.OK, max_length=16)
    problem: str | None = Field(default=None, max_length=500)
    # A leader's correction (title, part, chair, "a score", "a lyrics sheet"): ``song_id`` and ``part_key`` are the
    # leader's and sync never overrides them, through renames and moves too. ``parsed_part_key`` is what the file
    # itself says (its name, else a MusicXML file's own staves), refreshed by every sync: what undoing goes back to.
    manual: bool = False
    parsed_part_key: str | None = Field(default=None, max_length=64)
    modified_at: datetime | None = _ts(default=None)
    synced_at: datetime = _ts(default_factory=utcnow)


class AudioTrack(SQLModel, table=True):
    __tablename__ = "audio_track"
    __table_args__ = (sa.UniqueConstraint("band_id", "source_file_id", name="uq_audio_band_file"),)
    id: int | None = Field(default=None, primary_key=True)
    band_id: int = Field(foreign_key="band.id", index=True, ondelete="CASCADE")
    song_id: int | None = Field(default=None, foreign_key="song.id", index=True, ondelete="SET NULL")
    source_file_id: str = Field(max_length=1024)
    file_name: str = Field(max_length=512)
    mime_type: str = Field(default="audio/mpeg", max_length=128)
    checksum: str = Field(default="", max_length=128)
    size: int = 0
    duration_seconds: int | None = None
    manual: bool = False
    synced_at: datetime = _ts(default_factory=utcnow)


class MemberSongPref(SQLModel, table=True):
    """A member's own way of reading one song's generated part: another written key, an octave up or down."""

    __tablename__ = "member_song_pref"
    __table_args__ = (sa.UniqueConstraint("membership_id", "song_id", name="uq_member_song_pref"),)
    id: int | None = Field(default=None, primary_key=True)
    band_id: int = Field(foreign_key="band.id", index=True, ondelete="CASCADE")
    membership_id: int = Field(foreign_key="membership.id", ondelete="CASCADE")
    song_id: int = Field(foreign_key="song.id", index=True, ondelete="CASCADE")
    musical_key: str | None = Field(default=None, max_length=8)  # the written key of my part; None: as engraved
    octave_shift: int = 0  # -2..+2 after the automatic octave choice
    updated_at: datetime = _ts(default_factory=utcnow)


class CropMode(StrEnum):
    AUTO = "auto"  # the chart's measured ink box, page by page
    OFF = "off"  # the whole page, as printed
    MANUAL = "manual"  # the member's own margins, the same on every page


class StandCrop(SQLModel, table=True):
    """A member's crop for one chart on the stand, when it isn't the automatic one: theirs on every device."""

    __tablename__ = "stand_crop"
    __table_args__ = (sa.UniqueConstraint("membership_id", "chart_id", name="uq_stand_crop_member_chart"),)
    id: int | None = Field(default=None, primary_key=True)
    band_id: int = Field(foreign_key="band.id", index=True, ondelete="CASCADE")
    membership_id: int = Field(foreign_key="membership.id", ondelete="CASCADE")
    chart_id: int = Field(foreign_key="chart.id", index=True, ondelete="CASCADE")
    mode: str = Field(default=CropMode.AUTO, max_length=8)  # CropMode
    margins: list[float] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))  # manual: l, t, r, b
    updated_at: datetime = _ts(default_factory=utcnow)


class Setlist(SQLModel, table=True):
    __tablename__ = "setlist"
    id: int | None = Field(default=None, primary_key=True)
    band_id: int = Field(foreign_key="band.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=120)
    version: int = 0  # bumped by every applied operation: the server's single order of edits
    created_at: datetime = _ts(default_factory=utcnow)
    updated_at: datetime = _ts(default_factory=utcnow)


class SetlistItem(SQLModel, table=True):
    """An entry in a setlist: a song, or a set break (``song_id`` empty, ``label`` "Set 2")."""

    __tablename__ = "setlist_item"
    __table_args__ = (sa.Index("ix_setlist_item_order", "setlist_id", "position"),)
    id: int | None = Field(default=None, primary_key=True)
    setlist_id: int = Field(foreign_key="setlist.id", ondelete="CASCADE")
    band_id: int = Field(foreign_key="band.id", index=True, ondelete="CASCADE")
    position: int = 0
    song_id: int | None = Field(default=None, foreign_key="song.id", ondelete="SET NULL")
    is_break: bool = False
    label: str = Field(default="", max_length=120)
    notes: str = Field(default="", max_length=500)
    musical_key: str | None = Field(default=None, max_length=8)  # the key the band plays it in tonight
    duration_seconds: int | None = None


class Gig(SQLModel, table=True):
    __tablename__ = "gig"
    __table_args__ = (sa.Index("ix_gig_band_start", "band_id", "starts_at"),)
    id: int | None = Field(default=None, primary_key=True)
    band_id: int = Field(foreign_key="band.id", ondelete="CASCADE")
    title: str = Field(max_length=200)
    starts_at: datetime = _ts()  # downbeat
    load_in_at: datetime | None = _ts(default=None)
    venue: str = Field(default="", max_length=200)
    address: str = Field(default="", max_length=300)
    dress_code: str = Field(default="", max_length=200)
    notes: str = Field(default="", max_length=2000)
    setlist_id: int | None = Field(default=None, foreign_key="setlist.id", ondelete="SET NULL")
    created_at: datetime = _ts(default_factory=utcnow)
    ends_at: datetime | None = _ts(default=None)  # the last note; calendars show 3 hours when empty
    history_recorded_at: datetime | None = _ts(default=None)  # when what was played went into ``performance``


class Invite(SQLModel, table=True):
    """A way into a band: a link (token, optionally tied to one email) or an email added by a leader.

    Only the token's hash is stored; the link itself is shown to the leader once. Expiring and revocable.
    """

    __tablename__ = "invite"
    id: int | None = Field(default=None, primary_key=True)
    band_id: int = Field(foreign_key="band.id", index=True, ondelete="CASCADE")
    token_hash: str | None = Field(default=None, max_length=64, unique=True)  # None for an email-only invite
    email: str | None = Field(default=None, max_length=320, index=True)  # lower-case; None = anyone with the link
    role: str = Field(default=Role.MEMBER, max_length=16)
    created_by: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    created_at: datetime = _ts(default_factory=utcnow)
    expires_at: datetime = _ts()
    revoked_at: datetime | None = _ts(default=None)
    uses: int = 0


class SetlistOp(SQLModel, table=True):
    """One applied edit of a setlist, in the server's single order (``version``): the history undo walks back.

    Every operation a leader sends gets a row, even one that found nothing to change (``effective`` false, e.g.
    removing an item someone else had just removed), so the history accounts for each operation exactly once.
    ``op_key`` is the sender's id for the operation: a retried request is recognised and not applied twice.
    """

    __tablename__ = "setlist_op"
    __table_args__ = (
        sa.UniqueConstraint("setlist_id", "version", name="uq_setlist_op_version"),
        sa.UniqueConstraint("setlist_id", "op_key", name="uq_setlist_op_key"),
    )
    id: int | None = Field(default=None, primary_key=True)
    band_id: int = Field(foreign_key="band.id", index=True, ondelete="CASCADE")
    setlist_id: int = Field(foreign_key="setlist.id", ondelete="CASCADE")
    version: int  # the setlist's version after this operation
    kind: str = Field(max_length=16)  # insert | move | remove | edit | rename | undo
    op_key: str | None = Field(default=None, max_length=64)
    effective: bool = True
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))  # op, result, inverse
    undo_of: int | None = Field(default=None, foreign_key="setlist_op.id", ondelete="SET NULL")
    undone: bool = False
    membership_id: int | None = Field(default=None, foreign_key="membership.id", ondelete="SET NULL")
    created_at: datetime = _ts(default_factory=utcnow)


class LiveSession(SQLModel, table=True):
    """A leader playing a setlist live: which entry is current. At most one open (``ended_at`` empty) per band.

    ``seq`` counts the leader's moves, so a follower who hears of moves out of order keeps the newest.
    With ``turn_pages`` (the leader's choice for this session, off by default) the followers' stands also turn to
    the leader's ``page`` of the current song.
    """

    __tablename__ = "live_session"
    id: int | None = Field(default=None, primary_key=True)
    band_id: int = Field(foreign_key="band.id", index=True, ondelete="CASCADE")
    setlist_id: int = Field(foreign_key="setlist.id", ondelete="CASCADE")
    gig_id: int | None = Field(default=None, foreign_key="gig.id", ondelete="SET NULL")
    started_by: int | None = Field(default=None, foreign_key="membership.id", ondelete="SET NULL")
    current_item_id: int | None = None  # no foreign key: an entry removed mid-gig leaves the live song in place
    seq: int = 0
    turn_pages: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})  # followers turn with
    page: int = Field(default=0, sa_column_kwargs={"server_default": "0"})  # the leader's page of the current song
    started_at: datetime = _ts(default_factory=utcnow)
    ended_at: datetime | None = _ts(default=None)


class LivePresence(SQLModel, table=True):
    """One open page of a member while the band may be live: connected or not, following the leader or not.

    Rows belong to the app instance that serves the page (``instance``), which refreshes ``seen_at``; rows of an
    instance that died stop counting once they are stale.
    """

    __tablename__ = "live_presence"
    id: int | None = Field(default=None, primary_key=True)
    band_id: int = Field(foreign_key="band.id", index=True, ondelete="CASCADE")
    membership_id: int = Field(foreign_key="membership.id", ondelete="CASCADE")
    client_key: str = Field(max_length=64, unique=True)
    instance: str = Field(max_length=64, index=True)
    following: bool = False
    connected: bool = True
    seen_at: datetime = _ts(default_factory=utcnow)


class GigAvailability(SQLModel, table=True):
    """A member's answer for one gig: yes, no or maybe."""

    __tablename__ = "gig_availability"
    __table_args__ = (sa.UniqueConstraint("gig_id", "membership_id", name="uq_gig_availability_member"),)
    id: int | None = Field(default=None, primary_key=True)
    band_id: int = Field(foreign_key="band.id", index=True, ondelete="CASCADE")
    gig_id: int = Field(foreign_key="gig.id", ondelete="CASCADE")
    membership_id: int = Field(foreign_key="membership.id", ondelete="CASCADE")
    status: str = Field(max_length=8)  # yes | no | maybe
    updated_at: datetime = _ts(default_factory=utcnow)


class CalendarFeed(SQLModel, table=True):
    """A member's private iCalendar feed: the secret lives only in the URL; the database keeps its SHA-256."""

    __tablename__ = "calendar_feed"
    id: int | None = Field(default=None, primary_key=True)
    band_id: int = Field(foreign_key="band.id", index=True, ondelete="CASCADE")
    membership_id: int = Field(foreign_key="membership.id", index=True, ondelete="CASCADE")
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = _ts(default_factory=utcnow)
    revoked_at: datetime | None = _ts(default=None)
    last_used_at: datetime | None = _ts(default=None)


class Performance(SQLModel, table=True):
    """A song the band played: at a gig (its setlist when the gig was over) or called in live mode."""

    __tablename__ = "performance"
    __table_args__ = (sa.Index("ix_performance_band_song", "band_id", "song_id", "played_at"),)
    id: int | None = Field(default=None, primary_key=True)
    band_id: int = Field(foreign_key="band.id", ondelete="CASCADE")
    song_id: int | None = Field(default=None, foreign_key="song.id", ondelete="SET NULL")
    title: str = Field(max_length=300)  # as it was called that night
    gig_id: int | None = Field(default=None, foreign_key="gig.id", ondelete="SET NULL")
    live_session_id: int | None = Field(default=None, foreign_key="live_session.id", ondelete="SET NULL")
    position: int = 0
    played_at: datetime = _ts(default_factory=utcnow)


class RateLimit(SQLModel, table=True):
    """One fixed-window rate-limit counter, for several instances sharing PostgreSQL and no Redis
    (``soleil_ui.ratelimit_sql``). Expired rows are reused by the next hit and swept hourly."""

    __tablename__ = "rate_limit"
    key: str = Field(max_length=255, primary_key=True)
    count: int = 0
    expires_at: float = Field(index=True)  # seconds since the epoch, as the limits library counts


class PrepareRequest(SQLModel, table=True):
    """A leader's standing "get this set ready offline" to every member's device (``services.prepare``): one per
    setlist, replaced when asked again, gone with the setlist; devices opened later read it from ``/pwa/scope``."""

    __tablename__ = "prepare_request"
    id: int | None = Field(default=None, primary_key=True)
    band_id: int = Field(foreign_key="band.id", index=True, ondelete="CASCADE")
    setlist_id: int = Field(foreign_key="setlist.id", unique=True, index=True, ondelete="CASCADE")
    audio: bool = False
    asked_by: str = Field(default="", max_length=120)
    asked_at: datetime = _ts(default_factory=utcnow)


class SyncState(SQLModel, table=True):
    """A band's library sync as a leader watches it (``services.sync.SyncProgress.as_payload``), written when its
    phase changes, so a page served by any instance shows the sync another instance runs."""

    __tablename__ = "sync_state"
    band_id: int = Field(foreign_key="band.id", primary_key=True, ondelete="CASCADE")
    progress: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = _ts(default_factory=utcnow)


class ApiToken(SQLModel, table=True):
    """A personal access token for the JSON API and the MCP server: one member, one band, read or write.

    Only the secret's SHA-256 is stored (the secret is shown once); ``prefix`` is its first characters, so a member
    can tell their tokens apart. The row goes with the membership (``ondelete``), and ``tokens.resolve`` refuses it
    once the membership has expired (a substitute's gig is over), it is revoked, or its own expiry has passed.
    """

    __tablename__ = "api_token"
    id: int | None = Field(default=None, primary_key=True)
    band_id: int = Field(foreign_key="band.id", index=True, ondelete="CASCADE")
    membership_id: int = Field(foreign_key="membership.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=80)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    prefix: str = Field(max_length=16)
    scope: str = Field(default="read", max_length=8)  # read | write (leaders)
    created_at: datetime = _ts(default_factory=utcnow)
    expires_at: datetime = _ts()
    last_used_at: datetime | None = _ts(default=None)
    revoked_at: datetime | None = _ts(default=None)


class StoredObject(SQLModel, table=True):
    """A library file in the shared object store: the source's checksum (Drive's md5, a local sha256) to the SHA-256
    of the bytes that name the object. ``touched_at`` is when a sync last wrote or asked for it: collection only takes
    objects no chart or track refers to *and* untouched for the grace period (``soleil_ui.objectstore``)."""

    __tablename__ = "stored_object"
    checksum: str = Field(primary_key=True, max_length=128)
    sha256: str = Field(max_length=64, index=True)
    size: int = 0
    touched_at: datetime = _ts(default_factory=utcnow)


class RenderLease(SQLModel, table=True):
    """One instance's claim to render a page image that isn't in the shared store yet, so the others wait for its
    upload instead of rendering the same page and width again. Expires, so a crashed instance's claim passes on."""

    __tablename__ = "render_lease"
    key: str = Field(primary_key=True, max_length=255)
    holder: str = Field(max_length=64)
    expires_at: datetime = _ts()


class AnnotationLayer(StrEnum):
    MINE = "mine"  # only the author, on all their devices
    PART = "part"  # everyone reading this chart in this part (a section marks its cut once)
    BAND = "band"  # a leader's mark on one part, for everyone reading it
    SONG = "song"  # a leader's note on the song ("cut to letter C"): a line on every part's stand


class Annotation(SQLModel, table=True):
    """One immutable stroke on a chart page (pen, highlighter, text or stamp), made on a device that chose its id.

    Points are page coordinates normalised to 0..1 of the page (``[[x, y], …]``), so a mark sits at the same place
    whatever the zoom, screen or layout. A stroke is never edited: it is added (idempotently, by ``stroke_id``) or
    deleted, and a deletion is a tombstone (``deleted_at``) that wins over any add of the same id, earlier or later.
    ``chart_pages`` and ``chart_checksum`` are the chart's file as it was drawn on: a new file with another page
    count flags the mark "from an earlier version". ``author_id`` empties when the member is removed (their shared
    marks stay; their private ones are deleted with the membership, see ``services.annotations``).
    """

    __tablename__ = "annotation"
    __table_args__ = (
        sa.UniqueConstraint("band_id", "stroke_id", name="uq_annotation_band_stroke"),
        sa.Index("ix_annotation_chart_part_page", "band_id", "chart_id", "part_key", "page"),
        sa.Index("ix_annotation_song", "band_id", "song_id", "layer"),
    )
    id: int | None = Field(default=None, primary_key=True)
    band_id: int = Field(foreign_key="band.id", ondelete="CASCADE")
    stroke_id: str = Field(max_length=36)  # a UUID made on the device
    chart_id: int = Field(foreign_key="chart.id", ondelete="CASCADE")
    song_id: int | None = Field(default=None, foreign_key="song.id", ondelete="SET NULL")
    part_key: str = Field(default="", max_length=64)
    page: int = 0
    layer: str = Field(max_length=8)  # AnnotationLayer
    tool: str = Field(max_length=16)  # pen | highlighter | text | stamp
    color: str = Field(default="#000000", max_length=9)
    width: float = 0.003  # fraction of the page width
    points: list[list[float]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    text: str = Field(default="", max_length=200)  # a text mark's words, or a stamp's name
    author_id: int | None = Field(default=None, foreign_key="membership.id", index=True, ondelete="SET NULL")
    chart_pages: int = 0
    chart_checksum: str = Field(default="", max_length=128)
    created_at: datetime = _ts(default_factory=utcnow)
    deleted_at: datetime | None = _ts(default=None)
    deleted_by: int | None = Field(default=None, foreign_key="membership.id", ondelete="SET NULL")
