"""Requests that cannot end a segment wait to travel with others (`balto.audio.workers`, `hold`):
what is cut does not change, a session's order holds, a held request alone still goes, and a
stream running ahead of real time is not held. Devices send a block every 250 ms (the autojump
clock's virtual time; the worker's replies are real I/O)."""

from __future__ import annotations

import wave
from pathlib import Path

import trio

from balto.audio.frontend import FrontEnd
from balto.audio.workers import HOLD_S, open_front_end_pool

FIXTURES = Path(__file__).parent.parent / "fixtures"
SR = 16_000
CHUNK = 8000  # 250 ms of s16le, a device chunk


def _pcm() -> bytes:
    with wave.open(str(FIXTURES / "two_utterances.wav")) as w:
        return w.readframes(w.getnframes())


async def test_blocks_that_cannot_cut_are_held_and_the_cuts_are_the_local_ones(
    autojump_clock: trio.testing.MockClock,
) -> None:
    pcm = _pcm()
    local = FrontEnd(SR, 0.5)
    want = [c for at in range(0, len(pcm), CHUNK) for c in local.feed(pcm[at : at + CHUNK])]
    async with open_front_end_pool(1) as pool:
        assert pool is not None
        remote = await pool.open(SR, 0.5)
        worker = remote._worker
        assert worker is not None
        got, held = [], 0
        for at in range(0, len(pcm), CHUNK):
            block = pcm[at : at + CHUNK]
            async with trio.open_nursery() as nursery:
                out: list[object] = []

                async def feed(block: bytes = block, out: list[object] = out) -> None:
                    out.extend(await remote.feed(block))

                nursery.start_soon(feed)
                await trio.testing.wait_all_tasks_blocked()
                held += len(worker._held)  # queued, not yet written
            got += out
            await trio.sleep(0.25)  # the device's next chunk
        await remote.close()
    assert got == want and len(want) == 2
    assert held > 0  # the quiet stretches were held...
    assert held < len(pcm) // CHUNK  # ...and the blocks that could end a segment were not


async def test_a_held_request_alone_is_written_when_its_hold_ends(
    autojump_clock: trio.testing.MockClock,
) -> None:
    pcm = _pcm()
    async with open_front_end_pool(1) as pool:
        assert pool is not None
        remote = await pool.open(SR, 0.5)
        await remote.feed(pcm[:CHUNK])  # the first reply says the session is idle
        await trio.sleep(0.25)
        worker = remote._worker
        assert worker is not None
        async with trio.open_nursery() as nursery:
            nursery.start_soon(remote.feed, pcm[CHUNK : 2 * CHUNK])
            await trio.testing.wait_all_tasks_blocked()
            assert len(worker._held) == 1
            await trio.sleep(2 * HOLD_S)  # nothing urgent comes: the hold's deadline writes it
            await trio.testing.wait_all_tasks_blocked()
            still_held = bool(worker._held)
            if still_held:  # do not wait forever for a reply that cannot come
                nursery.cancel_scope.cancel()
        assert not still_held
        assert not worker._held and worker.pending == 0
        await remote.close()


async def test_a_sessions_close_is_written_after_its_held_request(
    autojump_clock: trio.testing.MockClock,
) -> None:
    pcm = _pcm()
    async with open_front_end_pool(1) as pool:
        assert pool is not None
        remote = await pool.open(SR, 0.5)
        await remote.feed(pcm[:CHUNK])
        await trio.sleep(0.25)
        worker, key = remote._worker, remote._key
        assert worker is not None
        replies: list[object] = []
        async with trio.open_nursery() as nursery:

            async def feed() -> None:
                replies.append(await remote.feed(pcm[CHUNK : 2 * CHUNK]))

            nursery.start_soon(feed)
            await trio.testing.wait_all_tasks_blocked()
            assert len(worker._held) == 1
            # Not held, but the session's held block was queued first: it must reach the
            # worker first (the other way round, the worker has no front end left to feed).
            await worker.call("close", key, None, wait=False)
        assert replies == [[]]


async def test_a_stream_ahead_of_real_time_is_not_held(
    autojump_clock: trio.testing.MockClock,
) -> None:
    pcm = _pcm()
    async with open_front_end_pool(1) as pool:
        assert pool is not None
        remote = await pool.open(SR, 0.5)
        worker = remote._worker
        assert worker is not None
        held = 0
        for at in range(0, len(pcm), CHUNK):  # a backlog: each block as soon as the last is done
            async with trio.open_nursery() as nursery:
                nursery.start_soon(remote.feed, pcm[at : at + CHUNK])
                await trio.testing.wait_all_tasks_blocked()
                held += len(worker._held)
        await remote.close()
    assert held == 0
