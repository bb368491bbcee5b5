"""The database handle: a sync psycopg pool, used from Trio through worker threads.

psycopg's async API is asyncio-only (psycopg issue #29), so every query runs in a worker thread
under a `trio.CapacityLimiter` sized to the pool (STACK-NOTES Q5).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from functools import partial
from typing import Concatenate, ParamSpec, TypeVar

import psycopg
import trio
from psycopg_pool import ConnectionPool

from balto.store.migrations import apply_migrations

log = logging.getLogger(__name__)

T = TypeVar("T")
P = ParamSpec("P")

POOL_SIZE = 8  # 2 cores: more connections only queue inside PostgreSQL


class Database:
    """Runs functions of a `psycopg.Connection` in worker threads, one pooled connection each."""

    def __init__(self, pool: ConnectionPool, limiter: trio.CapacityLimiter) -> None:
        """Wrap an open pool; use `open_database` to make one."""
        self._pool = pool
        self._limiter = limiter

    def _call(
        self, fn: Callable[Concatenate[psycopg.Connection, P], T], *args: P.args, **kw: P.kwargs
    ) -> T:
        with self._pool.connection() as conn:
            return fn(conn, *args, **kw)

    async def run(
        self, fn: Callable[Concatenate[psycopg.Connection, P], T], *args: P.args, **kw: P.kwargs
    ) -> T:
        """Run ``fn(conn, *args)`` in a transaction on a pooled connection; commit on return."""
        return await trio.to_thread.run_sync(
            partial(self._call, fn, *args, **kw), limiter=self._limiter
        )


@contextlib.asynccontextmanager
async def open_database(dsn: str, pool_size: int = POOL_SIZE) -> AsyncIterator[Database]:
    """Open a pool on `dsn`, apply migrations, and close the pool on exit."""
    pool = ConnectionPool(dsn, min_size=1, max_size=pool_size, open=False, timeout=10.0)
    await trio.to_thread.run_sync(partial(pool.open, wait=True, timeout=30.0))
    try:
        db = Database(pool, trio.CapacityLimiter(pool_size))
        applied = await db.run(apply_migrations)
        if applied:
            log.info("database migrations applied: %s", ", ".join(applied))
        yield db
    finally:
        with trio.CancelScope(shield=True):
            await trio.to_thread.run_sync(partial(pool.close, timeout=5.0))
