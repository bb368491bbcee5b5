"""The cluster tables: instances and their heartbeats, and who holds which balcão's live session.

Every time is the database's ``now()``, so instances never compare their own clocks. An instance
is dead when its heartbeat is older than the timeout it is asked about
(``BALTO_HEARTBEAT_TIMEOUT_S``); the instance that notices (`reap_dead_instances`) removes it,
its live-session rows (``ON DELETE CASCADE``) and closes its sessions (`balto.store.reconcile`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

from balto.store.reconcile import close_sessions_of


@dataclass(frozen=True, slots=True)
class LiveRow:
    """One live session as the cluster table holds it."""

    balcao_id: str
    session_id: str
    instance_id: str
    connected_at: datetime
    snapshot: dict[str, Any]
    nome_balcao: str | None = None  # as the balcão is named now (renamed since it connected)


@dataclass(frozen=True, slots=True)
class Reaped:
    """What one reaping pass removed: dead instances and the sessions it closed."""

    instances: list[str]
    sessions: list[str]


def register_instance(conn: psycopg.Connection, instance_id: str) -> list[str]:
    """Record this instance as alive; close what a previous run under the same id left open.

    Returns the ids of the sessions closed (a previous incarnation's, killed without a goodbye).
    """
    conn.execute(
        "INSERT INTO instances (id) VALUES (%s) ON CONFLICT (id) DO UPDATE"
        " SET started_at = now(), heartbeat_at = now()",
        (instance_id,),
    )
    conn.execute("DELETE FROM live_sessions WHERE instance_id = %s", (instance_id,))
    return close_sessions_of(conn, [instance_id], alive="")


def heartbeat(
    conn: psycopg.Connection,
    instance_id: str,
    snapshots: list[tuple[str, str, str]],
    settle_s: float,
) -> bool:
    """Beat, and refresh this instance's live sessions ``(balcao_id, session_id, snapshot)``.

    The snapshots come encoded (JSON text): encoding 200 here held the GIL an estimated 10-14 ms.

    A session missing from the table (its claim failed while the database was away, or this
    instance was declared dead) is recorded again, unless another session holds its balcão.
    This instance's rows for sessions it no longer serves go, once older than `settle_s` (a
    session claimed after the list was taken is younger; one that ended while this beat ran is
    dropped at the next). Returns False when the instance had been declared dead (its row was
    gone): it is recorded again, but the session rows closed meanwhile stay closed.
    """
    beat = conn.execute(
        "UPDATE instances SET heartbeat_at = now() WHERE id = %s", (instance_id,)
    ).rowcount
    if not beat:
        conn.execute("INSERT INTO instances (id) VALUES (%s)", (instance_id,))
    conn.execute(
        "DELETE FROM live_sessions WHERE instance_id = %s AND NOT (session_id = ANY(%s::uuid[]))"
        " AND connected_at < now() - make_interval(secs => %s)",
        (instance_id, [sid for _, sid, _ in snapshots], settle_s),
    )
    if snapshots:
        with conn.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO live_sessions (balcao_id, session_id, instance_id, snapshot)"
                " VALUES (%s, %s, %s, %s) ON CONFLICT (balcao_id) DO UPDATE"
                " SET snapshot = excluded.snapshot, updated_at = now()"
                " WHERE live_sessions.session_id = excluded.session_id",
                [(bid, sid, instance_id, snapshot) for bid, sid, snapshot in snapshots],
            )
    return bool(beat)


def reap_dead_instances(conn: psycopg.Connection, me: str, timeout_s: float) -> Reaped:
    """Remove the instances silent for more than `timeout_s` and close their sessions.

    ``SKIP LOCKED``: when two instances notice at once, one of them does the work.
    """
    dead = [
        str(row[0])
        for row in conn.execute(
            "SELECT id FROM instances WHERE heartbeat_at < now() - make_interval(secs => %s)"
            " AND id <> %s FOR UPDATE SKIP LOCKED",
            (timeout_s, me),
        )
    ]
    if not dead:
        # the common case, every beat of every instance: no scan of the open sessions
        return Reaped(instances=[], sessions=[])
    conn.execute("DELETE FROM instances WHERE id = ANY(%s)", (dead,))
    closed = close_sessions_of(conn, dead, alive=me)
    return Reaped(instances=dead, sessions=closed)


def leave(conn: psycopg.Connection, instance_id: str) -> None:
    """Forget this instance at a clean stop (its sessions were closed by their handlers)."""
    conn.execute("DELETE FROM instances WHERE id = %s", (instance_id,))


def claim(
    conn: psycopg.Connection,
    balcao_id: str,
    session_id: str,
    instance_id: str,
    snapshot: dict[str, Any],
) -> tuple[str, str] | None:
    """Make this session the balcão's live one; return the ``(instance, session)`` it replaced."""
    # Serialise claims of one balcão: with no row yet, FOR UPDATE locks nothing, and two
    # instances claiming at once would each see no predecessor and never close the other.
    conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (balcao_id,))
    previous = conn.execute(
        "SELECT instance_id, session_id FROM live_sessions WHERE balcao_id = %s FOR UPDATE",
        (balcao_id,),
    ).fetchone()
    conn.execute(
        "INSERT INTO live_sessions (balcao_id, session_id, instance_id, snapshot)"
        " VALUES (%s, %s, %s, %s) ON CONFLICT (balcao_id) DO UPDATE SET"
        " session_id = excluded.session_id, instance_id = excluded.instance_id,"
        " connected_at = now(), snapshot = excluded.snapshot, updated_at = now()",
        (balcao_id, session_id, instance_id, json.dumps(snapshot)),
    )
    if previous is None or str(previous[1]) == session_id:
        return None
    return str(previous[0]), str(previous[1])


def release(conn: psycopg.Connection, balcao_id: str, session_id: str) -> None:
    """Drop the balcão's live row, unless a newer session already holds it."""
    conn.execute(
        "DELETE FROM live_sessions WHERE balcao_id = %s AND session_id = %s",
        (balcao_id, session_id),
    )


_SELECT = (
    "SELECT ls.balcao_id, ls.session_id, ls.instance_id, ls.connected_at, ls.snapshot,"
    " b.nome_balcao FROM live_sessions ls LEFT JOIN balcoes b ON b.id = ls.balcao_id"
)


def _row(row: tuple[Any, ...]) -> LiveRow:
    return LiveRow(str(row[0]), str(row[1]), str(row[2]), row[3], dict(row[4] or {}), row[5])


def live_sessions(conn: psycopg.Connection) -> list[LiveRow]:
    """Every live session of the cluster, oldest first."""
    return [_row(r) for r in conn.execute(_SELECT + " ORDER BY ls.connected_at").fetchall()]


def live_session(conn: psycopg.Connection, balcao_id: str) -> LiveRow | None:
    """The balcão's live session anywhere in the cluster, if any."""
    row = conn.execute(_SELECT + " WHERE ls.balcao_id = %s", (balcao_id,)).fetchone()
    return _row(row) if row is not None else None


def instances(conn: psycopg.Connection) -> list[str]:
    """Every instance of the cluster that has not left or been reaped."""
    return [str(r[0]) for r in conn.execute("SELECT id FROM instances ORDER BY id").fetchall()]


def notify(conn: psycopg.Connection, channel: str, payload: str) -> None:
    """Send one notification (delivered when this transaction commits)."""
    conn.execute("SELECT pg_notify(%s, %s)", (channel, payload))
