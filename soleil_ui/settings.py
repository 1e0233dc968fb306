"""The one settings object. Every knob is an environment variable with the ``SOLEIL_`` prefix (or a ``.env`` line).

``get_settings()`` is cached; tests that change the environment call ``get_settings.cache_clear()``.
A bad value stops start-up with one line naming the variable (see ``load_settings``); a ``SOLEIL_`` name that is no
setting (a typo, most likely) is logged once and ignored.
"""

from __future__ import annotations

import difflib
import logging
import os
import secrets
import ssl
from functools import lru_cache
from pathlib import Path

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .errors import ConfigError

log = logging.getLogger(__name__)
ENV_PREFIX = "SOLEIL_"
ENV_FILE = ".env"
NOT_SETTINGS = {"SOLEIL_DOMAIN", "SOLEIL_CHROMIUM"}  # read by deploy/docker-compose.yml and the browser tests
GOOGLE_DISCOVERY_URL = "https://accounts.google.com/.well-known/openid-configuration"


class Settings(BaseSettings):
    """Everything an operator can set. Defaults give the embedded demo: SQLite under ./data, no Google."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_file=ENV_FILE, extra="ignore")

    data_dir: Path = Field(default=Path("data"), description="Where the database, caches and keys live.")
    database_url: str = Field(default="", description="sqlite+aiosqlite:///… or postgresql+asyncpg://…")
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    public_url: str = Field(default="", description="The address people use, e.g. https://band.example.org")
    secret_key: str = Field(default="", description="Signs sessions and encrypts secrets at rest.")
    tls_cert: Path | None = None
    tls_key: Path | None = None
    demo: bool | None = Field(default=None, description="Demo band and one-tap sign-in. Default: on without Google.")
    library_dir: Path | None = Field(default=None, description="The demo band's local folder of charts.")
    google_client_id: str = ""
    google_client_secret: str = ""
    oidc_metadata_url: str = GOOGLE_DISCOVERY_URL
    google_service_account_file: Path | None = None
    drive_api_endpoint: str = ""
    sheets_api_endpoint: str = Field(default="", description="The Google Sheets API base URL (tests: a local fake).")
    drive_retry_base_delay: float = Field(default=1.0, gt=0, le=60, description="First Drive retry backoff, seconds.")
    admin_emails: str = Field(default="", description="Comma-separated emails allowed to create bands in the web UI.")
    sync_interval: int = Field(default=300, ge=0, description="Seconds between scheduled library syncs; 0 = off.")
    page_cache_mb: int = Field(default=2048, ge=50, description="Disk budget for rendered page images.")
    engrave_cache_mb: int = Field(default=512, ge=20, description="Disk budget for engraved MusicXML/ChordPro parts.")
    # --- shared object store (README "Several instances"): chart files and page images in an S3-compatible bucket ---
    s3_endpoint: str = Field(default="", description="https://… of an S3-compatible service (MinIO, AWS, …); "
                             "empty: files stay in the data dir.")
    s3_bucket: str = Field(default="", description="A private bucket; SOLEIL serves its files after the band check.")
    s3_access_key: str = ""
    s3_secret_key: str = ""
    s3_region: str = Field(default="us-east-1", description="The bucket's region (MinIO ignores it).")
    store_cache_mb: int = Field(default=2048, ge=50, description="Disk budget for this instance's copies of stored "
                                "files (page images have their own, SOLEIL_PAGE_CACHE_MB).")
    # Phones sleep and venue Wi-Fi flaps: an open page's server state waits this long for its socket to come back
    # (missed messages are then replayed); after it, the page reloads. The heartbeat notices a dead link within
    # ping_interval + ping_timeout, on the server and in the browser.
    reconnect_timeout: float = Field(default=120.0, ge=2, le=3600, description="Seconds a page waits to reconnect.")
    ping_interval: float = Field(default=10.0, gt=0, le=300, description="Seconds between socket heartbeats.")
    ping_timeout: float = Field(default=10.0, gt=0, le=300, description="Seconds a heartbeat may go unanswered.")
    log_level: str = "INFO"
    gc_tuning: bool = Field(default=True, description="Freeze the start-up heap once started, so full "
                            "collections never walk it (soleil_ui.runtime.tune_collector); off only to measure it.")
    # --- abuse limits (README "Security"); limits' notation: "N/second|minute|hour|day", several joined by ";" ---
    trusted_proxies: str = Field(default="", description="Addresses or networks whose X-Forwarded-* headers count.")
    redis_url: str = Field(default="", description="redis://… : keep rate-limit counters in Redis (several instances).")
    rate_limit_storage: str = Field(default="", description="memory, database or redis; empty: redis with a "
                                    "SOLEIL_REDIS_URL, database with PostgreSQL, else memory.")
    limit_sign_in: str = Field(default="30/minute;300/hour", description="Sign-in starts, callbacks and demo sign-ins "
                               "per client address (each counted on its own).")
    limit_join: str = Field(default="60/minute", description="Invite-link joins, per address or per account.")
    limit_invites: str = Field(default="60/hour", description="Invites a leader creates, per account.")
    limit_media: str = Field(default="1200/minute", description="Page images, engraved pages and PDFs, per account.")
    limit_work: str = Field(default="120/minute", description="Other routes that build server work, per account.")
    limit_anonymous_pages: str = Field(default="120/minute", description="Pages opened while signed out, per address.")
    limit_api: str = Field(default="600/minute", description="JSON API and MCP requests, per token's account.")
    limit_annotations: str = Field(default="240/minute;3000/hour", description="Batches of marks sent from the "
                                   "stand's pencil, per account.")
    max_clients: int = Field(default=1000, ge=10, description="Open pages kept on this server, in total.")
    max_clients_per_account: int = Field(default=40, ge=2, description="Open pages kept for one account.")
    max_clients_per_address: int = Field(default=60, ge=2, description="Signed-out pages kept for one address.")

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        value = value.upper()
        if value not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("must be DEBUG, INFO, WARNING or ERROR")
        return value

    @field_validator("limit_sign_in", "limit_join", "limit_invites", "limit_media", "limit_work",
                     "limit_anonymous_pages", "limit_api", "limit_annotations")
    @classmethod
    def _rate(cls, value: str) -> str:
        from limits import parse_many

        try:
            parse_many(value)
        except ValueError:
            raise ValueError('must be like "30/minute" or "30/minute;300/hour"') from None
        return value

    @field_validator("rate_limit_storage")
    @classmethod
    def _limit_storage(cls, value: str) -> str:
        if value not in {"", "memory", "database", "redis"}:
            raise ValueError("must be memory, database or redis")
        return value

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str) -> str:
        if value and not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return value

    @field_validator("tls_cert", "tls_key")
    @classmethod
    def _readable_file(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"{value} is not a file (or can't be read)")
        return value

    @field_validator("library_dir")
    @classmethod
    def _existing_folder(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_dir():
            raise ValueError(f"{value} is not a folder")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        if bool(self.tls_cert) != bool(self.tls_key):
            raise ValueError("SOLEIL_TLS_CERT and SOLEIL_TLS_KEY must be given together")
        if self.limit_storage == "redis" and not self.redis_url:
            raise ValueError("SOLEIL_RATE_LIMIT_STORAGE=redis needs SOLEIL_REDIS_URL")
        if self.tls_cert and self.tls_key:
            try:  # now, not as a traceback from deep inside the server once it starts listening
                ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(self.tls_cert, self.tls_key)
            except (ssl.SSLError, OSError) as exc:
                raise ValueError(f"SOLEIL_TLS_CERT and SOLEIL_TLS_KEY are not a PEM certificate and its key "
                                 f"({exc.strerror or exc})") from None
        if bool(self.s3_endpoint) != bool(self.s3_bucket):
            raise ValueError("SOLEIL_S3_ENDPOINT and SOLEIL_S3_BUCKET must be given together")
        if self.is_postgres and not self.secret_key:
            raise ValueError(
                "SOLEIL_SECRET_KEY is required with PostgreSQL, so every instance signs and decrypts alike"
            )
        return self

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite+aiosqlite:///{(self.data_dir / 'soleil.db').resolve()}"

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith("postgresql")

    @property
    def object_store(self) -> bool:
        """Files live in an S3-compatible bucket every instance reaches, not in this instance's data dir."""
        return bool(self.s3_endpoint and self.s3_bucket)

    @property
    def trusted_proxy_list(self) -> list[str]:
        return [p.strip() for p in self.trusted_proxies.split(",") if p.strip()]

    @property
    def limit_storage(self) -> str:
        """Where rate-limit counters live: shared between instances whenever the deployment allows."""
        if self.rate_limit_storage:
            return self.rate_limit_storage
        return "redis" if self.redis_url else "database" if self.is_postgres else "memory"

    @property
    def google_configured(self) -> bool:
        return bool(self.google_client_id and self.google_client_secret)

    @property
    def demo_enabled(self) -> bool:
        """Demo is on by default only while no sign-in provider is configured; never on silently with one."""
        return self.demo if self.demo is not None else not self.google_configured

    @property
    def admin_email_set(self) -> frozenset[str]:
        return frozenset(e.strip().lower() for e in self.admin_emails.split(",") if e.strip())

    def effective_secret_key(self) -> str:
        """The configured key, or one generated once into the data dir for a single-box install."""
        if self.secret_key:
            return self.secret_key
        key_file = self.data_dir / "secret.key"
        try:
            stat = key_file.stat()
        except FileNotFoundError:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            key_file.touch(mode=0o600)
            key_file.write_text(secrets.token_urlsafe(48))
            stat = key_file.stat()
        return _read_key(key_file, (stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns))


