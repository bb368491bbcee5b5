"""A chain's API key's budget of work per minute, counted in PostgreSQL for the whole cluster.

Each request costs units (1 for most routes; more for the heavy ones, `balto.web.key_limit`).
The budget is a sliding window estimated from two fixed minutes, as rate limiters at scale do:
what was spent this minute plus last minute's spending weighted by the part of it still inside
the last 60 s. A request over budget is not counted (a client that waits is served), and the
call answers how long to wait. The count takes one row lock per key and minute, so requests of
one key on many instances are counted exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import psycopg

WINDOW_S = 60.0


@dataclass(frozen=True, slots=True)
class Spent:
    """The outcome of one spend: allowed or not, what is left, and when to come back."""

    allowed: bool
    remaining: int  # units left in the window after this request (0 when refused)
    retry_after_s: int  # whole seconds until this request would be allowed (0 when allowed)


def spend(conn: psycopg.Connection, chave_id: str, cost: int, budget: int) -> Spent:
    """Spend `cost` units of the key's `budget` per minute, unless that would go over it."""
    cost = max(1, min(cost, budget))  # a route dearer than the budget could never be served
    with conn.transaction() as tx:
        row = conn.execute(
            "INSERT INTO chave_uso AS u (chave_id, minuto, custo)"
            " VALUES (%s, date_trunc('minute', now()), %s)"
            " ON CONFLICT (chave_id, minuto) DO UPDATE SET custo = u.custo + excluded.custo"
            " RETURNING u.custo, extract(epoch FROM now() - date_trunc('minute', now()))::float8,"
            " (SELECT p.custo FROM chave_uso p WHERE p.chave_id = u.chave_id"
            "  AND p.minuto = date_trunc('minute', now()) - interval '1 minute')",
            (chave_id, cost),
        ).fetchone()
        assert row is not None  # an upsert always returns its row
        current, elapsed, previous = int(row[0]), float(row[1]), int(row[2] or 0)
        used = _used(current, previous, elapsed)
        if used <= budget:
            if current == cost:  # the minute's first request: the key's older minutes go
                conn.execute(
                    "DELETE FROM chave_uso WHERE chave_id = %s"
                    " AND minuto < date_trunc('minute', now()) - interval '1 minute'",
                    (chave_id,),
                )
            return Spent(True, max(0, math.floor(budget - used)), 0)
        wait = _wait_s(current - cost, previous, elapsed, cost, budget)
        raise psycopg.Rollback(tx)  # not counted: a refused request spends nothing
    return Spent(False, 0, wait)  # reached only through the rollback above


def _used(current: int, previous: int, elapsed: float) -> float:
    """The window's units: this minute's, and the last minute's part still within 60 s."""
    return current + previous * (1.0 - elapsed / WINDOW_S)


def _wait_s(current: int, previous: int, elapsed: float, cost: int, budget: int) -> int:
    """Seconds until `cost` more fits: within this minute as the last one fades, or the next."""
    room = budget - cost
    if previous > 0:
        # current + previous * (1 - (elapsed + t) / W) <= room
        t = (_used(current, previous, elapsed) - room) * WINDOW_S / previous
        if elapsed + t <= WINDOW_S:
            return max(1, math.ceil(t))
    # next minute, at t' from its start: current * (1 - t' / W) <= room
    later = 0.0 if current <= room else WINDOW_S * (1.0 - room / current)
    return max(1, math.ceil(WINDOW_S - elapsed + later))


def usage(conn: psycopg.Connection, cliente_id: str) -> dict[str, int]:
    """Units each of the cliente's keys has in its window now, as `spend` weighs them (by id)."""
    rows = conn.execute(
        "SELECT u.chave_id::text,"
        " coalesce(sum(u.custo) FILTER (WHERE u.minuto = date_trunc('minute', now())), 0),"
        " coalesce(sum(u.custo) FILTER (WHERE u.minuto < date_trunc('minute', now())), 0),"
        " extract(epoch FROM now() - date_trunc('minute', now()))::float8"
        " FROM chave_uso u JOIN chaves_api k ON k.id = u.chave_id"
        " WHERE k.cliente_id = %s AND u.minuto >= date_trunc('minute', now()) - interval '1 minute'"
        " GROUP BY u.chave_id",
        (cliente_id,),
    ).fetchall()
    used = {str(r[0]): math.ceil(_used(int(r[1]), int(r[2]), float(r[3]))) for r in rows}
    return {key: units for key, units in used.items() if units}
