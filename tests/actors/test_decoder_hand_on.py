"""The decoder's Opus hand-on with front-end workers: packets go on whole, in order, on the clock.

The taker hands a chunk's packets on itself while downstream has room (no second task woken per
chunk); when downstream is full the other task does it. Either way every packet goes on once, in
stream order, and the clock (gaps included) is the same.
"""

from __future__ import annotations

import itertools
import subprocess
from pathlib import Path

import imageio_ffmpeg
import pytest
import trio
import trio.testing

from actors.context import ActorContext, ActorHealth, SessionInfo, SessionStats
from actors.decoder import DecoderMemory, run_decoder
from balto.audio.formats import AudioFormat
from balto.audio.opus_demux import OpusDemuxer
from balto.audio.workers import FrontEndPool
from balto.messages import AudioChunk, AudioFrame, OpusFrame
from supervisors.links import Link, Overflow

WAV = Path(__file__).parent.parent / "fixtures" / "two_utterances.wav"
SR = 16_000


def _context() -> ActorContext:
    info = SessionInfo(session_id="s" * 36, balcao_id="b", cliente_id="c", nome_balcao="teste")
    return ActorContext(info, ActorHealth("decoder"), SessionStats())


def _webm() -> bytes:
    """The fixture as a live 48 kHz Opus WebM stream, Clusters every 250 ms, as browsers send."""
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-i", str(WAV), "-ac", "1"]
    cmd += ["-ar", "48000", "-c:a", "libopus", "-b:a", "32k", "-cluster_time_limit", "250"]
    cmd += ["-cluster_size_limit", "10000000", "-f", "webm", "pipe:1"]
    return subprocess.run(cmd, capture_output=True, check=True).stdout


def _chunks(data: bytes, n: int = 27) -> list[bytes]:
    """Equal byte runs (~300 ms each): they start mid-element, as MediaRecorder's do."""
    cuts = [round(len(data) * k / n) for k in range(n + 1)]
    return [data[a:b] for a, b in itertools.pairwise(cuts)]


class _Steps(trio.abc.Instrument):
    """Counts the scheduler steps of the tasks with a given name."""

    def __init__(self, name: str) -> None:
        self.name, self.steps = name, 0

    def before_task_step(self, task: trio.lowlevel.Task) -> None:
        if task.name == self.name:
            self.steps += 1


async def _stream(
    chunks: list[bytes], capacity: int, *, slow: bool, steps: _Steps | None = None
) -> tuple[list[OpusFrame], DecoderMemory, list[int]]:
    """Stream `chunks` through the decoder (workers given) into a link of `capacity`; a slow
    consumer naps after each frame. Returns the frames, the memory, and the decoder task's steps
    during each chunk."""
    memory = DecoderMemory()
    in_tx, in_rx = trio.open_memory_channel[AudioChunk](1)
    link: Link[AudioFrame] = Link("decoder→vad", capacity, Overflow.BLOCK)
    rx = link.receiver()
    frames: list[OpusFrame] = []
    per_chunk: list[int] = []

    async def consume() -> None:
        async for frame in rx:
            assert isinstance(frame, OpusFrame)
            frames.append(frame)
            if slow:
                await trio.sleep(0.01)

    async with trio.open_nursery() as nursery:
        pool = FrontEndPool(0, nursery)  # the decoder only asks whether there are workers

        async def decode() -> None:
            await run_decoder(in_rx, link.sender(), _context(), memory=memory, workers=pool)
            link.close_sending()  # the consumer sees the end once the decoder is done

        nursery.start_soon(consume)
        nursery.start_soon(decode, name="decoder-main")
        for seq, data in enumerate(chunks):
            before = steps.steps if steps else 0
            await in_tx.send(AudioChunk(seq=seq, data=data, received_at=trio.current_time()))
            await trio.testing.wait_all_tasks_blocked()
            per_chunk.append((steps.steps if steps else 0) - before)
        await in_tx.aclose()
    return frames, memory, per_chunk


def _check(frames: list[OpusFrame], memory: DecoderMemory, data: bytes, lost: bool) -> None:
    demuxer = OpusDemuxer(AudioFormat.WEBM)
    expected = [packet.data for packet in demuxer.feed(data)]
    assert [p for frame in frames for p in frame.packets] == expected  # each once, in order
    assert not memory.pending and memory.sent == len(expected)
    clock = 0.0
    for frame in frames:  # the clock moves by each frame, and over each gap before it
        assert frame.start == pytest.approx(clock + frame.gap_s, abs=1e-6)
        clock = frame.start + frame.duration
    assert memory.samples == pytest.approx(clock * SR, abs=2)
    assert sum(frame.gap_s for frame in frames) == pytest.approx(memory.lost_s, abs=1e-6)
    assert (memory.lost_s > 0) == lost
    assert frames[0].first and not any(frame.first for frame in frames[1:])


@pytest.mark.parametrize(("capacity", "slow"), [(16, False), (1, True), (0, True)])
@pytest.mark.parametrize("lost", [False, True])
async def test_every_packet_goes_on_once_in_order_on_the_clock(
    capacity: int, slow: bool, lost: bool
) -> None:
    chunks = _chunks(_webm())
    if lost:
        del chunks[12]  # the bytes in between are gone: the clock must move over them
    frames, memory, _ = await _stream(chunks, capacity, slow=slow)
    _check(frames, memory, b"".join(chunks), lost)


async def test_the_handing_on_task_sleeps_while_downstream_keeps_up() -> None:
    """One task wakes per chunk, not two: the taker hands the packets on itself."""
    steps = _Steps("decoder-main")
    trio.lowlevel.add_instrument(steps)
    try:
        chunks = _chunks(_webm())
        frames, memory, per_chunk = await _stream(chunks, 16, slow=False, steps=steps)
    finally:
        trio.lowlevel.remove_instrument(steps)
    _check(frames, memory, b"".join(chunks), lost=False)
    # The first chunks decide the format (the task that hands on starts after them).
    assert per_chunk[3:] == [0] * (len(chunks) - 3)
