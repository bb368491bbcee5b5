"""The readiness probe (`Database.reachable`): the pool's answer first, a connection of its own
only when the pool has none."""

from __future__ import annotations

from functools import partial

import trio
from psycopg_pool import ConnectionPool

from balto.store.database import Database

# A host name that never resolves (RFC 2606): a new connection to it always fails.
UNRESOLVABLE = "postgresql://balto@unresolvable.invalid/balto"
# A socket directory where no server listens: refused at once.
NOWHERE = "postgresql://x@/x?host=/nonexistent"


async def _pool(dsn: str, *, wait: bool) -> ConnectionPool:
    pool = ConnectionPool(dsn, min_size=1, open=False, timeout=0.5)
    await trio.to_thread.run_sync(partial(pool.open, wait=wait, timeout=30.0))
    return pool


async def test_the_pool_answering_is_ready_even_when_a_new_connection_cannot_resolve(
    database_url: str,
) -> None:
    pool = await _pool(database_url, wait=True)
    try:
        db = Database(pool, trio.CapacityLimiter(2), dsn=UNRESOLVABLE)
        assert await db.reachable()
    finally:
        await trio.to_thread.run_sync(partial(pool.close, timeout=0))


async def test_no_pool_connection_and_no_server_is_unreachable() -> None:
    pool = await _pool(NOWHERE, wait=False)
    try:
        db = Database(pool, trio.CapacityLimiter(2), dsn=NOWHERE)
        with trio.fail_after(5):  # the probe is bounded (PROBE_TIMEOUT_S + 0.5)
            assert not await db.reachable()
    finally:
        await trio.to_thread.run_sync(partial(pool.close, timeout=0))
