"""A chain's API keys: make (shown once), list, find by key, revoke.

A key is ``ck_`` + 43 URL-safe characters (256 random bits); only its SHA-256 is stored, with a
hint (its first characters) for people to tell keys apart. Functions take a psycopg connection
and run in the store's worker threads (`Database.run`).
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg.rows import class_row

from balto.store.cadastro import cliente_exists
from balto.store.cadastro import hash_api_key as key_hash  # the same rule as balcões' keys
from balto.store.lojas import require_of_cliente

PREFIX = "ck_"
_HINT = 8  # the prefix and five characters: enough to tell keys apart, nothing to guess with


@dataclass(frozen=True, slots=True)
class ChaveApi:
    """One key as people list it (never the key)."""

    id: str
    cliente_id: str
    nome: str
    dica: str
    criada_por: str | None
    created_at: datetime
    usada_em: datetime | None
    revogada_em: datetime | None
    loja_id: str | None


@dataclass(frozen=True, slots=True)
class Holder:
    """Whose a live key is: what a request made with it may see."""

    id: str
    cliente_id: str
    nome: str
    razao_social: str
    loja_id: str | None
    loja_nome: str | None
    suspenso: bool = False  # the cliente's access is suspended (`balto.store.suspension`)


def create_key(
    conn: psycopg.Connection,
    cliente_id: str,
    nome: str,
    criada_por: str,
    loja_id: str | None = None,
) -> tuple[str, str] | None:
    """Make a key for the cliente: (its id, the key itself), or None for an unknown cliente.

    With `loja_id` it reads that store only; `UnknownLoja` when the store is not the cliente's.
    """
    with conn.transaction():
        if not cliente_exists(conn, cliente_id):
            return None
        require_of_cliente(conn, cliente_id, loja_id)
        key_id, key = str(uuid.uuid4()), PREFIX + secrets.token_urlsafe(32)
        conn.execute(
            "INSERT INTO chaves_api (id, cliente_id, nome, chave_hash, dica, criada_por, loja_id)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s)",
            (key_id, cliente_id, nome, key_hash(key), key[:_HINT], criada_por, loja_id),
        )
    return key_id, key


def list_keys(conn: psycopg.Connection, cliente_id: str) -> list[ChaveApi]:
    """A cliente's keys, live first, newest first."""
    cursor = conn.cursor(row_factory=class_row(ChaveApi))
    return cursor.execute(
        "SELECT id::text, cliente_id::text, nome, dica, criada_por, created_at, usada_em,"
        " revogada_em, loja_id::text FROM chaves_api WHERE cliente_id = %s"
        " ORDER BY revogada_em IS NOT NULL, created_at DESC",
        (cliente_id,),
    ).fetchall()


def holder(conn: psycopg.Connection, key: str) -> Holder | None:
    """The live key `key` and its cliente, or None; its last use is noted (to the minute).

    One read per request; the write only when the noted use is a minute old or more.
    """
    row = conn.execute(
        "SELECT k.id::text, k.cliente_id::text, k.nome, c.razao_social,"
        " k.usada_em IS NULL OR k.usada_em < now() - interval '1 minute',"
        " k.loja_id::text, l.nome, c.suspenso_em IS NOT NULL"
        " FROM chaves_api k JOIN clientes c ON c.id = k.cliente_id"
        " LEFT JOIN lojas l ON l.id = k.loja_id"
        " WHERE k.chave_hash = %s AND k.revogada_em IS NULL",
        (key_hash(key),),
    ).fetchone()
    if row is None:
        return None
    key_id, cliente_id, nome, razao_social, stale, loja_id, loja_nome, suspenso = row
    if stale and not suspenso:  # a refused request is no use of the key
        with conn.transaction():
            conn.execute("UPDATE chaves_api SET usada_em = now() WHERE id = %s", (key_id,))
    return Holder(key_id, cliente_id, nome, razao_social, loja_id, loja_nome, bool(suspenso))


def revoke(conn: psycopg.Connection, key_id: str) -> datetime | None:
    """Revoke a key (the first time kept); None for an unknown id."""
    with conn.transaction():
        row = conn.execute(
            "UPDATE chaves_api SET revogada_em = coalesce(revogada_em, now()) WHERE id = %s"
            " RETURNING revogada_em",
            (key_id,),
        ).fetchone()
    return None if row is None else row[0]
