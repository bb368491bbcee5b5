"""A cliente's attendants: create (with recorded consent), list, remove.

Functions take a psycopg connection and run in the store's worker threads (`Database.run`).
`create_atendente` returns None when the cliente does not exist and raises `DuplicateAtendente`
when the cliente already has a live attendant of that name (case-insensitive).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from balto.errors import BaltoError


class DuplicateAtendente(BaltoError):
    """The cliente already has a live attendant with this name."""


@dataclass(frozen=True, slots=True)
class Atendente:
    """One attendant as admins see it."""

    id: str
    cliente_id: str
    nome: str
    consentimento_at: datetime
    created_at: datetime


def create_atendente(conn: psycopg.Connection, cliente_id: str, nome: str) -> str | None:
    """Insert an attendant whose consent is given now; its id, or None for an unknown cliente."""
    with conn.transaction():
        if conn.execute("SELECT 1 FROM clientes WHERE id = %s", (cliente_id,)).fetchone() is None:
            return None
        new_id = str(uuid.uuid4())
        try:
            with conn.transaction():
                conn.execute(
                    "INSERT INTO atendentes (id, cliente_id, nome, consentimento_at)"
                    " VALUES (%s, %s, %s, now())",
                    (new_id, cliente_id, nome),
                )
        except psycopg.errors.UniqueViolation as exc:
            raise DuplicateAtendente(nome) from exc
    return new_id


def list_atendentes(conn: psycopg.Connection, cliente_id: str | None) -> list[Atendente]:
    """Live attendants, of one cliente or of all, by name."""
    where, params = "removed_at IS NULL", []
    if cliente_id is not None:
        where += " AND cliente_id = %s"
        params.append(cliente_id)
    with conn.cursor(row_factory=dict_row) as cur:
        rows: list[dict[str, Any]] = cur.execute(
            "SELECT id::text, cliente_id::text, nome, consentimento_at, created_at"
            f" FROM atendentes WHERE {where} ORDER BY lower(nome), created_at",
            params,
        ).fetchall()
    return [Atendente(**row) for row in rows]


def get_atendente(conn: psycopg.Connection, atendente_id: str) -> Atendente | None:
    """One live attendant, or None."""
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(
            "SELECT id::text, cliente_id::text, nome, consentimento_at, created_at"
            " FROM atendentes WHERE id = %s AND removed_at IS NULL",
            (atendente_id,),
        ).fetchone()
    return None if row is None else Atendente(**row)


def remove_atendente(conn: psycopg.Connection, atendente_id: str) -> bool:
    """Mark the attendant removed; False when there was no live one."""
    with conn.transaction():
        cur = conn.execute(
            "UPDATE atendentes SET removed_at = now() WHERE id = %s AND removed_at IS NULL",
            (atendente_id,),
        )
    return cur.rowcount == 1
