"""Applying recorder events to PostgreSQL, each exactly once.

`apply_events` runs in one transaction (one `Database.run`): every event in its own savepoint,
first claiming its id in ``recorder_applied``. An id already there was applied before (a batch
that committed just as the connection died, then was spooled and replayed): it is skipped. An
event the database refuses for its content (a constraint, a bad value: a bug, not an outage) is
logged with its full line and skipped, so one bad event cannot block every later one. Connection
errors propagate (`Database.run` turns them into `DatabaseUnavailable`) and nothing is committed.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import psycopg

from balto.recorder.events import Event

log = logging.getLogger("balto.recorder")

PRUNE_AFTER = "7 days"  # no spool outlives this: older exactly-once keys are dropped at start


def apply_events(conn: psycopg.Connection, events: Sequence[Event]) -> int:
    """Apply `events` in order on `conn`; how many were new (not applied before).

    Raises:
        psycopg.OperationalError: The connection failed; nothing of the batch is committed.
    """
    fresh = 0
    for event in events:
        try:
            with conn.transaction():  # a savepoint: a refused event leaves the others alone
                claimed = conn.execute(
                    "INSERT INTO recorder_applied (event_id, kind) VALUES (%s, %s)"
                    " ON CONFLICT (event_id) DO NOTHING",
                    (event.id, event.kind),
                ).rowcount
                if not claimed:
                    continue
                result = event.call(conn)
        except psycopg.OperationalError:
            raise
        except (psycopg.Error, TypeError, ValueError, KeyError) as exc:
            log.error("recorder: event refused and skipped (%s): %r", exc, event.to_line())
            continue
        fresh += 1
        if result is False:  # e.g. feedback for a recommendation not made at this balcão
            log.warning("recorder: %s %s matched nothing", event.kind, list(event.args)[:1])
    return fresh


def prune_applied(conn: psycopg.Connection) -> int:
    """Forget exactly-once keys older than `PRUNE_AFTER`; how many."""
    return conn.execute(
        f"DELETE FROM recorder_applied WHERE applied_at < now() - interval '{PRUNE_AFTER}'"
    ).rowcount
