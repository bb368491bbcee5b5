"""Applying recorder events to PostgreSQL, each with effect once.

`apply_events` runs a batch in one transaction (one `Database.run`, one commit). When the database
refuses an event for its content (a constraint, a bad value: a bug, not an outage), the batch is
rolled back and applied again with every event in its own savepoint, so that event is logged with
its full line and skipped, and one bad event cannot block every later one. Why not savepoints
always: they cost two more round trips per event, and psycopg opens a transaction of its own when
none is open, so each event had become its own transaction with its own commit.

An event applied a second time (a batch that committed just as the connection died, then was
spooled and replayed; or a crash between a replayed batch's commit and the cursor) changes
nothing: inserts of rows without a key of their own carry the event's id (unique, ON CONFLICT
DO NOTHING), every other kind is idempotent (`balto.recorder.events`). Connection errors propagate
(`Database.run` turns them into `DatabaseUnavailable`) and nothing is committed.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import psycopg

from balto.recorder.events import Event

log = logging.getLogger("balto.recorder")


_REFUSED = (psycopg.Error, TypeError, ValueError, KeyError)  # an event's content, not an outage


def apply_events(conn: psycopg.Connection, events: Sequence[Event]) -> int:
    """Apply `events` in order on `conn`, in one transaction; how many the database accepted.

    Raises:
        psycopg.OperationalError: The connection failed; nothing of the batch is committed.
    """
    try:
        with conn.transaction():
            unmatched = [event for event in events if event.call(conn) is False]
    except psycopg.OperationalError:
        raise
    except _REFUSED:
        return _one_by_one(conn, events)  # rolled back: apply again, skipping what is refused
    for event in unmatched:
        _matched_nothing(event)
    return len(events)


def _one_by_one(conn: psycopg.Connection, events: Sequence[Event]) -> int:
    """`apply_events` with every event in a savepoint: a refused one is logged and skipped."""
    applied = 0
    with conn.transaction():
        for event in events:
            try:
                with conn.transaction():  # a savepoint: a refused event leaves the others alone
                    result = event.call(conn)
            except psycopg.OperationalError:
                raise
            except _REFUSED as exc:
                log.error("recorder: event refused and skipped (%s): %r", exc, event.to_line())
                continue
            applied += 1
            if result is False:
                _matched_nothing(event)
    return applied


def _matched_nothing(event: Event) -> None:
    # e.g. feedback for a recommendation not made at this balcão
    log.warning("recorder: %s %s matched nothing", event.kind, list(event.args)[:1])
