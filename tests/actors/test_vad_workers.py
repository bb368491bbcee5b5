"""The VAD with its front end in a worker process (``BALTO_VAD_WORKERS``): same segments, also
when the Opus is decoded there, and a worker killed mid-stream."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import wave
from pathlib import Path

import imageio_ffmpeg
import pytest
import trio

from actors.context import ActorContext, ActorHealth, SessionInfo, SessionStats
from actors.decoder import run_decoder
from actors.vad import run_vad
from balto.audio.frontend import FrontEnd
from balto.audio.workers import FrontEndPool, FrontEndWorkerError, open_front_end_pool
from balto.messages import AudioChunk, AudioFrame, PcmFrame, Segment
from supervisors.links import Link, Overflow

FIXTURES = Path(__file__).parent.parent / "fixtures"
SR = 16_000
CHUNK = 8000  # 250 ms of s16le, a device chunk


def _pcm() -> bytes:
    with wave.open(str(FIXTURES / "two_utterances.wav")) as w:
        return w.readframes(w.getnframes())


async def test_remote_front_end_cuts_what_the_local_one_cuts() -> None:
    pcm = _pcm()
    local = FrontEnd(SR, 0.5)
    async with open_front_end_pool(1) as pool:
        assert pool is not None
        remote = await pool.open(SR, 0.5)
        want, got = [], []
        for at in range(0, len(pcm), CHUNK):
            want += local.feed(pcm[at : at + CHUNK])
            got += await remote.feed(pcm[at : at + CHUNK])
        want += local.flush()
        got += await remote.flush()
        assert len(got) == 2
        assert got == want
        assert "worker process" in remote.describe()
        await remote.close()


async def test_pipelined_requests_from_many_sessions_get_their_own_answers() -> None:
    # 12 sessions on one worker, each block sent without waiting for the others' replies: every
    # session must get exactly what its own local front end gives (replies matched in order).
    pcm = _pcm()
    sessions = 12
    want = []
    for k in range(sessions):
        local, cuts = FrontEnd(SR, 0.5), []
        shifted = pcm[k * 320 :]  # each session's audio starts 10 ms later: different cuts
        for at in range(0, len(shifted), CHUNK):
            cuts += local.feed(shifted[at : at + CHUNK])
        want.append(cuts + local.flush())
    got: list[list[object]] = [[] for _ in range(sessions)]
    async with open_front_end_pool(1) as pool:
        assert pool is not None

        async def session(k: int) -> None:
            remote = await pool.open(SR, 0.5)
            shifted = pcm[k * 320 :]
            for at in range(0, len(shifted), CHUNK):
                got[k] += await remote.feed(shifted[at : at + CHUNK])
            got[k] += await remote.flush()
            await remote.close()

        async with trio.open_nursery() as nursery:
            for k in range(sessions):
                nursery.start_soon(session, k)
        with trio.fail_after(5):  # the closes are not waited for; their replies still come
            while max(int(w["pending"] or 0) for w in pool.snapshot()):  # noqa: ASYNC110 - set by another process
                await trio.sleep(0.01)
    assert got == want
    assert len({tuple(c.start for c in cuts) for cuts in want}) > 1  # the sessions differ


async def test_requests_larger_than_the_socket_takes_arrive_whole_and_in_order() -> None:
    # A request goes into the socket at once when nothing waits before it; what the socket does
    # not take (here whole backlogs, ~1 MB each, several sessions at once) goes to the writer
    # task, and every later request queues behind it: no request is cut or overtaken.
    pcm = _pcm() * 4
    sessions = 4
    want = []
    for k in range(sessions):
        local = FrontEnd(SR, 0.5)
        want.append(local.feed(pcm[k * 320 :]) + local.feed(pcm[:CHUNK]) + local.flush())
    got: list[list[object]] = [[] for _ in range(sessions)]
    async with open_front_end_pool(1) as pool:
        assert pool is not None

        async def session(k: int) -> None:
            remote = await pool.open(SR, 0.5)
            got[k] += await remote.feed(pcm[k * 320 :])
            got[k] += await remote.feed(pcm[:CHUNK])
            got[k] += await remote.flush()
            await remote.close()

        async with trio.open_nursery() as nursery:
            for k in range(sessions):
                nursery.start_soon(session, k)
    assert got == want
    assert all(len(cuts) >= 8 for cuts in got)


async def test_a_dead_worker_is_an_error_and_the_next_session_gets_a_new_one() -> None:
    async with open_front_end_pool(1) as pool:
        assert pool is not None
        remote = await pool.open(SR, 0.5)
        dead = pool.snapshot()[0]["pid"]
        assert isinstance(dead, int)
        os.kill(dead, signal.SIGKILL)
        with pytest.raises(FrontEndWorkerError):
            with trio.fail_after(10):
                await remote.feed(_pcm()[:CHUNK])
        await remote.close()
        again = await pool.open(SR, 0.5)
        assert pool.snapshot()[0]["pid"] != dead
        assert await again.feed(_pcm()[:CHUNK]) == []
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
    async with open_front_end_pool(1) as pool, trio.open_nursery() as nursery:
        nursery.start_soon(
            lambda: run_vad(in_rx, out_tx, ctx, pause_s=0.5, max_segment_s=15.0, front_ends=pool)
        )
        async with in_tx:
            for frame in frames:
                await in_tx.send(frame)
        segments = [s async for s in out_rx]
    assert [s.seq for s in segments] == [0, 1]
    assert ctx.health.detail is not None and "worker process" in ctx.health.detail


def _browser_chunks(channels: int) -> list[bytes]:
    """The fixture as a browser's 48 kHz Opus WebM, cut in equal byte runs (mid-element)."""
    layout = ["-af", "pan=stereo|c0=c0|c1=c0"] if channels == 2 else ["-ac", "1"]
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error"]
    cmd += ["-i", str(FIXTURES / "two_utterances.wav"), *layout, "-ar", "48000"]
    cmd += ["-c:a", "libopus", "-b:a", "32k", "-cluster_time_limit", "250", "-f", "webm", "pipe:1"]
    data = subprocess.run(cmd, capture_output=True, check=True).stdout
    cuts = [round(len(data) * k / 27) for k in range(28)]  # ~0.3 s each
    return [data[a:b] for a, b in itertools.pairwise(cuts)]


