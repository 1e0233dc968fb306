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
    created_at: datetime = _ts(default_factory=utcnow)


class Membership(SQLModel, table=True):
    """A person in a band. ``instruments``: ordered, primary first, e.g. [{"instrument": "trumpet", "chair": 2}]."""

    __tablename__ = "membership"
    __table_args__ = (sa.UniqueConstraint("band_id", "user_id", name="uq_membership_band_user"),)
    id: int | None = Field(default=None, primary_key=True)
    band_id: int = Field(foreign_key="band.id", index=True, ondelete="CASCADE")
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    role: str = Field(default=Role.MEMBER, max_length=16)
    instruments: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime = _ts(default_factory=utcnow)


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


class Song(SQLModel, table=True):
    __tablename__ = "song"
    __table_args__ = (sa.UniqueConstraint("band_id", "song_key", name="uq_song_band_key"),)
    id: int | None = Field(default=None, primary_key=True)
    band_id: int = Field(foreign_key="band.id", index=True, ondelete="CASCADE")
    title: str = Field(max_length=300)
    song_key: str = Field(max_length=300)  # normalised grouping key from file names
    search_key: str = Field(default="", max_length=300, index=True)  # case- and accent-folded title
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
    pdf_title: str | None = Field(default=None, max_length=300)
    status: str = Field(default=ChartStatus.OK, max_length=16)
    problem: str | None = Field(default=None, max_length=500)
    manual: bool = False  # a leader assigned song/part by hand: sync never overrides it
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
