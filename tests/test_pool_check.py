"""Pooled connections are tested before use only when idle a while (`balto.store.pool_check`)."""

from __future__ import annotations

import psycopg
import pytest
from psycopg_pool import ConnectionPool

from balto.store.pool_check import RecentUse


def _pool(database_url: str, recent: RecentUse) -> ConnectionPool:
    pool = ConnectionPool(
        database_url, min_size=1, max_size=1, open=False, check=recent.check, reset=recent.returned
    )
    pool.open(wait=True, timeout=30.0)
    return pool


def _kill_backend(database_url: str, pid: int) -> None:
    with psycopg.connect(database_url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))


def test_a_connection_idle_longer_than_fresh_s_is_tested_and_replaced_when_dead(
    database_url: str,
) -> None:
    pool = _pool(database_url, RecentUse(fresh_s=0.0))
    try:
        with pool.connection() as conn:
            pid = conn.info.backend_pid
        _kill_backend(database_url, pid)
        with pool.connection() as conn:  # the check found it dead: a new one
            assert conn.execute("SELECT 1").fetchone() == (1,)
            assert conn.info.backend_pid != pid
    finally:
        pool.close(timeout=0)


def test_a_connection_back_within_fresh_s_is_handed_out_without_a_test_query(
    database_url: str,
) -> None:
    pool = _pool(database_url, RecentUse(fresh_s=3600.0))
    try:
        with pool.connection() as conn:
            pid = conn.info.backend_pid
        _kill_backend(database_url, pid)
        # No round trip before handing it out: the dead connection itself comes back, and its
        # query fails (what `Database` reports as `DatabaseUnavailable`).
        with pytest.raises(psycopg.OperationalError), pool.connection() as conn:
            conn.execute("SELECT 1")
        with pool.connection() as conn:  # the broken one was dropped when it came back
            assert conn.execute("SELECT 1").fetchone() == (1,)
    finally:
        pool.close(timeout=0)
