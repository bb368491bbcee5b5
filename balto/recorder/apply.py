"""Applying recorder events to PostgreSQL, each with effect once.

`apply_events` runs in one transaction (one `Database.run`), every event in its own savepoint.
An event applied a second time (a batch that committed just as the connection died, then was
spooled and replayed; or a crash between a replayed batch's commit and the cursor) changes
nothing: inserts of rows without a key of their own carry the event's id (unique, ON CONFLICT
DO NOTHING), every other kind is idempotent (`balto.recorder.events`). An event the database
refuses for its content (a constraint, a bad value: a bug, not an outage) is logged with its full
line and skipped, so one bad event cannot block every later one. Connection errors propagate
(`Database.run` turns them into `DatabaseUnavailable`) and nothing is committed.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import psycopg

from balto.recorder.events import Event

log = logging.getLogger("balto.recorder")


def apply_events(conn: psycopg.Connection, events: Sequence[Event]) -> int:
    """Apply `events` in order on `conn`; how many the database accepted.

    Raises:
        psycopg.OperationalError: The connection failed; nothing of the batch is committed.
    """
    applied = 0
    for event in events:
        try:
            with conn.transaction():  # a savepoint: a refused event leaves the others alone
                result = event.call(conn)
        except psycopg.OperationalError:
            raise
        except (psycopg.Error, TypeError, ValueError, KeyError) as exc:
            log.error("recorder: event refused and skipped (%s): %r", exc, event.to_line())
            continue
        applied += 1
        if result is False:  # e.g. feedback for a recommendation not made at this balcão
            log.warning("recorder: %s %s matched nothing", event.kind, list(event.args)[:1])
    return applied
