"""Handshakes while the database is away (issue 14): recently confirmed keys from the key cache,
others told to try again (4008), and a cache-accepted session closed once the database returns
and says its key was revoked meanwhile. The in-process server with its embedded PostgreSQL,
stopped and restarted by hand (the keeper is told to wait longer than the test)."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import psycopg
import pytest
import trio
from pgserver.utils import PostmasterInfo
from trio_websocket import ConnectionClosed, open_websocket_url

from balto.store.embedded import _alive
from tests.conftest import register_balcao, start_server, ws_url


async def _until(check: object, timeout: float = 20) -> None:
    assert callable(check)
    with trio.fail_after(timeout):
        while not check():  # noqa: ASYNC110 - polling the server's registry
            await trio.sleep(0.05)


async def test_cached_keys_get_in_others_try_again_revocation_lands_when_it_returns(
    nursery: trio.Nursery, tmp_path: Path
) -> None:
    running = await start_server(
        nursery,
        "",
        BALTO_DATA_DIR=str(tmp_path),
        BALTO_DB_TIMEOUT_S="1",
        BALTO_PG_RESTART_S="120",
        BALTO_VAD_WORKERS="0",
    )
    registry = running.services.registry
    pgdata = tmp_path / "pg"
    api_key, balcao_id = await register_balcao(running.base_url, "Confirmada")
    never_used, _ = await register_balcao(running.base_url, "Nova")
    async with open_websocket_url(ws_url(running)) as ws:  # the database confirms the key
        await ws.send_message(json.dumps({"api_key": api_key}))
        await _until(lambda: registry.get(balcao_id) is not None)
    await _until(lambda: registry.get(balcao_id) is None)

    info = PostmasterInfo.read_from_pgdata(pgdata)
    assert info is not None
    with psycopg.connect(info.get_uri()) as conn:  # revoked behind Balto's back
        conn.execute("UPDATE balcoes SET revoked_at = now() WHERE id = %s", (balcao_id,))
    os.kill(info.pid, signal.SIGINT)  # PostgreSQL's fast shutdown
    await _until(lambda: not _alive(info.pid))

    async with open_websocket_url(ws_url(running)) as ws:
        await ws.send_message(json.dumps({"api_key": api_key}))
        await _until(lambda: registry.get(balcao_id) is not None)  # accepted from the cache

        async with open_websocket_url(ws_url(running)) as other:
            await other.send_message(json.dumps({"api_key": never_used}))
            with trio.fail_after(5), pytest.raises(ConnectionClosed) as refused:
                await other.get_message()
        assert refused.value.reason is not None
        assert refused.value.reason.code == 4008
        assert refused.value.reason.reason == "Servico indisponivel, tente novamente"

        from pgserver.postgres_server import PostgresServer

        await trio.to_thread.run_sync(PostgresServer._instances[pgdata].ensure_postgres_running)
        with trio.fail_after(20), pytest.raises(ConnectionClosed) as closed:
            while True:
                await ws.get_message()
    assert closed.value.reason is not None
    assert closed.value.reason.code == 4003
