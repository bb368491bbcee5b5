"""The database handle: a sync psycopg pool, used from Trio through worker threads.

psycopg's async API is asyncio-only (psycopg issue #29), so every query runs in a worker thread
under a `trio.CapacityLimiter` sized to the pool (STACK-NOTES Q5).

When the server cannot be reached, `Database.run` raises `DatabaseUnavailable` within the pool's
wait (``BALTO_DB_TIMEOUT_S``) instead of a driver error, so routes answer 503 and callers can tell
"the database is away" from a bad query. `Database.reachable` is the readiness check: free while
queries succeed, otherwise one bounded ``SELECT 1`` whose answer is kept for a second, however
often it is asked.

After an outage the pool itself may lag: psycopg_pool retries a failed connection with a delay
that doubles each time (1, 2, 4, 8 … s), so after a long outage it may wait about as long again
before it tries once more. So the readiness probe asks the pool briefly and, when the pool cannot
answer, opens one direct connection (a refused socket answers at once); if the server answers but
the pool does not, the stuck pool is replaced by a fresh one at once.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from collections.abc import AsyncIterator, Callable
from functools import partial
from typing import Concatenate, ParamSpec, TypeVar

import psycopg
import trio
from psycopg_pool import ConnectionPool

from balto.errors import BaltoError
from balto.store.migrations import apply_migrations
from balto.store.pool_check import RecentUse

log = logging.getLogger(__name__)

T = TypeVar("T")
P = ParamSpec("P")

POOL_SIZE = 8  # 2 cores: more connections only queue inside PostgreSQL
WAIT_S = 2.0  # the pool's wait for a connection (BALTO_DB_TIMEOUT_S)
FRESH_S = 1.0  # a reachability answer is good for this long
PROBE_TIMEOUT_S = 1.0  # the readiness SELECT 1's budget
# How long the readiness probe waits for one of the pool's connections before it opens its own
# (a pool whose connections died with the server fails at once anyway; this bounds an empty one).
POOL_FIRST_TIMEOUT_S = 0.3
# SQLSTATEs meaning "the server is away", besides connection errors (no SQLSTATE, class 08):
# admin_shutdown, crash_shutdown, cannot_connect_now.
_AWAY = frozenset({"57P01", "57P02", "57P03"})


class DatabaseUnavailable(BaltoError):
    """The database server cannot be reached (or is shutting down); try again later."""


def _unreachable(exc: psycopg.OperationalError) -> bool:
    # PoolTimeout is an OperationalError without a SQLSTATE; QueryCanceled or a deadlock carry one
    state = exc.sqlstate
    return state is None or state.startswith("08") or state in _AWAY


class Database:
    """Runs functions of a `psycopg.Connection` in worker threads, one pooled connection each."""

    def __init__(
        self,
        pool: ConnectionPool,
        limiter: trio.CapacityLimiter,
        make_pool: Callable[[], ConnectionPool] | None = None,
        dsn: str = "",
    ) -> None:
        """Wrap an open pool; use `open_database` to make one.

        `make_pool` builds an unopened replacement pool on `dsn` (used when the old one lags an
        outage).
        """
        self._pool = pool
        self._limiter = limiter
        self._make_pool = make_pool
        self._dsn = dsn
        # time.monotonic() (worker threads set them): last query that worked, last that could not
        # reach the server, last readiness probe and its answer.
        self._last_ok = self._last_away = self._probed_at = -math.inf
        self._probe_ok = False
        self._probe_lock = trio.Lock()

    def _call(
        self, fn: Callable[Concatenate[psycopg.Connection, P], T], *args: P.args, **kw: P.kwargs
    ) -> T:
        try:
            with self._pool.connection() as conn:
                result = fn(conn, *args, **kw)
        except psycopg.OperationalError as exc:
            if not _unreachable(exc):
                raise
            self._last_away = time.monotonic()
            raise DatabaseUnavailable(str(exc) or type(exc).__name__) from exc
        self._last_ok = time.monotonic()
        return result

    def _probe(self) -> bool:
        # The pool first, briefly: a SELECT 1 on one of its connections is the question itself.
        # A new connection first (as before) also needs the host name to resolve right then;
        # likely why deploy/check's failover step, as podman dropped the stopped container from
        # the network, got `database_unreachable` from the instance left. Only when the pool
        # cannot answer, a connection of its own tells a server away (refused at once) from a
        # pool that lags an outage (renewed).
        try:
            with self._pool.connection(timeout=POOL_FIRST_TIMEOUT_S) as conn:
                conn.execute("SELECT 1")
        except psycopg.Error:
            if not (self._dsn and self._server_answers() and self._renew()):
                self._last_away = time.monotonic()
                return False
        self._last_ok = time.monotonic()
        return True

    def _server_answers(self) -> bool:
        try:
            with psycopg.connect(self._dsn, connect_timeout=max(1, int(PROBE_TIMEOUT_S))) as conn:
                conn.execute("SELECT 1")
        except psycopg.Error:
            return False
        return True

    def _renew(self) -> bool:
        """The server answers but the pool does not: swap in a fresh pool."""
        if self._make_pool is None or not self._dsn:
            return False
        fresh = self._make_pool()
        try:
            fresh.open(wait=True, timeout=PROBE_TIMEOUT_S * 5)
        except psycopg.Error:
            fresh.close(timeout=0)
            return False
        old, self._pool = self._pool, fresh
        # Without waiting: connections still checked out of it are closed as they come back.
        old.close(timeout=0)
        log.warning("database answers again: replaced the connection pool that was backing off")
        return True

    def close(self) -> None:
        """Close the pool; blocking, for a worker thread."""
        self._pool.close(timeout=5.0)

    async def reachable(self) -> bool:
        """Whether the database answers, at most one probe per `FRESH_S` (readiness checks).

        True at no cost when a query succeeded within `FRESH_S` and none failed since; otherwise
        a ``SELECT 1`` bounded by `PROBE_TIMEOUT_S`, whose answer is reused for `FRESH_S`.
        """
        if time.monotonic() - self._last_ok < FRESH_S and self._last_ok > self._last_away:
            return True
        async with self._probe_lock:  # concurrent callers wait for one probe and share it
            if time.monotonic() - self._probed_at < FRESH_S:
                return self._probe_ok
            ok = False
            with trio.move_on_after(PROBE_TIMEOUT_S + 0.5):
                ok = await trio.to_thread.run_sync(self._probe, abandon_on_cancel=True)
            self._probe_ok, self._probed_at = ok, time.monotonic()
            return ok

    async def run(
        self, fn: Callable[Concatenate[psycopg.Connection, P], T], *args: P.args, **kw: P.kwargs
    ) -> T:
        """Run ``fn(conn, *args)`` in a transaction on a pooled connection; commit on return."""
        return await trio.to_thread.run_sync(
            partial(self._call, fn, *args, **kw), limiter=self._limiter
        )

    @property
    def away(self) -> bool:
        """Whether the last thing that touched the server found it away (no success since)."""
        return self._last_away > self._last_ok

    async def run_within(
        self,
        timeout_s: float,
        fn: Callable[Concatenate[psycopg.Connection, P], T],
        *args: P.args,
        **kw: P.kwargs,
    ) -> T:
        """`run`, but raise `DatabaseUnavailable` after `timeout_s` (reads on a deadline).

        Past the deadline the worker thread is abandoned; it finishes (or fails) on its own and
        holds its pool slot until then.
        """
        with trio.move_on_after(timeout_s):
            return await trio.to_thread.run_sync(
                partial(self._call, fn, *args, **kw),
                limiter=self._limiter,
                abandon_on_cancel=True,
            )
        raise DatabaseUnavailable(f"no answer within {timeout_s:.1f} s")


@contextlib.asynccontextmanager
async def open_database(
    dsn: str, pool_size: int = POOL_SIZE, wait_s: float = WAIT_S
) -> AsyncIterator[Database]:
    """Open a pool on `dsn`, apply migrations, and close the pool on exit.

    `wait_s` bounds how long a query waits for a connection before `DatabaseUnavailable`.
    """

    # `check`: a connection idle for a while is tested as it leaves the pool, so after the server
    # restarts (the embedded one is restarted by `balto.store.keeper`) stale connections are
    # replaced, not handed out to fail one query each (`balto.store.pool_check`).
    def make_pool() -> ConnectionPool:
        recent = RecentUse()
        return ConnectionPool(
            dsn,
            min_size=1,
            max_size=pool_size,
            open=False,
            timeout=wait_s,
            check=recent.check,
            reset=recent.returned,
        )

    pool = make_pool()
    await trio.to_thread.run_sync(partial(pool.open, wait=True, timeout=30.0))
    db = Database(pool, trio.CapacityLimiter(pool_size), make_pool, dsn)
    try:
        applied = await db.run(apply_migrations)
        if applied:
            log.info("database migrations applied: %s", ", ".join(applied))
        yield db
    finally:
        with trio.CancelScope(shield=True):
            await trio.to_thread.run_sync(db.close)
