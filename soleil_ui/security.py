"""Secrets at rest and session tokens.

Refresh tokens and keys are encrypted with Fernet (AES-128-CBC + HMAC) under a key derived from
``SOLEIL_SECRET_KEY`` by HKDF, so one operator secret serves signing and encryption without the two uses
ever sharing key material. Session cookies carry a random token; the database keeps only its SHA-256.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .errors import ConfigError


@lru_cache(maxsize=32)
def derive_key(secret_key: str, purpose: str) -> bytes:
    """A 32-byte key for one purpose; different purposes never share key material. Cached: every CSRF check and
    form asks for the same few (secret, purpose) pairs, and a new secret is a new cache key."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"soleil", info=purpose.encode())
    return hkdf.derive(secret_key.encode())


class SecretBox:
    """Encrypts small secrets (refresh tokens, service-account keys) for storage in the database."""

    def __init__(self, secret_key: str) -> None:
        self._fernet = Fernet(base64.urlsafe_b64encode(derive_key(secret_key, "secrets-at-rest")))

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            raise ConfigError(
                "A stored secret can't be decrypted: SOLEIL_SECRET_KEY changed since it was saved. "
                "Restore the old key, or reconnect the affected service."
            ) from None


def new_token() -> str:
    """An unguessable token for cookies, invites and feed URLs."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def tokens_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def csrf_token(secret_key: str, session_id: str) -> str:
    """The anti-forgery token of one browser session: an HMAC of the session's random id, so nothing is stored and
    a page of another site (which can neither read our pages nor our signed cookie) can't produce it."""
    mac = hmac.new(derive_key(secret_key, "csrf"), session_id.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")
