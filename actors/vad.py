"""VAD: `PcmFrame`s in, speech `Segment`s out, cut at pauses.

The work is `balto.audio.frontend.FrontEnd`: noise reduction to decide, then webrtcvad + an adaptive
energy gate, pre-roll, hangover, impulse and tone rejection, minimum voiced time and maximum length
(thresholds and their reasons in `SegmenterParams` and `DenoiseParams`). This actor batches what
has arrived (the decoder emits a burst of 20 ms packets per device chunk), runs the batch in a
worker thread so the Trio thread never holds the CPU for it, and stamps each cut with an id, a
sequence number and the wall time it was cut at.

A gap in the audio clock (the decoder lost bytes) is filled with digital silence up to
`_MAX_GAP_FILL_S`, so segment times stay on the audio clock; a longer gap ends the open segment and
restarts the clock offset.
"""

from __future__ import annotations

import uuid

import trio

from actors.context import ActorContext, ActorState
from balto.audio.frontend import FrontEnd
from balto.audio.segmenter import CutSegment
from balto.messages import PcmFrame, Segment

_MAX_GAP_FILL_S = 5.0  # a restarted decoder loses at most a chunk or two; more is a new start


async def run_vad(
    inbox: trio.abc.ReceiveChannel[PcmFrame],
    outbox: trio.abc.SendChannel[Segment],
    ctx: ActorContext,
    *,
    pause_s: float,
    max_segment_s: float,
    denoise: bool = True,
) -> None:
    """Segment the audio until it ends; flush an open segment at the end.

    Args:
        inbox: Decoded audio.
        outbox: Speech segments.
        ctx: The actor's context.
        pause_s: Non-speech that ends a segment.
        max_segment_s: Longest segment; longer speech is split at its quietest point.
        denoise: Decide on noise-reduced audio (the STT always gets the original).
    """
    ctx.health.state = ActorState.RUNNING
    front: FrontEnd | None = None
    offset = 0.0  # audio time of the segmenter's zero
    expected = 0.0  # audio time just past the last frame fed
    rate = 16_000

    async def emit(cut: CutSegment) -> None:
        segment = Segment(
            id=str(uuid.uuid4()),
            seq=ctx.health.messages_out,
            pcm=cut.pcm,
            sample_rate=rate,
            start=offset + cut.start,
            end=offset + cut.end,
            cut_at=trio.current_time(),
        )
        ctx.log.info(
            "segment %d: %.2f–%.2f s (%.2f s)",
            segment.seq,
            segment.start,
            segment.end,
            segment.end - segment.start,
        )
        await outbox.send(segment)
        ctx.gave()

    async with inbox, outbox:
        ended = False
        while not ended:
            try:
                batch = [await inbox.receive()]
            except trio.EndOfChannel:
                break
            ctx.took()
            # Take everything already queued: one thread hop per device chunk, not per packet.
            # Only a memory channel can say what is queued without waiting (the supervisor's are).
            while isinstance(inbox, trio.MemoryReceiveChannel):
                try:
                    batch.append(inbox.receive_nowait())
                except trio.WouldBlock:
                    break
                except trio.EndOfChannel:
                    ended = True
                    break
                ctx.took()
            if front is None:
                rate = batch[0].sample_rate
                offset = expected = batch[0].start
                front = FrontEnd(rate, pause_s, max_segment_s, denoise=denoise)
            pieces: list[bytes] = []
            cuts: list[CutSegment] = []
            for frame in batch:
                gap = frame.start - expected
                if gap > _MAX_GAP_FILL_S:
                    cuts += front.flush()  # cheap: no new audio is processed
                    front = FrontEnd(rate, pause_s, max_segment_s, denoise=denoise)
                    offset = frame.start
                    pieces = []
                elif gap * rate >= 1:
                    pieces.append(bytes(2 * round(gap * rate)))
                pieces.append(frame.pcm)
                expected = frame.start + frame.duration
            for cut in cuts:
                await emit(cut)
            started = trio.current_time()
            cuts = await trio.to_thread.run_sync(_feed, front, b"".join(pieces))
            ctx.health.busy_s += trio.current_time() - started
            ctx.health.detail = front.describe()
            for cut in cuts:
                await emit(cut)
        if front is not None:
            for cut in front.flush():
                await emit(cut)


def _feed(front: FrontEnd, pcm: bytes) -> list[CutSegment]:
    return front.feed(pcm)
