"""A stalled STT provider: the audio path keeps real time, memory stays bounded, nothing is lost.

The STT fake holds every request far past the test; the budget is longer still and the watchdog is
off, so the transcriber is truly stuck on its first segment. The vad → transcriber link's
`drop_oldest` policy must keep the session on real time (no backpressure into the socket) and
store each dropped segment as failed with the reason.
"""

from __future__ import annotations

import wave
from pathlib import Path
from typing import Any

import httpx
import trio

from balto.device import stream_file
from tests.conftest import ADMIN, FIXTURES, query, register_balcao, start_server, ws_url
from tests.fakes.elevenlabs import FakeElevenLabs
from tests.fakes.wiring import provider_env

TILES = 4  # 32 s, eight utterances


def _long_wav(tmp: Path) -> Path:
    with wave.open(str(FIXTURES / "two_utterances.wav"), "rb") as source:
        params, frames = source.getparams(), source.readframes(source.getnframes())
    path = tmp / "long.wav"
    with wave.open(str(path), "wb") as out:
        out.setparams(params)
        out.writeframes(frames * TILES)
    return path


async def test_a_stalled_stt_drops_oldest_segments_and_keeps_real_time(
    nursery: trio.Nursery, database_url: str, tmp_path: Path
) -> None:
    stt = FakeElevenLabs()
    stt.hang_next(600.0, times=50)
    env = await provider_env(nursery, stt=stt)
    running = await start_server(
        nursery,
        database_url,
        BALTO_STT_TIMEOUT="300",
        BALTO_WATCHDOG_S="0",
        BALTO_PROVIDER_ATTEMPTS="1",
        **env,
    )
    api_key, balcao_id = await register_balcao(running.base_url)
    snapshots: list[dict[str, Any]] = []

    async def watch(http: httpx.AsyncClient) -> None:
        while True:
            await trio.sleep(1.0)
            response = await http.get(f"/admin/sessions/{balcao_id}", headers=ADMIN)
            if response.status_code == 200:
                snapshots.append(response.json())

    async with httpx.AsyncClient(base_url=running.base_url) as http:
        async with trio.open_nursery() as inner:
            inner.start_soon(watch, http)
            run = await stream_file(ws_url(running), api_key, _long_wav(tmp_path), linger_s=1.0)
            inner.cancel_scope.cancel()
        # The device has gone; the stuck transcriber would hold the drain for its budget, so an
        # operator ends the session.
        response = await http.post(f"/admin/sessions/{balcao_id}/disconnect", headers=ADMIN)
        assert response.status_code in (202, 404)
    assert run.close_code in (1000, None)

    last = snapshots[-1]
    links = last["links"]
    # real time: the audio clock kept up with the wall clock, and every chunk was decoded
    assert max(s["lag_s"] for s in snapshots) < 1.5, [s["lag_s"] for s in snapshots]
    assert last["audio_seconds"] >= 8.0 * TILES - 1.0
    assert links["chunks"]["depth"] <= 2 and links["pcm"]["depth"] <= 4
    # bounded: never more than the segments link's capacity waiting
    assert max(s["links"]["segments"]["depth"] for s in snapshots) <= links["segments"]["capacity"]
    assert links["segments"]["dropped"] >= 2
    assert len(stt.requests) == 1  # the transcriber is stuck on its first segment

    sql = (
        "SELECT segments_emitted, segments_dropped FROM sessions WHERE segments_emitted IS NOT NULL"
    )
    with trio.fail_after(10):
        while not (rows := query(database_url, sql)):  # noqa: ASYNC110 (polling the database)
            await trio.sleep(0.1)
    [(emitted, dropped)] = rows
    assert emitted == 2 * TILES and dropped >= 2
    segments = query(database_url, "SELECT status, error FROM segments ORDER BY seq")
    assert len(segments) == emitted
    assert all(status == "failed" and error for status, error in segments)
    reasons = [error for _, error in segments]
    assert sum("oldest dropped" in r for r in reasons) == dropped
