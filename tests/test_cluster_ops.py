"""Two in-process servers on one database: the cluster's admin paths, start and reaping.

Real servers (Hypercorn, PostgreSQL, LISTEN/NOTIFY); a third instance that never answers is a
row in ``instances`` with nobody listening on its channel. The full acceptance run, with real
processes behind nginx, is ``tests/test_cluster.py``.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import trio
from trio_websocket import open_websocket_url

from supervisors.root import Running
from tests.conftest import ADMIN, query, register_balcao, start_server, ws_url
from tests.sockets import closed_with

FAST = {"BALTO_HEARTBEAT_S": "0.2", "BALTO_HEARTBEAT_TIMEOUT_S": "1"}


async def _admin(running: Running, method: str, path: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=running.base_url, headers=ADMIN) as http:
        return await http.request(method, path)


async def _listed(running: Running, balcao_id: str) -> dict[str, Any]:
    with trio.fail_after(5):
        path = f"/admin/sessions/{balcao_id}"
        while (response := await _admin(running, "GET", path)).status_code != 200:  # noqa: ASYNC110 - polling the server
            await trio.sleep(0.05)
    body: dict[str, Any] = response.json()
    return body


async def test_a_starting_instance_leaves_the_others_sessions_and_reaches_them(
    nursery: trio.Nursery, database_url: str
) -> None:
    a = await start_server(nursery, database_url)
    key, balcao = await register_balcao(a.base_url)
    async with open_websocket_url(ws_url(a)) as ws:
        await ws.send_message(json.dumps({"api_key": key}))
        first = await _listed(a, balcao)
        b = await start_server(nursery, database_url)  # reconciles at start: A's session is live
        assert query(database_url, "SELECT ended_at FROM sessions") == [(None,)]
        seen = await _listed(b, balcao)
        assert seen["instance"] == a.services.cluster.instance_id != b.services.cluster.instance_id
        assert seen["session_id"] == first["session_id"]
        listing = (await _admin(b, "GET", "/admin/sessions")).json()["sessions"]
        assert [s["balcao_id"] for s in listing] == [balcao]
        # Cadastro's balcões, asked of either instance, show the session live (its Situação)
        for instance in (a, b):
            balcoes = (await _admin(instance, "GET", "/admin/balcoes")).json()["items"]
            assert [x["live_session_id"] for x in balcoes] == [first["session_id"]]
        response = await _admin(b, "POST", f"/admin/sessions/{balcao}/disconnect")
        assert response.status_code == 202, response.text
        assert response.json()["instance"] == a.services.cluster.instance_id
        assert await closed_with(ws) == (4005, "Sessao encerrada pelo operador")
    with trio.fail_after(5):
        while query(database_url, "SELECT close_code FROM sessions") != [(4005,)]:  # noqa: ASYNC110 - polling the database
            await trio.sleep(0.05)


async def test_revoke_on_one_instance_closes_the_session_on_another(
    nursery: trio.Nursery, database_url: str
) -> None:
    a = await start_server(nursery, database_url)
    b = await start_server(nursery, database_url)
    key, balcao = await register_balcao(a.base_url)
    async with open_websocket_url(ws_url(a)) as ws:
        await ws.send_message(json.dumps({"api_key": key}))
        live = await _listed(b, balcao)
        response = await _admin(b, "POST", f"/admin/balcoes/{balcao}/revoke")
        assert response.status_code == 200, response.text
        assert response.json()["closed_session_id"] == live["session_id"]
        assert await closed_with(ws) == (4003, "API Key Revogada")


async def test_a_holder_that_does_not_answer_gets_504_and_no_holder_404(
    nursery: trio.Nursery, database_url: str
) -> None:
    a = await start_server(nursery, database_url)
    _, balcao = await register_balcao(a.base_url)
    for action in ("restart", "disconnect"):
        missing = await _admin(a, "POST", f"/admin/sessions/{balcao}/{action}")
        assert missing.status_code == 404
    # an instance that beats (so it is not reaped) but does not listen
    query(database_url, "INSERT INTO instances (id) VALUES ('silent')")
    query(
        database_url,
        "INSERT INTO live_sessions (balcao_id, session_id, instance_id) VALUES (%s, %s, 'silent')",
        balcao,
        str(uuid.uuid4()),
    )
    for action in ("restart", "disconnect"):
        response = await _admin(a, "POST", f"/admin/sessions/{balcao}/{action}")
        assert response.status_code == 504, response.text
        assert response.json()["instance"] == "silent"


async def test_a_dead_instance_is_reaped_and_its_sessions_closed(
    nursery: trio.Nursery, database_url: str
) -> None:
    a = await start_server(nursery, database_url, **FAST)
    _, balcao = await register_balcao(a.base_url)
    session = str(uuid.uuid4())
    query(database_url, "INSERT INTO instances (id) VALUES ('gone')")
    query(
        database_url,
        "INSERT INTO sessions (id, balcao_id, instance_id) VALUES (%s, %s, 'gone')",
        session,
        balcao,
    )
    query(
        database_url,
        "INSERT INTO live_sessions (balcao_id, session_id, instance_id) VALUES (%s, %s, 'gone')",
        balcao,
        session,
    )
    assert (await _listed(a, balcao))["instance"] == "gone"
    # its heartbeat stops now: dead after the timeout (1 s), seen at A's next beat (0.2 s)
    with trio.fail_after(1 + 2 * 0.2 + 1):
        while query(database_url, "SELECT id FROM instances WHERE id = 'gone'"):  # noqa: ASYNC110 - polling the database
            await trio.sleep(0.05)
    rows = query(
        database_url, "SELECT close_code, close_reason, ended_at IS NOT NULL FROM sessions"
    )
    assert rows == [(1006, "server lost", True)]
    assert query(database_url, "SELECT count(*) FROM live_sessions") == [(0,)]
    assert (await _admin(a, "GET", f"/admin/sessions/{balcao}")).status_code == 404


async def test_a_lost_live_row_is_recorded_again_at_the_next_beat(
    nursery: trio.Nursery, database_url: str
) -> None:
    a = await start_server(nursery, database_url, **FAST)
    key, balcao = await register_balcao(a.base_url)
    async with open_websocket_url(ws_url(a)) as ws:
        await ws.send_message(json.dumps({"api_key": key}))
        live = await _listed(a, balcao)
        sql = "SELECT session_id::text FROM live_sessions WHERE balcao_id = %s"
        query(database_url, "DELETE FROM live_sessions")  # e.g. its claim met a database away
        with trio.fail_after(2 * 0.2 + 1):
            while query(database_url, sql, balcao) != [(live["session_id"],)]:  # noqa: ASYNC110 - polling the database
                await trio.sleep(0.05)
    with trio.fail_after(5):  # and the session's end removes it
        while query(database_url, sql, balcao):  # noqa: ASYNC110 - polling the database
            await trio.sleep(0.05)
