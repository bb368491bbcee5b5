"""Balcão linking under a rate limit on failures, counted in PostgreSQL.

A linking code has six digits: guessable. `link_balcao` refuses an attempt while its client
address, or the code it tries, has `FailureLimit.max_failures` unknown-code failures within the
last `FailureLimit.window_s` seconds — even when the code is right, so a guesser learns nothing
while limited. Failures live in ``cadastro_failures`` (migration 0006), so every instance sees
the same counts; two advisory locks (address, then code: one order, no deadlock) make the check
and the record atomic, so concurrent requests cannot slip past the limit. Plain sync functions of
a connection (run them through `Database.run`, one transaction each).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg.rows import dict_row

from balto.store.cadastro import insert_balcao
from balto.store.history import Cursor, Page
from balto.store.link_codes import owner_of_code

_ADDRESS_LOCK = 0x0BA171  # advisory-lock namespaces (arbitrary, constant)
_CODE_LOCK = 0x0BA172
RETENTION = "30 days"  # failures older than this are pruned as new ones come


@dataclass(frozen=True, slots=True)
class FailureLimit:
    """How many unknown-code failures an address or a code may have within the window."""

    max_failures: int = 5
    window_s: float = 60.0


@dataclass(frozen=True, slots=True)
class LinkResult:
    """What a linking attempt came to.

    Attributes:
        created: ``(api_key, balcao_id)`` when the balcão was registered.
        retry_after_s: Whole seconds to wait, when refused by the rate limit.
    """

    created: tuple[str, str] | None = None
    retry_after_s: int | None = None
    suspended: bool = False  # the code's cliente is suspended (`balto.store.suspension`)

    @property
    def unknown_code(self) -> bool:
        """True when the code matched no cliente (and the attempt was not rate-limited)."""
        return self.created is None and self.retry_after_s is None and not self.suspended


def _wait_s(conn: psycopg.Connection, column: str, value: str, limit: FailureLimit) -> float | None:
    """Seconds until `column` = `value` drops below the limit, or None when it is not limited.

    The limit lifts when the `max_failures`-th newest failure in the window leaves it.
    """
    row = conn.execute(
        f"SELECT extract(epoch FROM at + make_interval(secs => %s) - now())::float8"
        f" FROM cadastro_failures WHERE {column} = %s AND reason = 'unknown_code'"
        " AND at > now() - make_interval(secs => %s) ORDER BY at DESC OFFSET %s LIMIT 1",
        (limit.window_s, value, limit.window_s, limit.max_failures - 1),
    ).fetchone()
    return None if row is None else float(row[0])


def _record(conn: psycopg.Connection, remote_addr: str, codigo: str, reason: str) -> None:
    conn.execute(
        "INSERT INTO cadastro_failures (remote_addr, codigo, reason) VALUES (%s, %s, %s)",
        (remote_addr, codigo, reason),
    )
    conn.execute(f"DELETE FROM cadastro_failures WHERE at < now() - interval '{RETENTION}'")


def link_balcao(
    conn: psycopg.Connection,
    codigo: str,
    nome_balcao: str,
    remote_addr: str,
    limit: FailureLimit,
) -> LinkResult:
    """Register a balcão under `codigo` unless `remote_addr` or `codigo` is rate-limited.

    Args:
        conn: A connection (the call is one transaction).
        codigo: The 6-digit linking code tried.
        nome_balcao: The new balcão's name.
        remote_addr: The client's address, as the server sees it.
        limit: The failure limit.

    Returns:
        The outcome; refused and unknown-code attempts are recorded in ``cadastro_failures``.
    """
    conn.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (_ADDRESS_LOCK, remote_addr))
    conn.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (_CODE_LOCK, codigo))
    waits = [
        wait
        for column, value in (("remote_addr", remote_addr), ("codigo", codigo))
        if (wait := _wait_s(conn, column, value, limit)) is not None
    ]
    if waits:
        _record(conn, remote_addr, codigo, "rate_limited")
        return LinkResult(retry_after_s=max(1, math.ceil(max(waits))))
    owner = owner_of_code(conn, codigo)
    if owner is None:
        _record(conn, remote_addr, codigo, "unknown_code")
        return LinkResult()
    cliente_id, loja_id, suspended = owner
    if suspended:
        # a right code: not counted against the limit, only kept for the operator to see
        _record(conn, remote_addr, codigo, "suspended")
        return LinkResult(suspended=True)
    return LinkResult(created=insert_balcao(conn, cliente_id, loja_id, nome_balcao))


def failures_page(
    conn: psycopg.Connection,
    limit: int,
    cursor: Cursor | None,
    desde: datetime | None,
    ate: datetime | None,
) -> Page:
    """Recorded failures, newest first, keyset-paginated on ``(at, id)``."""
    parts: list[str] = []
    params: list[object] = []
    for condition, value in (("at >= %s", desde), ("at < %s", ate)):
        if value is not None:
            parts.append(condition)
            params.append(value)
    if cursor is not None:
        parts.append("(at, id) < (%s, %s::bigint)")
        params += [cursor.at, cursor.id]
    where = f" WHERE {' AND '.join(parts)}" if parts else ""
    sql = (
        "SELECT id, at, remote_addr, codigo, reason FROM cadastro_failures"
        f"{where} ORDER BY at DESC, id DESC LIMIT %s"
    )
    rows = conn.cursor(row_factory=dict_row).execute(sql.encode(), [*params, limit + 1]).fetchall()
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = Cursor(rows[-1]["at"], str(rows[-1]["id"])) if more else None
    return Page(rows, next_cursor)
