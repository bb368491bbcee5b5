"""The device socket's handshake and close codes, over real WebSockets against the real server."""

from __future__ import annotations

import json

import pytest
import trio
from trio_websocket import ConnectionClosed, open_websocket_url

from tests.conftest import query, register_balcao, start_server, ws_url


async def _closed_with(url: str, first: str | bytes) -> tuple[int, str | None]:
    async with open_websocket_url(url) as ws:
        await ws.send_message(first)
        with trio.fail_after(5):
            with pytest.raises(ConnectionClosed) as closed:
                await ws.get_message()
    reason = closed.value.reason
    return reason.code, reason.reason


@pytest.mark.parametrize(
    "first",
    [
        json.dumps({"api_key": "bk_not-a-real-key"}),
        "isto não é json",
        b"\x1aE\xdf\xa3 binary first frame",
        json.dumps({"chave": "sem api_key"}),
        json.dumps(["api_key"]),
    ],
    ids=["unknown-key", "not-json", "binary", "no-api-key", "not-an-object"],
)
async def test_bad_handshake_gets_4001(
    nursery: trio.Nursery, database_url: str, first: str | bytes
) -> None:
    running = await start_server(nursery, database_url)
    assert await _closed_with(ws_url(running), first) == (4001, "API Key Invalida")


async def test_handshake_timeout_gets_4002(nursery: trio.Nursery, database_url: str) -> None:
    running = await start_server(nursery, database_url, BALTO_HANDSHAKE_TIMEOUT="0.3")
    async with open_websocket_url(ws_url(running)) as ws:
        with trio.fail_after(5), pytest.raises(ConnectionClosed) as closed:
            await ws.get_message()
    assert closed.value.reason.code == 4002


async def test_second_connection_replaces_the_first(
    nursery: trio.Nursery, database_url: str
) -> None:
    running = await start_server(nursery, database_url)
    api_key, balcao_id = await register_balcao(running.base_url)
    async with open_websocket_url(ws_url(running)) as first:
        await first.send_message(json.dumps({"api_key": api_key}))
        await trio.sleep(0.3)
        assert running.services.registry.get(balcao_id) is not None
        old = running.services.registry.get(balcao_id)
        async with open_websocket_url(ws_url(running)) as second:
            await second.send_message(json.dumps({"api_key": api_key}))
            with trio.fail_after(5), pytest.raises(ConnectionClosed) as closed:
                await first.get_message()
            assert closed.value.reason.code == 4004
            await trio.sleep(0.2)
            current = running.services.registry.get(balcao_id)
            assert current is not None and current is not old


async def test_graceful_shutdown_closes_devices_with_1001(
    nursery: trio.Nursery, database_url: str
) -> None:
    running = await start_server(nursery, database_url)
    api_key, _ = await register_balcao(running.base_url)
    async with open_websocket_url(ws_url(running)) as ws:
        await ws.send_message(json.dumps({"api_key": api_key}))
        await trio.sleep(0.3)
        started = trio.current_time()
        running.stop()
        with trio.fail_after(5), pytest.raises(ConnectionClosed) as closed:
            await ws.get_message()
    assert closed.value.reason.code == 1001
    assert closed.value.reason.reason == "Servidor encerrando"
    assert trio.current_time() - started < 5


async def test_undecodable_stream_ends_the_session_with_4007(
    nursery: trio.Nursery, database_url: str
) -> None:
    # Issue 14: a stream refused before decoding anything is the device's fault, and no restart
    # can fix it: 4007 at once (this test expected 4006 after five decoder restarts). Issue 17: the
    # refusal is our WebM reader's (no ffmpeg runs), and the stored reason says why.
    running = await start_server(nursery, database_url)
    api_key, balcao_id = await register_balcao(running.base_url)
    garbage = b"\x1a\x45\xdf\xa3" + bytes(range(256)) * 16  # WebM magic, then nonsense
    async with open_websocket_url(ws_url(running)) as ws:
        await ws.send_message(json.dumps({"api_key": api_key}))
        with trio.fail_after(10), pytest.raises(ConnectionClosed) as closed:
            while True:
                await ws.send_message(garbage)
                await trio.sleep(0.25)
    assert closed.value.reason.code == 4007
    assert closed.value.reason.reason == "Audio nao decodificavel"
    await trio.sleep(0.2)
    rows = query(database_url, "SELECT close_code, close_reason, restarts FROM sessions")
    assert rows[0][0] == 4007 and "invalid WebM header" in rows[0][1] and rows[0][2] == 0
    assert running.services.registry.get(balcao_id) is None
    health = query(database_url, "SELECT count(*) FROM segments")
    assert health == [(0,)]


async def test_database_failure_at_handshake_gets_1011(
    nursery: trio.Nursery, database_url: str
) -> None:
    running = await start_server(nursery, database_url)
    api_key, _ = await register_balcao(running.base_url)
    query(database_url, "ALTER TABLE balcoes RENAME TO balcoes_away")  # the lookup now fails
    try:
        code, reason = await _closed_with(ws_url(running), json.dumps({"api_key": api_key}))
    finally:
        query(database_url, "ALTER TABLE balcoes_away RENAME TO balcoes")
    assert (code, reason) == (1011, "Erro interno")
    # the database is back: the same key is served again
    async with open_websocket_url(ws_url(running)) as ws:
        await ws.send_message(json.dumps({"api_key": api_key}))
        await trio.sleep(0.3)
        assert running.services.registry.all()
