"""A chain's stores (lojas): create, list, rename, remove, and which store a balcão stands in.

Functions take a psycopg connection and run in the store's worker threads (`Database.run`).
A balcão without a loja belongs to the chain as a whole; a gestor with a loja sees that store's
balcões only (`balto.web.principal`). Removing a store leaves its balcões to the chain and is
refused while an active gestor belongs to it: a removal must never widen what someone sees.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg.rows import class_row

from balto.errors import BaltoError
from balto.store.cadastro import cliente_exists
from balto.store.link_codes import free_code


class DuplicateName(BaltoError):
    """The chain already has a store of this name (any case)."""


class UnknownLoja(BaltoError):
    """The store named for an account, a key or an attendant is not one of its cliente's."""


class HasGestores(BaltoError):
    """The store still has active gestores or live API keys of its own: it cannot be removed."""


@dataclass(frozen=True, slots=True)
class Loja:
    """One store as people list it, with how many balcões and active gestores it has."""

    id: str
    cliente_id: str
    nome: str
    created_at: datetime
    balcoes: int
    gestores: int
    codigo: str | None


def create(conn: psycopg.Connection, cliente_id: str, nome: str) -> str | None:
    """Insert a store; its id, or None for an unknown cliente. `DuplicateName` if taken."""
    with conn.transaction():
        if not cliente_exists(conn, cliente_id):
            return None
        new_id = str(uuid.uuid4())
        try:
            with conn.transaction():
                conn.execute(
                    "INSERT INTO lojas (id, cliente_id, nome, codigo) VALUES (%s, %s, %s, %s)",
                    (new_id, cliente_id, nome, free_code(conn)),
                )
        except psycopg.errors.UniqueViolation:
            raise DuplicateName(nome) from None
    return new_id


def require_of_cliente(conn: psycopg.Connection, cliente_id: str, loja_id: str | None) -> None:
    """`UnknownLoja` unless `loja_id` is None or one of the cliente's stores.

    The store is kept so until the caller's transaction ends: it cannot be removed under a row
    being made for it.
    """
    if loja_id is None:
        return
    found = conn.execute(
        "SELECT 1 FROM lojas WHERE id = %s AND cliente_id = %s FOR SHARE", (loja_id, cliente_id)
    ).fetchone()
    if found is None:
        raise UnknownLoja(loja_id)


def list_lojas(conn: psycopg.Connection, cliente_id: str, loja_id: str | None = None) -> list[Loja]:
    """A cliente's stores by name (only `loja_id` when given)."""
    cursor = conn.cursor(row_factory=class_row(Loja))
    sql = (
        "SELECT l.id::text, l.cliente_id::text, l.nome, l.created_at,"
        " (SELECT count(*) FROM balcoes b WHERE b.loja_id = l.id)::int AS balcoes,"
        " (SELECT count(*) FROM gestores g WHERE g.loja_id = l.id"
        "  AND g.desativado_em IS NULL)::int AS gestores, l.codigo"
        " FROM lojas l WHERE l.cliente_id = %s AND (%s::uuid IS NULL OR l.id = %s::uuid)"
        " ORDER BY lower(l.nome), l.created_at"
    )
    return cursor.execute(sql.encode(), (cliente_id, loja_id, loja_id)).fetchall()


def rename(conn: psycopg.Connection, loja_id: str, nome: str) -> bool:
    """Give a store a new name; False when unknown. `DuplicateName` if the chain has it."""
    try:
        with conn.transaction():
            row = conn.execute(
                "UPDATE lojas SET nome = %s WHERE id = %s RETURNING id", (nome, loja_id)
            ).fetchone()
    except psycopg.errors.UniqueViolation:
        raise DuplicateName(nome) from None
    return row is not None


def remove(conn: psycopg.Connection, loja_id: str) -> bool:
    """Remove a store, its balcões left to the chain; False when unknown.

    `HasGestores` while an active gestor or a live API key belongs to it (deactivated accounts
    and revoked keys are let go of: they can never read again).
    """
    with conn.transaction():
        found = conn.execute("SELECT 1 FROM lojas WHERE id = %s FOR UPDATE", (loja_id,))
        if found.fetchone() is None:
            return False
        active = conn.execute(
            "SELECT (SELECT count(*) FROM gestores WHERE loja_id = %s AND desativado_em IS NULL)"
            " + (SELECT count(*) FROM chaves_api WHERE loja_id = %s AND revogada_em IS NULL)",
            (loja_id, loja_id),
        ).fetchone()
        if active is not None and active[0]:
            raise HasGestores(loja_id)
        conn.execute(
            "UPDATE gestores SET loja_id = NULL WHERE loja_id = %s AND desativado_em IS NOT NULL",
            (loja_id,),
        )
        conn.execute(
            "UPDATE chaves_api SET loja_id = NULL WHERE loja_id = %s AND revogada_em IS NOT NULL",
            (loja_id,),
        )
        try:
            with conn.transaction():
                conn.execute("DELETE FROM lojas WHERE id = %s", (loja_id,))
        except psycopg.errors.ForeignKeyViolation:  # a gestor made for it meanwhile
            raise HasGestores(loja_id) from None
    return True


def rotate_code(conn: psycopg.Connection, loja_id: str) -> str | None:
    """A new linking code for the store (the old one stops linking); None when unknown."""
    with conn.transaction():
        codigo = free_code(conn)
        row = conn.execute(
            "UPDATE lojas SET codigo = %s WHERE id = %s RETURNING id", (codigo, loja_id)
        ).fetchone()
    return None if row is None else codigo


def place_balcao(conn: psycopg.Connection, balcao_id: str, loja_id: str | None) -> str | None:
    """Put a balcão in a store of its own chain (None: the chain as a whole).

    Returns None when done, else what is wrong: ``balcao`` (unknown) or ``loja`` (unknown, or
    another chain's store).
    """
    with conn.transaction():
        row = conn.execute(
            "SELECT cliente_id::text FROM balcoes WHERE id = %s FOR UPDATE", (balcao_id,)
        ).fetchone()
        if row is None:
            return "balcao"
        try:
            # the store held until the move commits: a removal in between cannot leave the
            # balcão pointing at nothing (a foreign-key failure, a 500)
            require_of_cliente(conn, row[0], loja_id)
        except UnknownLoja:
            return "loja"
        conn.execute("UPDATE balcoes SET loja_id = %s WHERE id = %s", (loja_id, balcao_id))
    return None
