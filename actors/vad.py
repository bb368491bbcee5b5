"""VAD: `PcmFrame`s (or `OpusFrame`s to decode first) in, speech `Segment`s out, cut at pauses.

The work is `balto.audio.frontend.FrontEnd`: noise reduction to decide, then webrtcvad + an adaptive
energy gate, pre-roll, hangover, impulse and tone rejection, minimum voiced time and maximum length
(thresholds and their reasons in `SegmenterParams` and `DenoiseParams`). This actor batches what
has arrived (the decoder sends about one block per device chunk) and runs the batch:
- given a `FrontEndPool` (``BALTO_VAD_WORKERS`` > 0, the default), in the session's front end in a
  worker process (`balto.audio.workers`), off the server's GIL;
- otherwise a device chunk's worth (≤ `_INLINE_BYTES`, ~1 ms CPU) on the Trio thread, and a
  bigger backlog in a worker thread. A thread cannot run this GIL-bound numpy/webrtcvad work beside
  the Trio thread anyway; the hop and GIL hand-offs cost more than they spared (capacity bench:
  Python 11-14 → 8.5-9 ms CPU per audio-second, pause → STT p99 at 80 sessions 1 s → 32 ms).
It stamps each cut with an id, a sequence number and the wall time it was cut at and hands it on at
once; while the session's `VoiceNeed` says someone will score it (the cliente has an enrolled
voice) it then has the segment's voice embedding made (`balto.speaker`: in the worker, after the
requests that can cut, or here in a worker thread) and delivers it through the `VoiceNeed`, so the
STT request never waits for it.

`OpusFrame`s (what the decoder sends when the front ends run in workers) are decoded by the
session's front end in its worker, in the same request as denoise and VAD: one round trip per
device chunk. A worker that dies takes the decoder's state with it; the restarted actor opens a
front end and a decoder picking the stream up at the frame it is handed again.

A gap in the audio clock (the decoder lost bytes) is filled with digital silence up to
`_MAX_GAP_FILL_S`, so segment times stay on the audio clock; a longer gap ends the open segment and
restarts the clock offset.
"""

from __future__ import annotations

import uuid

import trio

from actors.context import ActorContext, ActorState, raise_sole_error
from actors.ports import Batching, VoiceNeed
from balto.audio.frontend import FrontEnd
from balto.audio.opus_decoder import SAMPLE_RATE, OpusDecoder
from balto.audio.segmenter import CutSegment
from balto.audio.workers import FrontEndPool, FrontEndWorkerError, RemoteFrontEnd
from balto.messages import AudioFrame, OpusFrame, PcmFrame, Segment
from balto.speaker import voice_of

_MAX_GAP_FILL_S = 5.0  # a restarted decoder loses at most a chunk or two; more is a new start
# A device chunk (250-300 ms) costs the front end ~1 ms of CPU, nearly all of it holding the GIL
# (numpy on arrays this small releases it for too little to matter). Up to this much audio runs on
# the Trio thread (~2 ms at most, within DESIGN §3's "a few milliseconds"); a bigger backlog goes
# to a worker thread.
_INLINE_BYTES = 2 * 16_000 * 6 // 10  # 0.6 s of 16 kHz s16le


