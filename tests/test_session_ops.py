"""Ops over real sockets: restart a live session's pipeline (socket open, audio flowing),
disconnect it with 4005, and plan faults through the admin route when ``BALTO_FAULTS=1``."""

from __future__ import annotations

import itertools
import json
from typing import Any

import httpx
import pytest
import trio

from balto.device import stream_file
from tests.conftest import ADMIN, FIXTURES, query, register_balcao, start_server, ws_url
from tests.fakes.elevenlabs import FakeElevenLabs
from tests.fakes.wiring import provider_env

WAV = FIXTURES / "two_utterances.wav"  # utterances at 0.8–2.8 s and 4.6–6.8 s
ACTORS = ["receiver", "decoder", "vad", "transcriber", "advisor", "sender"]


async def _snapshot(http: httpx.AsyncClient, balcao_id: str) -> dict[str, Any]:
    response = await http.get(f"/admin/sessions/{balcao_id}", headers=ADMIN)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_restart_keeps_the_socket_and_the_audio_flowing(
    nursery: trio.Nursery, database_url: str
) -> None:
    stt = FakeElevenLabs(transcripts=["Bom dia.", "Tem dipirona?"])
    running = await start_server(nursery, database_url, **await provider_env(nursery, stt=stt))
    api_key, balcao_id = await register_balcao(running.base_url)
    snapshots: list[dict[str, Any]] = []

    async def operator() -> None:
        async with httpx.AsyncClient(base_url=running.base_url) as http:
            # once the first utterance is transcribed and stored, before the second begins: a
            # fixed 4 s had restarted a loaded machine's session before its first cut (CI)
            done = "SELECT 1 FROM segments WHERE status = 'transcribed'"
            with trio.fail_after(8.0):
                while not query(database_url, done):  # noqa: ASYNC110 - polling the database
                    await trio.sleep(0.05)
            response = await http.post(f"/admin/sessions/{balcao_id}/restart", headers=ADMIN)
            assert response.status_code == 202, response.text
            await trio.sleep(0.5)
            snapshots.append(await _snapshot(http, balcao_id))

    async with trio.open_nursery() as inner:
        inner.start_soon(operator)
        run = await stream_file(ws_url(running), api_key, WAV, linger_s=2.0)
    assert run.close_code == 1000  # the socket stayed open through the restart
    actors = {a["name"]: a for a in snapshots[0]["actors"]}
    assert [actors[name]["restarts"] for name in ACTORS] == [1] * 6
    assert all(actors[name]["state"] in ("running", "degraded") for name in ACTORS)
    assert snapshots[0]["restarts"] == 6
    # both utterances reached the STT: the audio kept flowing across the restart
    assert len(stt.requests) == 2
    rows = query(database_url, "SELECT status FROM segments ORDER BY seq")
    assert rows == [("transcribed",), ("transcribed",)]
    sql = "SELECT restarts, segments_emitted FROM sessions WHERE segments_emitted IS NOT NULL"
    with trio.fail_after(5):  # the server records the totals as it closes the session
        for _ in itertools.count():
            if rows := query(database_url, sql):
                break
            await trio.sleep(0.05)
    assert rows == [(6, 2)]


async def test_disconnect_closes_with_4005(nursery: trio.Nursery, database_url: str) -> None:
    running = await start_server(nursery, database_url)
    api_key, balcao_id = await register_balcao(running.base_url)

    async def operator() -> None:
        async with httpx.AsyncClient(base_url=running.base_url) as http:
            await trio.sleep(1.0)
            spelled = balcao_id.upper()  # any spelling of the id finds the session
            assert (await http.get(f"/admin/sessions/{spelled}", headers=ADMIN)).status_code == 200
            response = await http.post(f"/admin/sessions/{spelled}/disconnect", headers=ADMIN)
            assert response.status_code == 202

    async with trio.open_nursery() as inner:
        inner.start_soon(operator)
        run = await stream_file(ws_url(running), api_key, WAV, linger_s=1.0)
    assert (run.close_code, run.close_reason) == (4005, "Sessao encerrada pelo operador")
    sql = "SELECT close_code FROM sessions"
    with trio.fail_after(5):  # the row is closed right after the device is sent its close frame
        while (rows := query(database_url, sql)) != [(4005,)]:  # noqa: ASYNC110 - polling the database
            await trio.sleep(0.05)
    assert rows == [(4005,)]
    async with httpx.AsyncClient(base_url=running.base_url) as http:
        gone = await http.get(f"/admin/sessions/{balcao_id}", headers=ADMIN)
        assert gone.status_code == 404
        # a spelling of the id Python reads and PostgreSQL does not was a 500
        for spelling in (balcao_id, f"urn:uuid:{balcao_id}"):
            gone = await http.get(f"/admin/sessions/{spelling}", headers=ADMIN)
            assert gone.status_code == 404
            for action in ("restart", "disconnect"):
                missing = await http.post(f"/admin/sessions/{spelling}/{action}", headers=ADMIN)
                assert missing.status_code == 404
                assert missing.json()["error"] == "not_found"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/admin/sessions"),
        ("GET", "/admin/sessions/stream"),
        ("GET", "/admin/sessions/x"),
        ("POST", "/admin/sessions/x/restart"),
        ("POST", "/admin/sessions/x/disconnect"),
        ("GET", "/admin/faults"),
        ("POST", "/admin/faults"),
        ("DELETE", "/admin/faults"),
        ("GET", "/admin/runtime"),
    ],
)
async def test_admin_routes_refuse_a_missing_or_wrong_secret(
    nursery: trio.Nursery, database_url: str, method: str, path: str
) -> None:
    running = await start_server(nursery, database_url, BALTO_FAULTS="1")
    async with httpx.AsyncClient(base_url=running.base_url) as http:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic x"}):
            response = await http.request(method, path, headers=headers)
            assert response.status_code == 401, (headers, response.text)
            assert response.json()["error"] == "unauthorized"


