"""Which pooled connections to test before handing them out: those idle for a while.

In: the pool's connections as it returns them (`RecentUse.returned`, its ``reset`` callback) and as
it hands them out (`RecentUse.check`, its ``check`` callback). Out: nothing; `check` raises what
`ConnectionPool.check_connection` raises for a dead connection, and the pool replaces it.

Why: testing every connection as it leaves the pool (psycopg_pool's `check_connection`, one empty
query) doubled the round trips of a busy server: every recorder batch and every per-utterance read
paid a second one. A connection back in the pool less than `FRESH_S` ago worked then, and a
database restart takes longer than that, so it is handed out untested; one idle longer (the case
after an outage or a restart, which the check is for) is tested as before. HikariCP skips its
liveness test the same way (``aliveBypassWindowMs``, 500 ms). If a connection still turns out
dead, its query fails as `DatabaseUnavailable`, which every caller already handles (the recorder
spools, reads fall back), and the pool drops the broken connection when it comes back.
"""

from __future__ import annotations

import time
import weakref

import psycopg
from psycopg_pool import ConnectionPool

FRESH_S = 0.5
"""A connection returned to the pool this recently is handed out without a test query."""


class RecentUse:
    """When each pooled connection last came back to the pool (one per pool)."""

    def __init__(self, fresh_s: float = FRESH_S) -> None:
        """Nothing returned yet: every connection is tested the first time.

        `fresh_s`: how recently a connection must have come back to skip its test.
        """
        self._fresh_s = fresh_s
        self._returned: weakref.WeakKeyDictionary[psycopg.Connection, float] = (
            weakref.WeakKeyDictionary()
        )

    def returned(self, conn: psycopg.Connection) -> None:
        """The pool's ``reset`` callback: `conn` is back, idle and working."""
        self._returned[conn] = time.monotonic()

    def check(self, conn: psycopg.Connection) -> None:
        """The pool's ``check`` callback: test `conn` unless it came back within `fresh_s`.

        Raises:
            psycopg.Error: The connection does not work (the pool discards it).
        """
        back = self._returned.get(conn)
        if back is not None and time.monotonic() - back < self._fresh_s:
            return
        ConnectionPool.check_connection(conn)
