"""Crash recovery and readiness with the embedded PostgreSQL: a SIGKILLed Balto, a stopped database.

Real server processes (or the in-process server), each with its own embedded PostgreSQL in a
temporary data directory; the database is read through the socket its ``postmaster.pid`` names.
"""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Callable
from pathlib import Path

import httpx
import psycopg
import trio
from pgserver.utils import PostmasterInfo
from trio_websocket import open_websocket_url

from balto.store.embedded import _alive
from tests.conftest import FIXTURES, register_balcao, start_server
from tests.server_process import server_process


def _postmaster(pgdata: Path) -> PostmasterInfo | None:
    info = PostmasterInfo.read_from_pgdata(pgdata)
    return info if info is not None and info.is_running() else None


def _rows(pgdata: Path, sql: str) -> list[tuple[object, ...]]:
    info = _postmaster(pgdata)
    assert info is not None, "no PostgreSQL runs on " + str(pgdata)
    with psycopg.connect(info.get_uri()) as conn:
        return conn.execute(sql.encode()).fetchall()


async def _until(check: Callable[[], object], timeout: float = 20) -> None:
    with trio.fail_after(timeout):
        while not check():  # noqa: ASYNC110 - polling a database or another process
            await trio.sleep(0.05)


async def _readyz_until(http: httpx.AsyncClient, status: int) -> httpx.Response:
    with trio.fail_after(20):
        while (response := await http.get("/readyz")).status_code != status:  # noqa: ASYNC110 - polling the server
            await trio.sleep(0.2)
    return response


async def test_sigkilled_server_leaves_nothing_behind_after_a_restart(tmp_path: Path) -> None:
    env = {"BALTO_DATA_DIR": str(tmp_path), "BALTO_DATABASE_URL": "", "BALTO_VAD_WORKERS": "0"}
    pgdata = tmp_path / "pg"
    # Issue 14 (recorder): the first 2 s only. With the whole 8 s sent at once the VAD could cut
    # and store a segment in the ~50 ms between the session row appearing and the kill, so the
    # stored count below was a race (seen failing under a loaded suite); 2 s hold no complete
    # utterance (the first ends at 2.8 s), so the count is 0 by construction.
    wav = (FIXTURES / "two_utterances.wav").read_bytes()[: 44 + 2 * 32_000]
    async with server_process(env) as first:
        api_key, balcao_id = await register_balcao(first.base_url)
        async with open_websocket_url(first.ws_url) as ws:
            await ws.send_message(json.dumps({"api_key": api_key}))
            for start in range(0, len(wav), 32_000):
                await ws.send_message(wav[start : start + 32_000])
            await _until(lambda: _rows(pgdata, "SELECT id FROM sessions"))
            orphan = _postmaster(pgdata)
            assert orphan is not None
            first.process.send_signal(signal.SIGKILL)  # mid-session: nothing gets closed
            await first.process.wait()
    assert _alive(orphan.pid)  # the dead server's PostgreSQL runs on, held by nobody
    ((session_id, ended_at),) = _rows(pgdata, "SELECT id, ended_at FROM sessions")
    assert ended_at is None

    async with server_process(env) as second:
        assert not _alive(orphan.pid)  # stopped, not silently reused
        assert "orphaned embedded PostgreSQL" in second.log_text()
        fresh = _postmaster(pgdata)
        assert fresh is not None and fresh.pid != orphan.pid
        rows = _rows(
            pgdata,
            "SELECT id, close_code, close_reason, ended_at IS NOT NULL, segments_emitted"
            " FROM sessions",
        )
        # the counts are recomputed from what was stored before the kill (how much that is
        # depends on how far the pipeline got: compare with the stored segments themselves)
        stored = _rows(pgdata, "SELECT count(*) FROM segments")[0][0]
        assert rows == [(session_id, 1006, "server lost", True, stored)]
        pending = _rows(pgdata, "SELECT count(*) FROM segments WHERE status = 'pending'")
        assert pending == [(0,)]
        # a device is served again, with the same key
        async with open_websocket_url(second.ws_url) as ws:
            await ws.send_message(json.dumps({"api_key": api_key}))
            await _until(lambda: len(_rows(pgdata, "SELECT id FROM sessions")) == 2)
            live = await second.admin("GET", f"/admin/sessions/{balcao_id}")
            assert live.status_code == 200
        second.process.send_signal(signal.SIGTERM)
        with trio.fail_after(30):
            assert await second.process.wait() == 0, second.log_text()
    # the clean stop stopped PostgreSQL too: no postgres of this data directory remains
    assert not _alive(fresh.pid) and _postmaster(pgdata) is None


async def test_readyz_and_cadastro_answer_503_while_the_database_is_down(
    nursery: trio.Nursery, tmp_path: Path
) -> None:
    # Issue 14: the keeper would restart the database in about a second; this test restarts
    # it by hand, so the keeper waits longer than the test lasts.
    running = await start_server(
        nursery,
        "",
        BALTO_DATA_DIR=str(tmp_path),
        BALTO_DB_TIMEOUT_S="1",
        BALTO_PG_RESTART_S="120",
    )
    pgdata = tmp_path / "pg"
    async with httpx.AsyncClient(base_url=running.base_url, timeout=10) as http:
        assert (await http.get("/readyz")).json() == {"status": "ready"}
        info = _postmaster(pgdata)
        assert info is not None
        os.kill(info.pid, signal.SIGINT)  # PostgreSQL's fast shutdown
        await _until(lambda: not _alive(info.pid))

        # a query that worked less than a second ago still vouches for the database (FRESH_S)
        ready = await _readyz_until(http, 503)
        assert ready.json() == {"status": "not_ready", "reason": "database_unreachable"}
        body = {"nome_balcao": "B", "user_codigo": "123456"}
        refused = await http.post("/cadastro/balcao", json=body)
        assert refused.status_code == 503 and refused.json()["error"] == "database_unavailable"
        assert refused.headers["Retry-After"] == "5"

        # the database comes back: so does readiness, and cadastro answers again
        from pgserver.postgres_server import PostgresServer

        await trio.to_thread.run_sync(PostgresServer._instances[pgdata].ensure_postgres_running)
        await _until(lambda: _postmaster(pgdata) is not None)
        await _readyz_until(http, 200)
        assert (await http.post("/cadastro/balcao", json=body)).status_code == 404
