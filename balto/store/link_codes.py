"""Linking codes: the 6 digits a balcão is linked with, a chain's (clientes) or a store's (lojas).

Both kinds share one space, so a code names one place; they live in two tables, so no constraint
can see both: every code is handed out here, under one advisory lock for the transaction, and
checked free in both tables (each keeps its own UNIQUE besides).
"""

from __future__ import annotations

import secrets

import psycopg

_CODES_LOCK = 0x0BA175  # advisory-lock key (arbitrary, constant; cadastro uses ..71-74)
_TRIES = 50


def free_code(conn: psycopg.Connection) -> str:
    """A code no cliente and no store has; the caller stores it in this same transaction."""
    conn.execute("SELECT pg_advisory_xact_lock(%s)", (_CODES_LOCK,))
    for _ in range(_TRIES):
        codigo = f"{secrets.randbelow(1_000_000):06d}"
        taken = conn.execute(
            "SELECT 1 FROM clientes WHERE codigo = %s UNION ALL SELECT 1 FROM lojas"
            " WHERE codigo = %s",
            (codigo, codigo),
        ).fetchone()
        if taken is None:
            return codigo
    raise RuntimeError(f"no free 6-digit linking code after {_TRIES} tries")


def owner_of_code(conn: psycopg.Connection, codigo: str) -> tuple[str, str | None, bool] | None:
    """The (cliente id, store id or None, cliente suspended) a code links to, or None."""
    row = conn.execute(
        "SELECT id, NULL::uuid, suspenso_em IS NOT NULL FROM clientes WHERE codigo = %s"
        " UNION ALL SELECT l.cliente_id, l.id, c.suspenso_em IS NOT NULL"
        " FROM lojas l JOIN clientes c ON c.id = l.cliente_id WHERE l.codigo = %s",
        (codigo, codigo),
    ).fetchone()
    if row is None:
        return None
    return str(row[0]), None if row[1] is None else str(row[1]), bool(row[2])
