"""The shipped multi-instance example: the compose file parses and wires both instances to the same database and
store; the Caddyfile is valid for the real Caddy binary and pins browsers with a cookie."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

MULTI = Path(__file__).resolve().parents[1] / "deploy" / "multi"


def test_the_compose_file_runs_two_instances_on_one_database_and_store() -> None:
    compose = yaml.safe_load((MULTI / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"soleil-a", "soleil-b", "db", "minio", "caddy"} <= set(services)
    a, b = services["soleil-a"]["environment"], services["soleil-b"]["environment"]
    for key in ("SOLEIL_DATABASE_URL", "SOLEIL_S3_ENDPOINT", "SOLEIL_S3_BUCKET"):
        assert a[key] == b[key] and a[key]
    assert services["soleil-a"]["volumes"] != services["soleil-b"]["volumes"], "each its own data dir"
    assert "./Caddyfile:/etc/caddy/Caddyfile:ro" in services["caddy"]["volumes"]


def test_the_caddyfile_is_valid_and_uses_cookie_stickiness(tmp_path: Path) -> None:
    text = (MULTI / "Caddyfile").read_text()
    assert "lb_policy cookie" in text and "health_uri /readyz" in text
    caddy = shutil.which("caddy")
    if caddy is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("caddy is not installed (apt-get install caddy)")
        pytest.skip("caddy is not installed (apt-get install caddy)")
    env = {**os.environ, "HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path),
           "SOLEIL_SITE": "http://127.0.0.1:8443", "SOLEIL_PROXY_ADMIN": "off"}
    done = subprocess.run([caddy, "validate", "--config", str(MULTI / "Caddyfile"), "--adapter", "caddyfile"],
                          env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0 and "Valid configuration" in done.stdout + done.stderr, done.stderr