async def test_fault_routes_exist_only_when_enabled(
    nursery: trio.Nursery, database_url: str
) -> None:
    running = await start_server(nursery, database_url)
    async with httpx.AsyncClient(base_url=running.base_url) as http:
        response = await http.post(
            "/admin/faults", headers=ADMIN, json={"target": "vad", "kind": "crash"}
        )
        assert response.status_code == 404
        assert "BALTO_FAULTS" in response.json()["message"]
    assert running.services.faults.all() == []


async def test_a_fault_planned_over_http_hits_the_live_session(
    nursery: trio.Nursery, database_url: str
) -> None:
    running = await start_server(nursery, database_url, BALTO_FAULTS="1")
    api_key, balcao_id = await register_balcao(running.base_url)
    async with httpx.AsyncClient(base_url=running.base_url) as http:
        for bad in ([], {"target": "vad"}, {"target": "nope", "kind": "crash"}):
            response = await http.post("/admin/faults", headers=ADMIN, json=bad)
            assert response.status_code == 400, bad
        planned = await http.post(
            "/admin/faults",
            headers=ADMIN,
            json={"target": "decoder", "kind": "crash", "after": 3, "balcao_id": balcao_id},
        )
        assert planned.status_code == 201
        fault_id = planned.json()["id"]
        listed = (await http.get("/admin/faults", headers=ADMIN)).json()["faults"]
        assert [f["id"] for f in listed] == [fault_id]

        seen: list[dict[str, Any]] = []

        async def watch() -> None:
            await trio.sleep(3.0)
            seen.append(await _snapshot(http, balcao_id))

        async with trio.open_nursery() as inner:
            inner.start_soon(watch)
            run = await stream_file(ws_url(running), api_key, WAV, linger_s=1.0)
        assert run.close_code == 1000
        decoder = next(a for a in seen[0]["actors"] if a["name"] == "decoder")
        assert decoder["restarts"] == 1
        assert decoder["last_error_type"] == "InjectedFault"
        assert fault_id in decoder["last_error"]
        removed = await http.delete(f"/admin/faults/{fault_id}", headers=ADMIN)
        assert removed.status_code == 200
        assert (await http.delete(f"/admin/faults/{fault_id}", headers=ADMIN)).status_code == 404
    # the crash lost nothing: the chunk in hand was handed to the next incarnation
    assert query(database_url, "SELECT count(*) FROM segments") == [(2,)]


async def test_sessions_stream_pushes_live_snapshots_and_ends_on_shutdown(
    nursery: trio.Nursery, database_url: str
) -> None:
    running = await start_server(nursery, database_url)
    api_key, balcao_id = await register_balcao(running.base_url)
    audio: list[float] = []

    async def device() -> None:
        await stream_file(ws_url(running), api_key, WAV, linger_s=0.5)

    async with (
        httpx.AsyncClient(base_url=running.base_url, timeout=10) as http,
        trio.open_nursery() as inner,
    ):
        inner.start_soon(device)
        async with http.stream("GET", "/admin/sessions/stream", headers=ADMIN) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            lines = response.aiter_lines()
            async for line in lines:
                if not line.startswith("data: "):
                    continue
                sessions = json.loads(line.removeprefix("data: "))["sessions"]
                if sessions:
                    assert sessions[0]["balcao_id"] == balcao_id
                    assert len(sessions[0]["actors"]) == 6
                    audio.append(sessions[0]["audio_seconds"])
                if len(audio) == 3:
                    break
            running.stop()  # a shutdown ends the stream instead of holding the server
            with trio.fail_after(5):
                async for _ in lines:
                    pass
    assert audio == sorted(audio) and audio[-1] > audio[0]  # live: the audio clock moved