@lru_cache(maxsize=8)
def _read_key(key_file: Path, _version: tuple[int, int, int, int]) -> str:
    """The generated key, read once per version of its file: every CSRF check asks for it, and a stat costs less
    than a read. A file replaced or rewritten (a restore brings back the backup's key) has another ctime: read again."""
    return key_file.read_text().strip()


def load_settings() -> Settings:
    """Build settings, turning a validation error into one line that names the variable."""
    _warn_unknown_names()
    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]).upper() if first["loc"] else ""
        name = f"{ENV_PREFIX}{field}" if field else "settings"
        message = first["msg"].removeprefix("Value error, ")
        if not field and message.startswith(ENV_PREFIX):  # a rule across variables already names them
            raise ConfigError(message) from None
        raise ConfigError(f"{name}: {message}") from None


def unknown_names() -> list[str]:
    """``SOLEIL_`` names in the environment or ``.env`` that are no setting: typos that would be silently ignored."""
    from dotenv import dotenv_values

    known = {ENV_PREFIX + name.upper() for name in Settings.model_fields} | NOT_SETTINGS
    seen = set(os.environ) | {name for name in dotenv_values(ENV_FILE) if name}
    return sorted(name for name in seen if name.upper().startswith(ENV_PREFIX) and name.upper() not in known)


def _warn_unknown_names() -> None:
    known = sorted(ENV_PREFIX + name.upper() for name in Settings.model_fields)
    unknown = unknown_names()
    if unknown:
        hints = [f"{name} (did you mean {match[0]}?)" if (match := difflib.get_close_matches(name.upper(), known, 1))
                 else name for name in unknown]
        log.warning("ignoring %s: not a SOLEil setting; the settings are listed in README.md", ", ".join(hints))


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
