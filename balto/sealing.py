"""Secrets the server must read back, sealed at rest: gestores' TOTP secrets, webhooks' secrets.

A password or an API key is stored as a hash, but a TOTP secret makes codes and a webhook secret
signs, so both must be read back as they are. Stored plain, a copy of the database (a backup, a
dump left on a laptop) would hand over every gestor's second step and let anyone sign deliveries
a chain's system trusts. So they are sealed with AES-256-GCM (`cryptography`) under
``BALTO_SECRETS_KEY``, which lives in the servers' environment, never in the database.

A sealed value reads ``s1.<key id>.<nonce and ciphertext, base64url>``. The key id (the first 8
hex digits of the key's SHA-256) says which key sealed it, so keys can be rotated: the old key
goes to ``BALTO_SECRETS_KEYS_OLD`` and the server reseals under the new one at start
(`balto.store.sealed_secrets`). The purpose (``totp``, ``webhook``) is bound in as associated
data: a value copied from one kind of column to the other does not open. Without a key, values
are stored plain, and plain values always read as they are (rows from before sealing).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from balto.errors import BaltoError, ConfigError

PREFIX = "s1."
KEY_BYTES = 32
NONCE_BYTES = 12
KEY_FILE = "secrets.key"  # under BALTO_DATA_DIR, for the embedded database only
TOTP = "totp"
WEBHOOK = "webhook"


class Unreadable(BaltoError):
    """A sealed value this server cannot open: its key is not configured, or it was altered."""


def key_id(key: bytes) -> str:
    """The short name a sealed value carries for the key that sealed it."""
    return hashlib.sha256(key).hexdigest()[:8]


def parse_key(text: str, name: str) -> bytes:
    """A key as written in the environment: 32 bytes in base64 (standard or URL-safe).

    Raises:
        ConfigError: Anything else, naming the variable and how to make one.
    """
    cleaned = text.strip()
    try:
        raw = base64.urlsafe_b64decode(
            cleaned.replace("+", "-").replace("/", "_") + "=" * (-len(cleaned) % 4)
        )
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != KEY_BYTES:
        raise ConfigError(
            f"{name} must be {KEY_BYTES} random bytes in base64 (make one with"
            " `openssl rand -base64 32`)"
        )
    return raw


def new_key_text() -> str:
    """A fresh key as the environment takes it."""
    return base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode("ascii")


@dataclass(frozen=True)
class Box:
    """Seals with the current key and opens with it or any older one."""

    current: bytes | None = None
    old: tuple[bytes, ...] = ()

    @property
    def current_id(self) -> str | None:
        """The current key's id, or None when secrets are stored plain."""
        return None if self.current is None else key_id(self.current)

    def known_ids(self) -> set[str]:
        """The ids of every key this box can open with."""
        keys = ([self.current] if self.current is not None else []) + list(self.old)
        return {key_id(k) for k in keys}

    def seal(self, purpose: str, plain: str) -> str:
        """`plain` as it is stored: sealed under the current key, or as is without one."""
        if self.current is None:
            return plain
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(self.current).encrypt(nonce, plain.encode(), purpose.encode())
        body = base64.urlsafe_b64encode(nonce + sealed).decode("ascii").rstrip("=")
        return f"{PREFIX}{key_id(self.current)}.{body}"

    def open(self, purpose: str, stored: str) -> str:
        """A stored value as it was given to `seal`.

        Raises:
            Unreadable: Sealed under a key this box lacks, or altered, or for another purpose.
        """
        if not stored.startswith(PREFIX):
            return stored
        kid = sealed_key_id(stored) or ""
        if not kid:
            raise Unreadable("a sealed secret was cut short")
        body = stored.split(".", 2)[-1]
        key = self._key(kid)
        if key is None:
            raise Unreadable(
                f"a secret sealed with key {kid} cannot be opened: that key is not in"
                " BALTO_SECRETS_KEY or BALTO_SECRETS_KEYS_OLD"
            )
        try:
            raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            opened = AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], purpose.encode())
        except (InvalidTag, binascii.Error, ValueError):
            raise Unreadable(f"a secret sealed with key {kid} was altered") from None
        return opened.decode()

    def stale(self, stored: str) -> bool:
        """Whether a stored value should be sealed anew: plain, or under an older key."""
        if self.current is None:
            return False
        return not stored.startswith(f"{PREFIX}{key_id(self.current)}.")

    def _key(self, kid: str) -> bytes | None:
        for key in (self.current, *self.old):
            if key is not None and key_id(key) == kid:
                return key
        return None


def sealed_key_id(stored: str) -> str | None:
    """The id of the key a stored value was sealed with, or None for a plain value."""
    if not stored.startswith(PREFIX):
        return None
    parts = stored.split(".", 2)
    return parts[1] if len(parts) == 3 else ""  # cut short: no key opens it


def box_for(current: bytes | None, old: tuple[bytes, ...], embedded_dir: Path | None) -> Box:
    """The server's box: the configured keys, or for the embedded database one of its own.

    With no key given and the embedded database, the key is kept in `embedded_dir` (made on the
    first start, readable by this user only). The embedded database lives in that directory
    too, but its backups (``balto backup``) do not carry the key file: a copy of one gives away
    no secret.
    """
    if current is None and embedded_dir is not None:
        path = embedded_dir / KEY_FILE
        if not path.exists():
            embedded_dir.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(FileExistsError):  # made meanwhile: read that one
                descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(descriptor, "w") as out:
                    out.write(new_key_text() + "\n")
        current = parse_key(path.read_text(), str(path))
    return Box(current, old)
