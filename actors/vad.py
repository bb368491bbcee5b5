"""VAD: `PcmFrame`s in, speech `Segment`s out, cut at pauses.

The thresholds live in `balto.audio.segmenter.SegmenterParams` (webrtcvad + an adaptive energy gate,
pre-roll, hangover, minimum voiced time, maximum length); this actor only stamps each cut with an
id, a sequence number and the wall time it was cut at.
"""

from __future__ import annotations

import uuid

import trio

from actors.context import ActorContext, ActorState
from balto.audio.segmenter import CutSegment, Segmenter
from balto.messages import PcmFrame, Segment


async def run_vad(
    inbox: trio.abc.ReceiveChannel[PcmFrame],
    outbox: trio.abc.SendChannel[Segment],
    ctx: ActorContext,
    *,
    pause_s: float,
    max_segment_s: float,
) -> None:
    """Segment the audio until it ends; flush an open segment at the end."""
    ctx.health.state = ActorState.RUNNING
    segmenter: Segmenter | None = None
    offset = 0.0  # audio time of the first frame this incarnation saw

    async def emit(cut: CutSegment, rate: int) -> None:
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

    rate = 16_000
    async with inbox, outbox:
        async for frame in inbox:
            ctx.took()
            if segmenter is None:
                rate = frame.sample_rate
                offset = frame.start
                segmenter = Segmenter(rate, pause_s, max_segment_s)
            started = trio.current_time()
            cuts = segmenter.feed(frame.pcm)
            ctx.health.busy_s += trio.current_time() - started
            for cut in cuts:
                await emit(cut, rate)
        if segmenter is not None:
            for cut in segmenter.flush():
                await emit(cut, rate)
