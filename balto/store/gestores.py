"""A chain's own accounts (gestores): create, list, find for sign-in, change password, deactivate.

Functions take a psycopg connection and run in the store's worker threads (`Database.run`).
Passwords arrive here already hashed (`balto.web.passwords`); nothing here sees one in clear.
`senha_em` is the account's session stamp: a browser session signed before it is no longer valid
(`balto.web.principal`), so changing a password or deactivating an account ends its sessions on
every instance at their next request.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg.rows import class_row

from balto.errors import BaltoError
from balto.store.cadastro import cliente_exists
from balto.store.lojas import require_of_cliente


class DuplicateEmail(BaltoError):
    """An active account already signs in with this e-mail (in any cliente)."""


@dataclass(frozen=True, slots=True)
class Gestor:
    """One account as the operator lists it (never its hash)."""

    id: str
    cliente_id: str
    nome: str
    email: str
    created_at: datetime
    senha_em: datetime
    desativado_em: datetime | None
    loja_id: str | None
    dois_fatores: bool


@dataclass(frozen=True, slots=True)
class Credentials:
    """What a sign-in needs of an active account: who it is and the stored hash."""

    id: str
    cliente_id: str
    nome: str
    email: str
    senha_hash: str
    senha_em: datetime
    dois_fatores: bool
    exige_dois_fatores: bool
    suspenso: bool  # the cliente's access is suspended (`balto.store.suspension`)


@dataclass(frozen=True, slots=True)
class Member:
    """An active account as each request of its browser session checks it."""

    cliente_id: str
    nome: str
    email: str
    razao_social: str
    senha_em: datetime
    loja_id: str | None
    loja_nome: str | None
    dois_fatores: bool
    exige_dois_fatores: bool
    suspenso: bool


_COLUMNS = (
    "id::text, cliente_id::text, nome, email, created_at, senha_em, desativado_em, loja_id::text,"
    " totp_segredo IS NOT NULL AS dois_fatores"
)


def create_gestor(
    conn: psycopg.Connection,
    cliente_id: str,
    nome: str,
    email: str,
    senha_hash: str,
    loja_id: str | None = None,
) -> str | None:
    """Insert an account (of one store when `loja_id`); its id, or None for an unknown cliente.

    `DuplicateEmail` if the e-mail is taken, `UnknownLoja` if the store is not the cliente's.
    """
    with conn.transaction():
        if not cliente_exists(conn, cliente_id):
            return None
        require_of_cliente(conn, cliente_id, loja_id)
        new_id = str(uuid.uuid4())
        try:
            with conn.transaction():
                conn.execute(
                    "INSERT INTO gestores (id, cliente_id, nome, email, senha_hash, loja_id)"
                    " VALUES (%s, %s, %s, %s, %s, %s)",
                    (new_id, cliente_id, nome, email, senha_hash, loja_id),
                )
        except psycopg.errors.UniqueViolation:
            raise DuplicateEmail(email) from None
    return new_id


def list_gestores(conn: psycopg.Connection, cliente_id: str) -> list[Gestor]:
    """A cliente's accounts, active first, by name."""
    cursor = conn.cursor(row_factory=class_row(Gestor))
    sql = (
        f"SELECT {_COLUMNS} FROM gestores WHERE cliente_id = %s"
        " ORDER BY desativado_em IS NOT NULL, lower(nome), created_at"
    )
    return cursor.execute(sql.encode(), (cliente_id,)).fetchall()


def credentials(conn: psycopg.Connection, email: str) -> Credentials | None:
    """The active account that signs in with `email` (any case), or None."""
    cursor = conn.cursor(row_factory=class_row(Credentials))
    return cursor.execute(
        "SELECT g.id::text, g.cliente_id::text, g.nome, g.email, g.senha_hash, g.senha_em,"
        " g.totp_segredo IS NOT NULL AS dois_fatores, c.exige_dois_fatores,"
        " c.suspenso_em IS NOT NULL AS suspenso"
        " FROM gestores g JOIN clientes c ON c.id = g.cliente_id"
        " WHERE lower(g.email) = lower(%s) AND g.desativado_em IS NULL",
        (email,),
    ).fetchone()


def member(conn: psycopg.Connection, gestor_id: str) -> Member | None:
    """The active account `gestor_id` with its cliente's name, or None (unknown or deactivated)."""
    cursor = conn.cursor(row_factory=class_row(Member))
    return cursor.execute(
        "SELECT g.cliente_id::text, g.nome, g.email, c.razao_social, g.senha_em,"
        " g.loja_id::text, l.nome AS loja_nome, g.totp_segredo IS NOT NULL AS dois_fatores,"
        " c.exige_dois_fatores, c.suspenso_em IS NOT NULL AS suspenso"
        " FROM gestores g JOIN clientes c ON c.id = g.cliente_id"
        " LEFT JOIN lojas l ON l.id = g.loja_id"
        " WHERE g.id = %s AND g.desativado_em IS NULL",
        (gestor_id,),
    ).fetchone()


def cliente_of_gestor(conn: psycopg.Connection, gestor_id: str) -> str | None:
    """The cliente an account (active or not) belongs to, or None for an unknown id."""
    row = conn.execute("SELECT cliente_id::text FROM gestores WHERE id = %s", (gestor_id,))
    found = row.fetchone()
    return None if found is None else str(found[0])


def set_password(conn: psycopg.Connection, gestor_id: str, senha_hash: str) -> datetime | None:
    """Store a new hash and a new session stamp (ends the account's other sessions).

    Returns the new stamp, or None when the account is unknown or deactivated.
    """
    with conn.transaction():
        row = conn.execute(
            "UPDATE gestores SET senha_hash = %s, senha_em = clock_timestamp()"
            " WHERE id = %s AND desativado_em IS NULL RETURNING senha_em",
            (senha_hash, gestor_id),
        ).fetchone()
    return None if row is None else row[0]


def end_sessions(conn: psycopg.Connection, gestor_id: str) -> datetime | None:
    """A new session stamp: every open session of the account ends; None when deactivated."""
    with conn.transaction():
        row = conn.execute(
            "UPDATE gestores SET senha_em = clock_timestamp()"
            " WHERE id = %s AND desativado_em IS NULL RETURNING senha_em",
            (gestor_id,),
        ).fetchone()
    return None if row is None else row[0]


def rehash(conn: psycopg.Connection, gestor_id: str, senha_hash: str) -> None:
    """Store the same password's hash made with today's parameters; sessions are unaffected."""
    with conn.transaction():
        conn.execute(
            "UPDATE gestores SET senha_hash = %s WHERE id = %s AND desativado_em IS NULL",
            (senha_hash, gestor_id),
        )


def deactivate(conn: psycopg.Connection, gestor_id: str) -> bool:
    """Deactivate an account (kept for the audit log's sake); False when unknown.

    Deactivating twice keeps the first time.
    """
    with conn.transaction():
        # its second step goes too: nothing signs in with it any more
        row = conn.execute(
            "UPDATE gestores SET desativado_em = coalesce(desativado_em, now()),"
            " totp_segredo = NULL, totp_pendente = NULL WHERE id = %s RETURNING id",
            (gestor_id,),
        ).fetchone()
        conn.execute("DELETE FROM gestor_recuperacao WHERE gestor_id = %s", (gestor_id,))
    return row is not None
