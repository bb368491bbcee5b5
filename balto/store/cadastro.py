"""Clientes and balcões: registration and API-key authentication (sync, run via `Database.run`)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg import errors as pg_errors

API_KEY_PREFIX = "bk_"


@dataclass(frozen=True, slots=True)
class BalcaoIdentity:
    """Who an API key belongs to."""

    balcao_id: str
    cliente_id: str
    nome_balcao: str
    revoked: bool


def cliente_exists(conn: psycopg.Connection, cliente_id: str) -> bool:
    """Whether the cliente `cliente_id` (a UUID) is registered."""
    return (
        conn.execute("SELECT 1 FROM clientes WHERE id = %s", (cliente_id,)).fetchone() is not None
    )


def hash_api_key(api_key: str) -> bytes:
    """SHA-256 of the key: keys carry 256 random bits, so a slow KDF would add nothing."""
    return hashlib.sha256(api_key.encode()).digest()


def _new_codigo() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


def create_cliente(conn: psycopg.Connection, email: str, razao_social: str, telefone: str) -> str:
    """Insert a cliente with a fresh unique 6-digit linking code; return the code."""
    for _ in range(50):
        codigo = _new_codigo()
        try:
            with conn.transaction():
                conn.execute(
                    "INSERT INTO clientes (id, codigo, email, razao_social, telefone)"
                    " VALUES (%s, %s, %s, %s, %s)",
                    (uuid.uuid4(), codigo, email, razao_social, telefone),
                )
        except pg_errors.UniqueViolation:
            continue
        return codigo
    raise RuntimeError("no free 6-digit linking code after 50 tries")


def create_balcao(
    conn: psycopg.Connection, codigo: str, nome_balcao: str
) -> tuple[str, str] | None:
    """Register a balcão under the cliente with `codigo`; return (api_key, balcao_id) or None."""
    row = conn.execute("SELECT id FROM clientes WHERE codigo = %s", (codigo,)).fetchone()
    if row is None:
        return None
    api_key = API_KEY_PREFIX + secrets.token_urlsafe(32)
    balcao_id = uuid.uuid4()
    conn.execute(
        "INSERT INTO balcoes (id, cliente_id, nome_balcao, api_key_hash, api_key_hint)"
        " VALUES (%s, %s, %s, %s, %s)",
        (balcao_id, row[0], nome_balcao, hash_api_key(api_key), api_key[:7]),
    )
    return api_key, str(balcao_id)


def authenticate(conn: psycopg.Connection, api_key: str) -> BalcaoIdentity | None:
    """The balcão owning `api_key`, or None; the stored hash is compared in constant time."""
    digest = hash_api_key(api_key)
    row = conn.execute(
        "SELECT id, cliente_id, nome_balcao, revoked_at IS NOT NULL, api_key_hash"
        " FROM balcoes WHERE api_key_hash = %s",
        (digest,),
    ).fetchone()
    if row is None or not hmac.compare_digest(bytes(row[4]), digest):
        return None
    return BalcaoIdentity(str(row[0]), str(row[1]), row[2], bool(row[3]))


def revoke_own_key(conn: psycopg.Connection, api_key: str) -> tuple[str, datetime] | None:
    """Revoke the balcão owning `api_key` (a device unlinking itself).

    Returns its id and revocation time (the first one, if it was revoked already), or None for a
    key nobody owns.
    """
    digest = hash_api_key(api_key)
    with conn.transaction():
        row = conn.execute(
            "UPDATE balcoes SET revoked_at = coalesce(revoked_at, now())"
            " WHERE api_key_hash = %s RETURNING id, revoked_at, api_key_hash",
            (digest,),
        ).fetchone()
    if row is None or not hmac.compare_digest(bytes(row[2]), digest):
        return None
    return str(row[0]), row[1]


def rotate_codigo(conn: psycopg.Connection, cliente_id: str) -> str | None:
    """Give the cliente a fresh unique linking code; the old one is refused from now on.

    Returns the new code, or None for an unknown cliente. Balcões already linked keep their keys.
    """
    for _ in range(50):
        codigo = _new_codigo()
        try:
            with conn.transaction():
                row = conn.execute(  # the same code again would not rotate anything
                    "UPDATE clientes SET codigo = %s WHERE id = %s AND codigo <> %s RETURNING id",
                    (codigo, cliente_id, codigo),
                ).fetchone()
        except pg_errors.UniqueViolation:
            continue
        if row is not None:
            return codigo
        if not cliente_exists(conn, cliente_id):
            return None
    raise RuntimeError("no free 6-digit linking code after 50 tries")
