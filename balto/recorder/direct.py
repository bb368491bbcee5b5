"""`DirectRecorder`: the recorder port without a spool, for tools and tests that own a database.

Each event is written at once through `Database.run` (and raises `DatabaseUnavailable` when the
database is away, like any direct query). The server uses `balto.recorder.Recorder`, which never
raises for an outage; this one exists so a contract test can drive an actor and read its rows
right after, the way httpx ships a mock transport next to the real ones.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Concatenate, ParamSpec

import psycopg

from balto.recorder.events import Event
from balto.store.database import Database

P = ParamSpec("P")


class DirectRecorder:
    """Writes each event straight to the database, in the caller's task."""

    def __init__(self, db: Database) -> None:
        """Write through `db`."""
        self._db = db

    async def record(
        self,
        fn: Callable[Concatenate[psycopg.Connection, P], object],
        *args: P.args,
        **kw: P.kwargs,
    ) -> None:
        """Apply ``fn(conn, *args, **kw)`` now, as the spooling recorder would (same encoding)."""
        event = Event.of(fn, args, kw)
        await self._db.run(event.call)
