"""Clientes and balcões: registration and API-key authentication (sync, run via `Database.run`)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

import psycopg

from balto.store.link_codes import free_code, owner_of_code

API_KEY_PREFIX = "bk_"


@dataclass(frozen=True, slots=True)
class BalcaoIdentity:
    """Who an API key belongs to."""

    balcao_id: str
    cliente_id: str
    nome_balcao: str
    revoked: bool
    loja_id: str | None = None
    suspended: bool = False  # its cliente's access is suspended (`balto.store.suspension`)


def cliente_exists(conn: psycopg.Connection, cliente_id: str) -> bool:
    """Whether the cliente `cliente_id` (a UUID) is registered."""
    return (
        conn.execute("SELECT 1 FROM clientes WHERE id = %s", (cliente_id,)).fetchone() is not None
    )


def hash_api_key(api_key: str) -> bytes:
    """SHA-256 of the key: keys carry 256 random bits, so a slow KDF would add nothing."""
    return hashlib.sha256(api_key.encode()).digest()


def create_cliente(conn: psycopg.Connection, email: str, razao_social: str, telefone: str) -> str:
    """Insert a cliente with a fresh unique 6-digit linking code; return the code."""
    with conn.transaction():
        codigo = free_code(conn)
        conn.execute(
            "INSERT INTO clientes (id, codigo, email, razao_social, telefone)"
            " VALUES (%s, %s, %s, %s, %s)",
            (uuid.uuid4(), codigo, email, razao_social, telefone),
        )
    return codigo


def create_balcao(
    conn: psycopg.Connection, codigo: str, nome_balcao: str
) -> tuple[str, str] | None:
    """Register a balcão under the cliente (or the store) with `codigo`.

    Returns (api_key, balcao_id), or None for nobody's code. A store's code puts the balcão in it.
    A suspended cliente's code links nothing (`balto.store.cadastro_guard` says why).
    """
    owner = owner_of_code(conn, codigo)
    if owner is None or owner[2]:
        return None
    return insert_balcao(conn, owner[0], owner[1], nome_balcao)


def insert_balcao(
    conn: psycopg.Connection, cliente_id: str, loja_id: str | None, nome_balcao: str
) -> tuple[str, str]:
    """Insert a balcão of `cliente_id` (in `loja_id`) with a fresh key; (api_key, balcao_id)."""
    api_key = API_KEY_PREFIX + secrets.token_urlsafe(32)
    balcao_id = uuid.uuid4()
    conn.execute(
        "INSERT INTO balcoes (id, cliente_id, nome_balcao, api_key_hash, api_key_hint, loja_id)"
        " VALUES (%s, %s, %s, %s, %s, %s)",
        (balcao_id, cliente_id, nome_balcao, hash_api_key(api_key), api_key[:7], loja_id),
    )
    return api_key, str(balcao_id)


def authenticate(conn: psycopg.Connection, api_key: str) -> BalcaoIdentity | None:
    """The balcão owning `api_key`, or None; the stored hash is compared in constant time."""
    digest = hash_api_key(api_key)
    row = conn.execute(
        "SELECT b.id, b.cliente_id, b.nome_balcao, b.revoked_at IS NOT NULL, b.api_key_hash,"
        " b.loja_id, c.suspenso_em IS NOT NULL"
        " FROM balcoes b JOIN clientes c ON c.id = b.cliente_id WHERE b.api_key_hash = %s",
        (digest,),
    ).fetchone()
    if row is None or not hmac.compare_digest(bytes(row[4]), digest):
        return None
    loja_id = None if row[5] is None else str(row[5])
    return BalcaoIdentity(str(row[0]), str(row[1]), row[2], bool(row[3]), loja_id, bool(row[6]))


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
    with conn.transaction():
        codigo = free_code(conn)  # never the current one: that is taken
        row = conn.execute(
            "UPDATE clientes SET codigo = %s WHERE id = %s RETURNING id", (codigo, cliente_id)
        ).fetchone()
    return None if row is None else codigo


def rename_balcao(conn: psycopg.Connection, balcao_id: str, nome: str) -> str | None:
    """Give the balcão a new name; return the name it had, or None for an unknown balcão.

    Everything read from the database shows the new name from now on: history, the Painel, the
    report, Ao vivo. A revoked balcão can be renamed too (its history keeps being read).
    """
    with conn.transaction():
        row = conn.execute(
            "SELECT nome_balcao FROM balcoes WHERE id = %s FOR UPDATE", (balcao_id,)
        ).fetchone()
        if row is None:
            return None
        conn.execute("UPDATE balcoes SET nome_balcao = %s WHERE id = %s", (nome, balcao_id))
    return str(row[0])


CLIENTE_FIELDS = ("razao_social", "email", "telefone")  # what an admin may correct


@dataclass(frozen=True, slots=True)
class ClienteUpdate:
    """A correction applied: the data as saved now, and what changed as (before, after)."""

    saved: dict[str, str]
    changed: dict[str, tuple[str, str]]


def update_cliente(
    conn: psycopg.Connection, cliente_id: str, values: dict[str, str]
) -> ClienteUpdate | None:
    """Correct the cliente's registration data (`values`: some of `CLIENTE_FIELDS`).

    None for an unknown cliente.
    """
    fields = [f for f in CLIENTE_FIELDS if f in values]
    with conn.transaction():
        row = conn.execute(
            "SELECT razao_social, email, telefone FROM clientes WHERE id = %s FOR UPDATE",
            (cliente_id,),
        ).fetchone()
        if row is None:
            return None
        before = dict(zip(CLIENTE_FIELDS, row, strict=True))
        changed = {f: (before[f], values[f]) for f in fields if before[f] != values[f]}
        if changed:
            # the column names come from CLIENTE_FIELDS, never from the request
            sets = ", ".join(f"{f} = %s" for f in changed)
            conn.execute(
                f"UPDATE clientes SET {sets} WHERE id = %s".encode(),
                [*(values[f] for f in changed), cliente_id],
            )
    return ClienteUpdate({**before, **{f: values[f] for f in fields}}, changed)