async def _decode_and_cut(
    chunks: list[bytes], pool: FrontEndPool | None, *, kill_after: int | None = None
) -> tuple[list[Segment], int]:
    """Decoder → VAD over a supervised link, at ~20x real time; a VAD that fails on a dead worker
    is started again on the frame it held (what the session supervisor does). Returns the
    segments and how many times the VAD was restarted."""
    info = SessionInfo(session_id="s" * 36, balcao_id="b", cliente_id="c", nome_balcao="teste")
    link = Link[AudioFrame]("pcm", 8, Overflow.BLOCK)
    in_tx, in_rx = trio.open_memory_channel[AudioChunk](len(chunks))
    out_tx, out_rx = trio.open_memory_channel[Segment](64)
    restarts = 0

    async def decoder() -> None:
        ctx = ActorContext(info, ActorHealth("decoder"), SessionStats())
        await run_decoder(in_rx, link.sender(), ctx, workers=pool)
        link.close_sending()

    async def vad() -> None:
        nonlocal restarts
        ctx = ActorContext(info, ActorHealth("vad"), SessionStats())  # kept, as a supervisor does
        while True:
            try:
                await run_vad(link.receiver(), out_tx.clone(), ctx, pause_s=0.5,
                              max_segment_s=15.0, front_ends=pool)  # fmt: skip
                return
            except FrontEndWorkerError:
                link.interrupted(crashed=True)
                restarts += 1

    async with trio.open_nursery() as nursery:
        nursery.start_soon(decoder)
        nursery.start_soon(vad)
        async with in_tx:
            for seq, data in enumerate(chunks):
                await in_tx.send(AudioChunk(seq=seq, data=data, received_at=trio.current_time()))
                await trio.sleep(0.015)
                if seq == kill_after and pool is not None:
                    pid = pool.snapshot()[0]["pid"]
                    assert isinstance(pid, int)
                    os.kill(pid, signal.SIGKILL)
        out_tx.close()
        segments = [s async for s in out_rx]
    return segments, restarts


@pytest.mark.parametrize("channels", [1, 2], ids=["mono", "stereo"])
async def test_opus_decoded_in_the_worker_cuts_what_in_process_decoding_cuts(
    channels: int,
) -> None:
    chunks = _browser_chunks(channels)
    want, _ = await _decode_and_cut(chunks, None)
    async with open_front_end_pool(1) as pool:
        got, restarts = await _decode_and_cut(chunks, pool)
    assert restarts == 0 and len(want) == 2
    assert [(s.start, s.end, s.pcm) for s in got] == [(s.start, s.end, s.pcm) for s in want]


async def test_worker_killed_mid_stream_the_restarted_vad_picks_the_stream_up() -> None:
    chunks = _browser_chunks(1)
    want, _ = await _decode_and_cut(chunks, None)
    async with open_front_end_pool(1) as pool:
        assert pool is not None
        await (await pool.open(SR, 0.5)).close()  # the worker is up before the stream starts
        got, restarts = await _decode_and_cut(chunks, pool, kill_after=13)  # 3.9 s, in a pause
    assert restarts == 1
    # The first utterance was cut before the kill; the second, after it, is found where it is:
    # no audio was lost and the clock did not slip (the frame in hand was decoded again).
    assert [s.seq for s in got] == [0, 1]
    assert got[0].pcm == want[0].pcm
    assert got[1].start == pytest.approx(want[1].start, abs=0.1)
    assert got[1].end == pytest.approx(want[1].end, abs=0.1)
