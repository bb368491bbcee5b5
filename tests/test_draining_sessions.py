"""A device that has hung up leaves its session draining (its last utterances still being
transcribed and stored). An admin's revocation, or the same balcão connecting again, arriving
then must not cut the drain nor take the close as theirs: the utterances are transcribed, the
close stays the device's, and the revocation says it closed no session. (An operator's
disconnect does end a drain, one stuck on a stalled provider say: `test_stalled_provider`.)

Found by the counter page's test: unlinking right after "Pausar" revoked the key while the
session drained, and the session was stored as closed by the revocation (4003)."""

from __future__ import annotations

from typing import Any

import httpx
import trio

from balto.device import stream_file
from tests.conftest import ADMIN, FIXTURES, query, register_balcao, start_server, ws_url
from tests.fakes.elevenlabs import FakeElevenLabs
from tests.fakes.wiring import provider_env

WAV = FIXTURES / "two_utterances.wav"
SAID = ["Bom dia, tudo bem?", "Quero um antialérgico, por favor."]


async def _closed(database_url: str, session_id: str) -> list[tuple[Any, ...]]:
    sql = "SELECT close_code, close_reason FROM sessions WHERE id = %s AND ended_at IS NOT NULL"
    for _ in range(200):
        if rows := query(database_url, sql, session_id):
            return rows
        await trio.sleep(0.05)
    raise AssertionError("the session never closed")


async def test_a_revocation_while_a_departed_device_drains_leaves_it_be(
    nursery: trio.Nursery, database_url: str
) -> None:
    stt = FakeElevenLabs(transcripts=SAID)
    stt.hang_next(3.0, times=2)  # both utterances are still at the STT when the device hangs up
    running = await start_server(nursery, database_url, **await provider_env(nursery, stt=stt))
    api_key, balcao_id = await register_balcao(running.base_url)
    run = await stream_file(ws_url(running), api_key, WAV, linger_s=0.1)
    assert run.close_code == 1000  # the device hung up itself
    ((session_id,),) = query(database_url, "SELECT id::text FROM sessions")
    async with httpx.AsyncClient(base_url=running.base_url) as http:
        revoke = await http.post(f"/admin/balcoes/{balcao_id}/revoke", headers=ADMIN)
    assert query(database_url, "SELECT ended_at FROM sessions") == [(None,)], "not draining"
    assert revoke.status_code == 200 and revoke.json()["closed_session_id"] is None
    assert await _closed(database_url, session_id) == [(None, "device disconnected")]
    texts = query(database_url, "SELECT transcript FROM segments ORDER BY seq")
    assert texts == [(SAID[0],), (SAID[1],)]
    # the revocation itself holds
    assert (await stream_file(ws_url(running), api_key, WAV, linger_s=0.1)).close_code == 4003


async def test_the_same_balcao_connecting_again_does_not_cut_the_old_sessions_drain(
    nursery: trio.Nursery, database_url: str
) -> None:
    stt = FakeElevenLabs(transcripts=SAID, default_text="De novo.")
    stt.hang_next(3.0, times=2)
    running = await start_server(nursery, database_url, **await provider_env(nursery, stt=stt))
    api_key, _ = await register_balcao(running.base_url)
    await stream_file(ws_url(running), api_key, WAV, linger_s=0.1)
    ((first,),) = query(database_url, "SELECT id::text FROM sessions")
    again = await stream_file(ws_url(running), api_key, WAV, linger_s=0.1)  # a network blip
    assert again.close_code == 1000
    assert await _closed(database_url, first) == [(None, "device disconnected")]
    texts = query(
        database_url, "SELECT transcript FROM segments WHERE session_id = %s ORDER BY seq", first
    )
    assert texts == [(SAID[0],), (SAID[1],)]
