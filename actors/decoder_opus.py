"""Opus packets taken from the device's stream, handed on in runs (see `actors.decoder`).

With front-end workers the packets go downstream as `OpusFrame`s (the VAD's front end decodes
them in its worker); without, they are decoded here into `PcmFrame`s. Packets leave the memory
only once their frame is sent, so an incarnation that ends mid-way loses nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import trio

from actors.context import ActorContext
from actors.decoder_memory import SAMPLE_RATE, ChunkSource, ClockedOut, DecoderMemory
from balto.audio.opus_decoder import OpusDecoder
from balto.audio.opus_demux import OpusPacket, OpusStreamError
from balto.audio.workers import FrontEndPool
from balto.messages import OpusFrame

# Without workers, a device chunk's packets (~13 of 20 ms, ~0.4 ms CPU) decode on the Trio
# thread; a backlog (after a stall) goes to a worker thread so the loop is not held.
_INLINE_PACKETS = 40
# Packets taken from the stream and not yet handed on, at most: 2 s of 20 ms packets. Past it
# the decoder takes no more chunks and the socket pushes back.
_MAX_PENDING = 100


class _LocalDecoder:
    """An `OpusDecoder` in this process: inline for a chunk, in a thread for a backlog."""

    def __init__(self, head: bytes | None, resume: bool) -> None:
        self._decoder = OpusDecoder(head, resume=resume)

    async def decode(self, packets: list[bytes]) -> bytes:
        if len(packets) <= _INLINE_PACKETS:
            await trio.lowlevel.checkpoint()
            return self._decoder.decode(packets)
        return await trio.to_thread.run_sync(self._decoder.decode, packets)


async def decode_opus(
    source: ChunkSource,
    out: ClockedOut,
    memory: DecoderMemory,
    ctx: ActorContext,
    workers: FrontEndPool | None,
) -> None:
    """Hand on the pending packets as they come, one frame per run of packets without a gap.

    With workers, the packets go downstream as an `OpusFrame` (the VAD's front end decodes them
    in its worker: one round trip for decoding, denoise and VAD); else they are decoded here into
    a `PcmFrame`. Two tasks: one takes chunks as they come and parses them into the memory, the
    other hands on everything pending whenever downstream takes it. So when the VAD falls behind
    (a stall), the packets of the chunks that arrive meanwhile go on as one frame, one request,
    instead of one request per chunk: a backlog drains at once. The taker stops at
    `_MAX_PENDING` packets (then the socket pushes back, as before). With workers, while the
    other task is idle and downstream has room, the taker sends a chunk's frame itself.
    """
    taken, drained = _Bell(), _Bell()
    state: dict[str, BaseException | bool] = {"ended": False, "idle": False}
    # With workers, while the other task waits for packets and downstream has room, the taker
    # hands a chunk's packets on itself: ringing the other task cost a scheduler pass per chunk,
    # a hop of the end-of-pause → STT latency under load.
    send_now: Callable[[OpusFrame], None] | None = (
        getattr(out.outbox, "send_nowait", None) if workers is not None else None
    )

    async def take() -> None:
        try:
            while True:
                while len(memory.pending) >= _MAX_PENDING:
                    await drained.wait()
                if await source.receive() is None:
                    break
                if send_now is None or not state["idle"] or not _hand_on_now(out, memory, send_now):
                    taken.ring()
        except OpusStreamError as exc:  # raised in the decoder's own scope, below
            state["failed"] = exc
        state["ended"] = True
        taken.ring()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(take)
        await _give(out, memory, ctx, workers, taken, drained, state)
        nursery.cancel_scope.cancel()
    failed = state.get("failed")
    if isinstance(failed, BaseException):
        raise failed


class _Bell:
    """One task tells another that something changed (rings are not counted, only noticed)."""

    def __init__(self) -> None:
        self._event = trio.Event()

    def ring(self) -> None:
        self._event.set()

    async def wait(self) -> None:
        await self._event.wait()
        self._event = trio.Event()


async def _give(
    out: ClockedOut,
    memory: DecoderMemory,
    ctx: ActorContext,
    workers: FrontEndPool | None,
    taken: _Bell,
    drained: _Bell,
    state: dict[str, BaseException | bool],
) -> None:
    decoder: _LocalDecoder | None = None
    while "failed" not in state:
        if not memory.pending:
            if state["ended"]:
                return
            state["idle"] = True  # the taker may hand packets on itself meanwhile
            try:
                await taken.wait()
            finally:
                state["idle"] = False
            continue
        run = _next_run(memory.pending)
        gap = run[0].gap_s
        if gap:
            _skip_gap(memory, run)
        done = partial(_sent, memory, len(run))
        if workers is not None:
            await out.send_opus(_opus_frame(run, memory, gap), then=done)
        else:
            if decoder is None:
                resume = memory.sent > 0  # an earlier decoder took the stream's start
                decoder = _LocalDecoder(memory.opus.head if memory.opus else None, resume)
                memory.decoder_runs += 1
                ctx.health.detail = f"opus in process, decoder {memory.decoder_runs}"
            pcm = await decoder.decode([packet.data for packet in run])
            if pcm:
                await out.send(pcm, then=done)
            else:
                done()
        # Not held while waiting for the next chunk: the packets would live on into the
        # collector's older generations (a chunk's worth per session).
        del run, done
        drained.ring()


def _hand_on_now(
    out: ClockedOut, memory: DecoderMemory, send_now: Callable[[OpusFrame], None]
) -> bool:
    """Send every pending packet on without waiting; False when downstream is full.

    Each run goes whole or not at all (nothing in the memory changes for a run not sent), so
    what is left is handed on by `_give` as if this had not been tried.
    """
    while memory.pending:
        run = _next_run(memory.pending)
        gap = run[0].gap_s
        frame = _opus_frame(run, memory, gap, skipped=round(gap * SAMPLE_RATE))
        try:
            send_now(frame)
        except trio.WouldBlock:
            return False
        if gap:
            _skip_gap(memory, run)
        out.sent_opus(frame, partial(_sent, memory, len(run)))
    return True


def _skip_gap(memory: DecoderMemory, run: list[OpusPacket]) -> None:
    """The bytes before `run` were lost: the clock moves over them."""
    gap = run[0].gap_s
    memory.samples += round(gap * SAMPLE_RATE)
    memory.lost_s += gap
    # Counted once, even if this run is handed on again by a new incarnation.
    run[0] = memory.pending[0] = run[0]._replace(gap_s=0.0)


def _opus_frame(
    run: list[OpusPacket], memory: DecoderMemory, gap: float, *, skipped: int = 0
) -> OpusFrame:
    """The frame for `run`, starting `skipped` samples after the clock (a gap not yet counted)."""
    assert memory.opus is not None  # set with the format
    return OpusFrame(
        packets=tuple([packet.data for packet in run]),
        head=memory.opus.head,
        start=(memory.samples + skipped) / SAMPLE_RATE,
        duration=sum([packet.duration for packet in run]),
        gap_s=gap,
        first=memory.sent == 0,
    )


def _sent(memory: DecoderMemory, n: int) -> None:
    """The first `n` pending packets have been handed on."""
    del memory.pending[:n]
    memory.sent += n


def _next_run(pending: list[OpusPacket]) -> list[OpusPacket]:
    """The pending packets up to the next gap (a gap starts a run of its own)."""
    for i in range(1, len(pending)):
        if pending[i].gap_s:
            return pending[:i]
    return pending[:]
