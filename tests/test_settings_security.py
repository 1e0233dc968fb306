"""Settings validation, secrets at rest, and the event hub's band isolation."""

from __future__ import annotations

from pathlib import Path

import pytest

from soleil_ui.errors import ConfigError
from soleil_ui.events import Event, EventHub
from soleil_ui.security import SecretBox, hash_token, new_token
from soleil_ui.settings import Settings, load_settings


def test_defaults_are_the_embedded_demo(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for var in ("SOLEIL_DATABASE_URL", "SOLEIL_DEMO", "SOLEIL_GOOGLE_CLIENT_ID", "SOLEIL_DATA_DIR"):
        monkeypatch.delenv(var, raising=False)
    settings = load_settings()
    assert settings.resolved_database_url.startswith("sqlite+aiosqlite:///")
    assert settings.resolved_database_url.endswith("data/soleil.db")
    assert (settings.host, settings.port) == ("127.0.0.1", 8080)
    assert settings.demo_enabled


def test_demo_never_on_silently_with_google(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOLEIL_GOOGLE_CLIENT_ID", "id")
    monkeypatch.setenv("SOLEIL_GOOGLE_CLIENT_SECRET", "secret")
    monkeypatch.delenv("SOLEIL_DEMO", raising=False)
    assert not load_settings().demo_enabled
    monkeypatch.setenv("SOLEIL_DEMO", "1")
    assert load_settings().demo_enabled


@pytest.mark.parametrize(("var", "value", "named"), [
    ("SOLEIL_PORT", "eighty", "SOLEIL_PORT"),
    ("SOLEIL_PORT", "70000", "SOLEIL_PORT"),
    ("SOLEIL_DATABASE_URL", "mysql://x/y", "SOLEIL_DATABASE_URL"),
    ("SOLEIL_LOG_LEVEL", "LOUD", "SOLEIL_LOG_LEVEL"),
    ("SOLEIL_DEMO", "perhaps", "SOLEIL_DEMO"),
])
def test_bad_setting_names_the_variable(monkeypatch: pytest.MonkeyPatch, var: str, value: str, named: str) -> None:
    monkeypatch.setenv(var, value)
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert str(info.value).startswith(named + ":")
    assert "\n" not in str(info.value)


def test_postgres_requires_a_secret_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOLEIL_DATABASE_URL", "postgresql+asyncpg://u@h/db")
    monkeypatch.delenv("SOLEIL_SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="SOLEIL_SECRET_KEY"):
        load_settings()


def test_tls_needs_cert_and_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOLEIL_TLS_CERT", "/x/cert.pem")
    monkeypatch.delenv("SOLEIL_TLS_KEY", raising=False)
    with pytest.raises(ConfigError, match="SOLEIL_TLS_KEY"):
        load_settings()


def test_generated_secret_key_is_stable_and_private(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "d", secret_key="")
    first = settings.effective_secret_key()
    assert len(first) >= 40
    assert settings.effective_secret_key() == first
    assert (tmp_path / "d" / "secret.key").stat().st_mode & 0o077 == 0


def test_secret_box_round_trip_and_wrong_key() -> None:
    box = SecretBox("k1" * 20)
    token = box.encrypt("1//refresh-token")
    assert "refresh" not in token
    assert box.decrypt(token) == "1//refresh-token"
    with pytest.raises(ConfigError, match="SOLEIL_SECRET_KEY changed"):
        SecretBox("k2" * 20).decrypt(token)


def test_tokens_are_random_and_hashed() -> None:
    a, b = new_token(), new_token()
    assert a != b and len(a) >= 40
    assert hash_token(a) != a and len(hash_token(a)) == 64


async def test_hub_never_crosses_bands() -> None:
    hub = EventHub()
    seen: list[tuple[str, int]] = []
    sub1 = hub.subscribe(1, "setlist:5", lambda e: seen.append(("band1", e.band_id)))
    hub.subscribe(2, "setlist:5", lambda e: seen.append(("band2", e.band_id)))
    await hub.publish(Event(1, "setlist:5", {"v": 1}))
    assert seen == [("band1", 1)]
    sub1.close()
    await hub.publish(Event(1, "setlist:5"))
    assert seen == [("band1", 1)]
    assert hub.subscriber_count(2, "setlist:5") == 1


@pytest.mark.expected_error(r"RuntimeError: boom")  # the failing handler this test installs
async def test_hub_survives_a_failing_handler(caplog: pytest.LogCaptureFixture) -> None:
    hub = EventHub()
    seen: list[int] = []

    def broken(_e: Event) -> None:
        raise RuntimeError("boom")

    hub.subscribe(1, "t", broken)
    hub.subscribe(1, "t", lambda e: seen.append(e.band_id))
    await hub.publish(Event(1, "t"))
    assert seen == [1]
    assert "event handler failed" in caplog.text
