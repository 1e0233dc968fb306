"""Settings validation, secrets at rest, and the event hub's band isolation."""

from __future__ import annotations

import os
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


def test_tls_needs_cert_and_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    cert, _ = _self_signed(tmp_path)
    monkeypatch.setenv("SOLEIL_TLS_CERT", str(cert))
    monkeypatch.delenv("SOLEIL_TLS_KEY", raising=False)
    with pytest.raises(ConfigError, match="SOLEIL_TLS_KEY"):
        load_settings()


def _self_signed(folder: Path) -> tuple[Path, Path]:
    from datetime import UTC, datetime, timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "soleil.test")])
    now = datetime.now(UTC)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now)
                   .not_valid_after(now + timedelta(days=1)).sign(key, hashes.SHA256()))
    cert, key_file = folder / "cert.pem", folder / "key.pem"
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert, key_file


def test_tls_files_are_checked_before_start_up(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SOLEIL_TLS_CERT", "/nope/cert.pem")
    monkeypatch.setenv("SOLEIL_TLS_KEY", "/nope/key.pem")
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert str(info.value) == "SOLEIL_TLS_CERT: /nope/cert.pem is not a file (or can't be read)"
    cert, key = _self_signed(tmp_path)
    monkeypatch.setenv("SOLEIL_TLS_CERT", str(cert))
    monkeypatch.setenv("SOLEIL_TLS_KEY", str(cert))  # the certificate twice: no key
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert str(info.value).startswith("SOLEIL_TLS_CERT and SOLEIL_TLS_KEY are not a PEM certificate and its key")
    assert "\n" not in str(info.value)
    monkeypatch.setenv("SOLEIL_TLS_KEY", str(key))
    assert load_settings().tls_key == key


def test_library_dir_must_exist(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SOLEIL_LIBRARY_DIR", str(tmp_path / "nonexistent"))
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert str(info.value) == f"SOLEIL_LIBRARY_DIR: {tmp_path / 'nonexistent'} is not a folder"
    monkeypatch.setenv("SOLEIL_LIBRARY_DIR", str(tmp_path))
    assert load_settings().library_dir == tmp_path


def test_unknown_soleil_names_warn_once_and_start_up_goes_on(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("SOLEIL_PROT=9090\nSOLEIL_LOG_LEVEL=INFO\nOTHER=1\n")
    monkeypatch.setenv("SOLEIL_DATABSE_URL", "sqlite+aiosqlite:///x.db")
    with caplog.at_level("WARNING", logger="soleil_ui.settings"):
        settings = load_settings()
    assert settings.port == 8080 and settings.database_url == ""
    warnings = [r.getMessage() for r in caplog.records if r.name == "soleil_ui.settings"]
    assert len(warnings) == 1
    assert "SOLEIL_DATABSE_URL (did you mean SOLEIL_DATABASE_URL?)" in warnings[0]
    assert "SOLEIL_PROT (did you mean SOLEIL_PORT?)" in warnings[0]
    assert "LOG_LEVEL" not in warnings[0] and "OTHER" not in warnings[0]


def test_generated_secret_key_is_stable_and_private(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "d", secret_key="")
    first = settings.effective_secret_key()
    assert len(first) >= 40
    assert settings.effective_secret_key() == first
    assert (tmp_path / "d" / "secret.key").stat().st_mode & 0o077 == 0


def test_a_restored_secret_key_file_is_read_again(tmp_path: Path) -> None:
    """The generated key is cached, but a restore writes the backup's key into the file: that one counts from then on
    (else the restore would wrongly warn that the Drive grants can't be decrypted)."""
    settings = Settings(data_dir=tmp_path / "d", secret_key="")
    first = settings.effective_secret_key()
    key_file = tmp_path / "d" / "secret.key"
    key_file.write_text("the-backups-key-" + "z" * 48)  # as long as the generated one
    os.utime(key_file, (1_700_000_000, 1_700_000_000))  # a restore's tar extraction sets the archived mtime
    assert settings.effective_secret_key() == "the-backups-key-" + "z" * 48 != first


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
