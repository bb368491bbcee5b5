"""A gestor's two-step verification as stored: set up, confirm, check a code, turn off.

Functions take a psycopg connection and run in the store's worker threads (`Database.run`). Codes
are checked here, inside the transaction that locks the account's row, so two requests racing
with the same code cannot both be accepted (`balto.totp` for the codes themselves). The secrets
are stored sealed (`balto.sealing`).
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import psycopg

from balto import totp
from balto.errors import BaltoError
from balto.sealing import TOTP, Box


class AlreadyOn(BaltoError):
    """The account already has two-step verification on."""


class Confirmed(Enum):
    """Why a confirmation did not turn two-step verification on."""

    NOTHING_PENDING = "nothing_pending"
    WRONG_CODE = "wrong_code"


def start(conn: psycopg.Connection, gestor_id: str, secret: str, box: Box) -> bool:
    """Keep `secret` (sealed in `box`) as the one being set up, replacing an earlier one.

    False: no such active account. `AlreadyOn` when it is on already (turn it off first).
    """
    with conn.transaction():
        row = conn.execute(
            "SELECT totp_segredo IS NOT NULL FROM gestores"
            " WHERE id = %s AND desativado_em IS NULL FOR UPDATE",
            (gestor_id,),
        ).fetchone()
        if row is None:
            return False
        if row[0]:
            raise AlreadyOn(gestor_id)
        conn.execute(
            "UPDATE gestores SET totp_pendente = %s WHERE id = %s",
            (box.seal(TOTP, secret), gestor_id),
        )
    return True


def confirm(
    conn: psycopg.Connection, gestor_id: str, code: str, recovery_hashes: list[str], box: Box
) -> datetime | Confirmed:
    """Turn it on when `code` comes from the secret being set up; the new stamp, or why not.

    The recovery codes replace any older ones, and a new session stamp ends the account's other
    sessions (they signed in without the second step).
    """
    with conn.transaction():
        row = conn.execute(
            "SELECT totp_pendente FROM gestores"
            " WHERE id = %s AND desativado_em IS NULL AND totp_segredo IS NULL FOR UPDATE",
            (gestor_id,),
        ).fetchone()
        if row is None or row[0] is None:
            return Confirmed.NOTHING_PENDING
        step = totp.accepted_step(box.open(TOTP, row[0]), code, 0)
        if step is None:
            return Confirmed.WRONG_CODE
        stamp: datetime = conn.execute(
            "UPDATE gestores SET totp_segredo = totp_pendente, totp_pendente = NULL,"
            " totp_passo = %s, senha_em = clock_timestamp() WHERE id = %s RETURNING senha_em",
            (step, gestor_id),
        ).fetchone()[0]  # type: ignore[index]
        conn.execute("DELETE FROM gestor_recuperacao WHERE gestor_id = %s", (gestor_id,))
        with conn.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO gestor_recuperacao (gestor_id, codigo_hash) VALUES (%s, %s)",
                [(gestor_id, h) for h in recovery_hashes],
            )
    return stamp


def pending(conn: psycopg.Connection, gestor_id: str, box: Box) -> str | None:
    """The secret being set up for an active account that has none on, or None."""
    row = conn.execute(
        "SELECT totp_pendente FROM gestores WHERE id = %s AND desativado_em IS NULL"
        " AND totp_segredo IS NULL",
        (gestor_id,),
    ).fetchone()
    return None if row is None or row[0] is None else box.open(TOTP, row[0])


def require(conn: psycopg.Connection, cliente_id: str, required: bool) -> bool:
    """Require it (or not) of every gestor of the cliente; False for an unknown cliente."""
    with conn.transaction():
        row = conn.execute(
            "UPDATE clientes SET exige_dois_fatores = %s WHERE id = %s RETURNING 1",
            (required, cliente_id),
        ).fetchone()
    return row is not None


def check_code(conn: psycopg.Connection, gestor_id: str, code: str, box: Box) -> bool:
    """Whether `code` passes the account's second step now; passing uses it up.

    An authenticator code newer than the last one accepted, or an unused recovery code.
    """
    with conn.transaction():
        row = conn.execute(
            "SELECT totp_segredo, totp_passo FROM gestores"
            " WHERE id = %s AND desativado_em IS NULL AND totp_segredo IS NOT NULL FOR UPDATE",
            (gestor_id,),
        ).fetchone()
        if row is None:
            return False
        secret, last_step = row
        if totp.looks_like_totp(code):
            step = totp.accepted_step(box.open(TOTP, secret), code, last_step)
            if step is None:
                return False
            conn.execute("UPDATE gestores SET totp_passo = %s WHERE id = %s", (step, gestor_id))
            return True
        hashed = totp.recovery_hash(code)
        if hashed is None:
            return False
        used = conn.execute(
            "UPDATE gestor_recuperacao SET usado_em = now()"
            " WHERE gestor_id = %s AND codigo_hash = %s AND usado_em IS NULL RETURNING 1",
            (gestor_id, hashed),
        ).fetchone()
    return used is not None


def recovery_left(conn: psycopg.Connection, gestor_id: str) -> int:
    """How many of the account's recovery codes are still unused."""
    row = conn.execute(
        "SELECT count(*) FROM gestor_recuperacao WHERE gestor_id = %s AND usado_em IS NULL",
        (gestor_id,),
    ).fetchone()
    return int(row[0]) if row else 0


def turn_off(conn: psycopg.Connection, gestor_id: str, *, end_sessions: bool) -> bool:
    """Back to the password alone (its recovery codes go too); False when it was not on.

    `end_sessions` (someone else turned it off, e.g. for a lost phone) also ends the account's
    open sessions.
    """
    stamp = ", senha_em = clock_timestamp()" if end_sessions else ""
    with conn.transaction():
        row = conn.execute(
            "UPDATE gestores SET totp_segredo = NULL, totp_pendente = NULL"
            + stamp
            + " WHERE id = %s AND totp_segredo IS NOT NULL RETURNING 1",
            (gestor_id,),
        ).fetchone()
        conn.execute("DELETE FROM gestor_recuperacao WHERE gestor_id = %s", (gestor_id,))
    return row is not None