async def run_vad(
    inbox: trio.abc.ReceiveChannel[AudioFrame],
    outbox: trio.abc.SendChannel[Segment],
    ctx: ActorContext,
    *,
    pause_s: float,
    max_segment_s: float,
    denoise: bool = True,
    front_ends: FrontEndPool | None = None,
    voice_need: VoiceNeed | None = None,
) -> None:
    """Segment the audio until it ends; flush an open segment at the end.

    Args:
        inbox: Decoded audio.
        outbox: Speech segments.
        ctx: The actor's context.
        pause_s: Non-speech that ends a segment.
        max_segment_s: Longest segment; longer speech is split at its quietest point.
        denoise: Decide on noise-reduced audio (the STT always gets the original).
        front_ends: Worker processes to run the front end in (None: in this process).
        voice_need: Whether the cuts need their voice embedding (None: always).
    """
    ctx.health.state = ActorState.RUNNING
    front: FrontEnd | RemoteFrontEnd | None = None
    offset = 0.0  # audio time of the segmenter's zero
    expected = 0.0  # audio time just past the last frame fed
    rate = 16_000
    local = _Local()
    need = voice_need or VoiceNeed()
    embeds: trio.Nursery | None = None  # the voice embeddings being made, beside the loop

    async def embed(made_by: FrontEnd | RemoteFrontEnd, segment_id: str, pcm: bytes) -> None:
        voice = None
        try:
            if isinstance(made_by, RemoteFrontEnd):
                voice = await made_by.embed(pcm, rate)
            else:
                voice = await trio.to_thread.run_sync(voice_of, pcm, rate)
        except FrontEndWorkerError:  # the worker died: the next front-end call says so
            pass
        finally:
            need.deliver(segment_id, voice)

    async def emit(cut: CutSegment) -> None:
        segment = Segment(
            id=str(uuid.uuid4()),
            seq=ctx.health.messages_out,
            pcm=cut.pcm,
            sample_rate=rate,
            start=offset + cut.start,
            end=offset + cut.end,
            cut_at=trio.current_time(),
            voice=cut.voice,
        )
        if cut.voice is None and need.wanted and front is not None and embeds is not None:
            need.expect(segment.id)
            embeds.start_soon(embed, front, segment.id, cut.pcm)
        ctx.log.info(
            "segment %d: %.2f–%.2f s (%.2f s)",
            segment.seq,
            segment.start,
            segment.end,
            segment.end - segment.start,
        )
        await outbox.send(segment)
        ctx.gave()

    async def new_front() -> FrontEnd | RemoteFrontEnd:
        if front_ends is None:
            return FrontEnd(rate, pause_s, max_segment_s, denoise=denoise, voices=False)
        remote = await front_ends.open(rate, pause_s, max_segment_s, denoise=denoise)
        remote.voices = False  # made after the cut goes on (`embed`)
        return remote

    more = inbox if isinstance(inbox, Batching) else None
    try:
        async with inbox, outbox, trio.open_nursery() as embeds:
            ended = False
            while not ended:
                try:
                    batch = [await inbox.receive()]
                except trio.EndOfChannel:
                    break
                ctx.took()
                # Take everything already queued: one front-end call (one worker round trip)
                # for a backlog, not one per frame. The supervisor's links keep the batch in
                # flight, handed again after a crash.
                while more is not None:
                    try:
                        batch.append(more.receive_nowait())
                    except trio.WouldBlock:
                        break
                    except trio.EndOfChannel:
                        ended = True
                        break
                    ctx.took()
                if front is None:
                    first = batch[0]
                    rate = first.sample_rate if isinstance(first, PcmFrame) else SAMPLE_RATE
                    offset = expected = first.start
                    front = await new_front()
                batch_in = _Batch(rate)
                cuts: list[CutSegment] = []
                for frame in batch:
                    gap = frame.gap_s if isinstance(frame, OpusFrame) else frame.start - expected
                    if gap > _MAX_GAP_FILL_S:
                        cuts += await batch_in.feed(front, local)  # the audio before the gap
                        cuts += await _flush(front)  # cheap: no new audio is processed
                        if isinstance(front, RemoteFrontEnd):
                            await front.close()
                        front = None
                        front = await new_front()
                        offset = frame.start
                        batch_in = _Batch(rate)
                        gap = 0.0
                    if isinstance(frame, OpusFrame):
                        if local.decoder is None and not isinstance(front, RemoteFrontEnd):
                            local.decoder = OpusDecoder(frame.head, resume=not frame.first)
                        batch_in.add_opus(frame, gap)
                    else:
                        batch_in.add_pcm(frame.pcm, gap)
                    expected = frame.start + frame.duration
                for cut in cuts:
                    await emit(cut)
                started = trio.current_time()
                cuts = await batch_in.feed(front, local)
                ctx.health.busy_s += trio.current_time() - started
                ctx.health.detail = front.describe()
                for cut in cuts:
                    await emit(cut)
            if front is not None:
                for cut in await _flush(front):
                    await emit(cut)
    except BaseExceptionGroup as group:
        # The supervisor classifies an actor's error by its type (a dead worker restarts the
        # actor): hand it the error itself, not the embeddings' nursery's wrapper.
        raise_sole_error(group)
    finally:
        if isinstance(front, RemoteFrontEnd):
            await front.close()


class _Local:
    """The VAD's own Opus decoder, for `OpusFrame`s when its front end runs in this process."""

    decoder: OpusDecoder | None = None


class _Batch:
    """What one front-end call takes: PCM pieces, or Opus runs decoded where the front end is."""

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self.pieces: list[bytes] = []
        self.runs: list[tuple[int, tuple[bytes, ...]]] = []
        self.head: bytes | None = None
        self.first = False
        self.opus_s = 0.0  # the runs' audio, silence included

    def add_pcm(self, pcm: bytes, gap: float) -> None:
        """Decoded audio, after `gap` seconds of silence standing for lost audio."""
        if gap * self.rate >= 1:
            self.pieces.append(bytes(2 * round(gap * self.rate)))
        self.pieces.append(pcm)

    def add_opus(self, frame: OpusFrame, gap: float) -> None:
        """Packets, after `gap` seconds of silence standing for lost audio."""
        if not self.runs:
            self.head, self.first = frame.head, frame.first
        silence = round(gap * self.rate) if gap * self.rate >= 1 else 0
        self.runs.append((silence, frame.packets))
        self.opus_s += silence / self.rate + frame.duration

    async def feed(self, front: FrontEnd | RemoteFrontEnd, local: _Local) -> list[CutSegment]:
        """Run the batch through the front end (Opus: decoded in the same worker request)."""
        cuts: list[CutSegment] = []
        if self.pieces:
            cuts += await _feed(front, b"".join(self.pieces))
        if self.runs and isinstance(front, RemoteFrontEnd):
            got, _ = await front.feed_opus(self.runs, self.head, self.first, self.opus_s)
            cuts += got
        elif self.runs:
            assert local.decoder is not None  # opened with the first frame
            decode = local.decoder.decode
            cuts += await _feed(
                front, b"".join(bytes(2 * gap) + decode(list(p)) for gap, p in self.runs)
            )
        self.pieces, self.runs, self.opus_s = [], [], 0.0
        return cuts


async def _feed(front: FrontEnd | RemoteFrontEnd, pcm: bytes) -> list[CutSegment]:
    """Run one batch through the front end: in its worker, inline, or in a thread (backlog)."""
    if isinstance(front, RemoteFrontEnd):
        return await front.feed(pcm)
    if len(pcm) <= _INLINE_BYTES:
        await trio.lowlevel.checkpoint()
        return front.feed(pcm)
    return await trio.to_thread.run_sync(front.feed, pcm)


async def _flush(front: FrontEnd | RemoteFrontEnd) -> list[CutSegment]:
    if isinstance(front, RemoteFrontEnd):
        return await front.flush()
    return front.flush()
