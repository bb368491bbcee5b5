"""A cliente's attendants: create (with recorded consent), list (with their voice's state), remove.

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
from balto.store.cadastro import cliente_exists
from balto.store.lojas import require_of_cliente


class DuplicateAtendente(BaltoError):
    """The cliente already has a live attendant with this name."""


@dataclass(frozen=True, slots=True)
class Voz:
    """What admins see of an attendant's voiceprint (never the print itself)."""

    fala_s: float
    qualidade: str
    modelo: str
    cadastrada_em: datetime


@dataclass(frozen=True, slots=True)
class Atendente:
    """One attendant as admins see it; `voz` is None until a voice is enrolled."""

    id: str
    cliente_id: str
    nome: str
    consentimento_at: datetime
    created_at: datetime
    loja_id: str | None = None
    voz: Voz | None = None


def _with_voice(row: dict[str, Any]) -> Atendente:
    fala_s, qualidade, modelo, em = (row.pop(k) for k in ("fala_s", "qualidade", "modelo", "em"))
    voz = None if modelo is None else Voz(round(float(fala_s), 2), qualidade, modelo, em)
    return Atendente(**row, voz=voz)


def create_atendente(
    conn: psycopg.Connection, cliente_id: str, nome: str, loja_id: str | None = None
) -> str | None:
    """Insert an attendant whose consent is given now (of one store when `loja_id`).

    Its id, or None for an unknown cliente; `UnknownLoja` when the store is not the cliente's.
    """
    with conn.transaction():
        if not cliente_exists(conn, cliente_id):
            return None
        require_of_cliente(conn, cliente_id, loja_id)
        new_id = str(uuid.uuid4())
        try:
            with conn.transaction():
                conn.execute(
                    "INSERT INTO atendentes (id, cliente_id, nome, consentimento_at, loja_id)"
                    " VALUES (%s, %s, %s, now(), %s)",
                    (new_id, cliente_id, nome, loja_id),
                )
        except psycopg.errors.UniqueViolation as exc:
            raise DuplicateAtendente(nome) from exc
    return new_id


def list_atendentes(
    conn: psycopg.Connection, cliente_id: str | None, loja_id: str | None = None
) -> list[Atendente]:
    """Live attendants, of one cliente or of all (of one store when `loja_id`), by name."""
    where, params = "a.removed_at IS NULL", []
    if cliente_id is not None:
        where += " AND a.cliente_id = %s"
        params.append(cliente_id)
    if loja_id is not None:
        where += " AND a.loja_id = %s"
        params.append(loja_id)
    with conn.cursor(row_factory=dict_row) as cur:
        rows: list[dict[str, Any]] = cur.execute(
            "SELECT a.id::text, a.cliente_id::text, a.nome, a.consentimento_at, a.created_at,"
            " a.loja_id::text, v.speech_s AS fala_s, v.verdict AS qualidade, v.model AS modelo,"
            " v.created_at AS em"
            " FROM atendentes a LEFT JOIN voiceprints v ON v.atendente_id = a.id"
            f" WHERE {where} ORDER BY lower(a.nome), a.created_at",
            params,
        ).fetchall()
    return [_with_voice(row) for row in rows]


def get_atendente(conn: psycopg.Connection, atendente_id: str) -> Atendente | None:
    """One live attendant, or None."""
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(
            "SELECT id::text, cliente_id::text, nome, consentimento_at, created_at,"
            " loja_id::text FROM atendentes WHERE id = %s AND removed_at IS NULL",
            (atendente_id,),
        ).fetchone()
    return None if row is None else Atendente(**row)


def place_atendente(conn: psycopg.Connection, atendente_id: str, loja_id: str | None) -> bool:
    """Say which store of her chain a live attendant works in (None: the chain as a whole).

    False when there is no live attendant; `UnknownLoja` for a store not of her chain. Her
    voiceprint stays; sessions see the move at their next segment (migration 0023 bumps the
    chain's voiceprint epoch).
    """
    with conn.transaction():
        row = conn.execute(
            "SELECT cliente_id::text FROM atendentes WHERE id = %s AND removed_at IS NULL"
            " FOR UPDATE",
            (atendente_id,),
        ).fetchone()
        if row is None:
            return False
        require_of_cliente(conn, row[0], loja_id)
        conn.execute("UPDATE atendentes SET loja_id = %s WHERE id = %s", (loja_id, atendente_id))
    return True


def rename_atendente(conn: psycopg.Connection, atendente_id: str, nome: str) -> str | None:
    """Correct a live attendant's name; return the name she had, None when there is none.

    `DuplicateAtendente` when another live attendant of her chain has that name. Her voiceprint
    stays; sessions name her anew from their next segment (migration 0029 bumps the epoch); what
    the history stored keeps the name of its time.
    """
    with conn.transaction():
        row = conn.execute(
            "SELECT nome FROM atendentes WHERE id = %s AND removed_at IS NULL FOR UPDATE",
            (atendente_id,),
        ).fetchone()
        if row is None:
            return None
        try:
            with conn.transaction():
                conn.execute("UPDATE atendentes SET nome = %s WHERE id = %s", (nome, atendente_id))
        except psycopg.errors.UniqueViolation as exc:
            raise DuplicateAtendente(nome) from exc
    return str(row[0])


def names_at_balcao(conn: psycopg.Connection, cliente_id: str, loja_id: str | None) -> list[str]:
    """The names an attendant signing in at a balcão chooses from, by name.

    The live attendants of its store and the chain-wide ones (a balcão of no store: all of the
    chain's).
    """
    rows = conn.execute(
        "SELECT nome FROM atendentes WHERE cliente_id = %s AND removed_at IS NULL"
        " AND (%s::uuid IS NULL OR loja_id IS NULL OR loja_id = %s::uuid)"
        " ORDER BY lower(nome), nome",
        (cliente_id, loja_id, loja_id),
    ).fetchall()
    return [row[0] for row in rows]


def remove_atendente(conn: psycopg.Connection, atendente_id: str) -> bool:
    """Mark the attendant removed; False when there was no live one."""
    with conn.transaction():
        cur = conn.execute(
            "UPDATE atendentes SET removed_at = now() WHERE id = %s AND removed_at IS NULL",
            (atendente_id,),
        )
    return cur.rowcount == 1
