"""The VAD with its front end in a worker process (``BALTO_VAD_WORKERS``): same segments."""

from __future__ import annotations

import os
import signal
import wave
from pathlib import Path

import pytest
import trio

from actors.context import ActorContext, ActorHealth, SessionInfo, SessionStats
from actors.vad import run_vad
from balto.audio.frontend import FrontEnd
from balto.audio.workers import FrontEndWorkerError, RemoteFrontEnd
from balto.messages import PcmFrame, Segment

FIXTURES = Path(__file__).parent.parent / "fixtures"
SR = 16_000
CHUNK = 8000  # 250 ms of s16le, a device chunk


def _pcm() -> bytes:
    with wave.open(str(FIXTURES / "two_utterances.wav")) as w:
        return w.readframes(w.getnframes())


async def test_remote_front_end_cuts_what_the_local_one_cuts() -> None:
    pcm = _pcm()
    local, remote = FrontEnd(SR, 0.5), RemoteFrontEnd(SR, 0.5)
    await remote.open(1)
    try:
        want, got = [], []
        for at in range(0, len(pcm), CHUNK):
            want += local.feed(pcm[at : at + CHUNK])
            got += await remote.feed(pcm[at : at + CHUNK])
        want += local.flush()
        got += await remote.flush()
        assert len(got) == 2
        assert got == want
        assert "worker process" in remote.describe()
    finally:
        await remote.close()


async def test_a_dead_worker_is_an_error_and_the_next_session_gets_a_new_one() -> None:
    remote = RemoteFrontEnd(SR, 0.5)
    await remote.open(1)
    worker = remote._worker
    assert worker is not None
    os.kill(worker.process.pid, signal.SIGKILL)
    worker.process.join(5)
    with pytest.raises(FrontEndWorkerError):
        await remote.feed(_pcm()[:CHUNK])
    await remote.close()
    again = RemoteFrontEnd(SR, 0.5)
    await again.open(1)
    try:
        assert again._worker is not worker
        assert await again.feed(_pcm()[:CHUNK]) == []
    finally:
        await again.close()


async def test_vad_actor_with_workers_gives_the_two_utterances() -> None:
    pcm = _pcm()
    info = SessionInfo(session_id="s" * 36, balcao_id="b", cliente_id="c", nome_balcao="teste")
    ctx = ActorContext(info, ActorHealth("vad"), SessionStats())
    frames = [
        PcmFrame(pcm=pcm[i : i + CHUNK], sample_rate=SR, start=i / 2 / SR)
        for i in range(0, len(pcm), CHUNK)
    ]
    in_tx, in_rx = trio.open_memory_channel[PcmFrame](len(frames))
    out_tx, out_rx = trio.open_memory_channel[Segment](16)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(
            lambda: run_vad(in_rx, out_tx, ctx, pause_s=0.5, max_segment_s=15.0, workers=1)
        )
        async with in_tx:
            for frame in frames:
                await in_tx.send(frame)
        segments = [s async for s in out_rx]
    assert [s.seq for s in segments] == [0, 1]
    assert ctx.health.detail is not None and "worker process" in ctx.health.detail
