"""Decoder: device bytes in, 16 kHz audio out, on an audio clock that survives restarts.

The first bytes decide the format (`balto.audio.formats.detect_format`):
- WebM/Ogg Opus: the container is read here, in Python (`balto.audio.opus_demux`: the Opus packets,
  their timestamps, the OpusHead; a stream declaring another codec is refused). With front-end
  workers (``BALTO_VAD_WORKERS`` > 0, the default) the packets go downstream as `OpusFrame`s and
  the VAD's front end decodes them in its worker, in the same request as denoise and VAD (one
  round trip per chunk). Without workers they are decoded here (`balto.audio.opus_decoder`:
  libopus at 16 kHz, else FFmpeg's Opus decoder through PyAV; inline for a chunk's worth, a
  thread for a backlog) into 16 kHz mono s16le `PcmFrame`s. No process per session;
- WAV is parsed in Python; 16 kHz mono passes straight through, other rates and layouts are
  resampled in process (`balto.audio.resample`);
- anything else is raw s16le 16 kHz mono, kept sample-aligned across frames.
No ffmpeg process is started for any format.

Restarts. Everything a new incarnation needs lives in a `DecoderMemory` the supervisor keeps per
session: the format, the parsers' state, the audio clock, and for Opus the packets taken from the
stream but not yet handed on. Every chunk is parsed into the memory in the same step that takes it
from the inbox (no checkpoint in between), and packets leave the memory only once their frame has
been sent, so a crash or restart loses nothing: a new incarnation hands the pending packets on
again (its decoder, if it decodes here, picks the stream up mid-way). Garbage or lost bytes are
skipped by the container reader up to the next Cluster (WebM) or page (Ogg); the packets after
them keep their timestamps, so the gap moves the clock forward and timestamps never go backwards.

Raises `AudioFormatError` for a WAV it cannot read and `UndecodableStream` (permanent:
`balto.errors.UndecodableAudio`, the session closes with 4007 at once) for a WebM/Ogg stream that
is not Opus or whose header is damaged before any audio.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

import trio

from actors.context import ActorContext, ActorState
from balto.audio.formats import DETECT_BYTES, AudioFormat, detect_format
from balto.audio.opus_decoder import OpusDecoder
from balto.audio.opus_demux import OpusDemuxer, OpusPacket, OpusStreamError
from balto.audio.resample import PcmResampler
from balto.audio.wav import PcmAligner, WavStreamParser
from balto.audio.workers import FrontEndPool
from balto.errors import BaltoError, UndecodableAudio
from balto.messages import AudioChunk, AudioFrame, OpusFrame, PcmFrame

SAMPLE_RATE = 16_000
# Without workers, a device chunk's packets (~13 of 20 ms, ~0.4 ms CPU) decode on the Trio
# thread; a backlog (after a stall) goes to a worker thread so the loop is not held.
_INLINE_PACKETS = 40
# Packets taken from the stream and not yet handed on, at most: 2 s of 20 ms packets. Past it
# the decoder takes no more chunks and the socket pushes back.
_MAX_PENDING = 100


class DecoderError(BaltoError):
    """Decoding the device's stream failed."""


class UndecodableStream(DecoderError, UndecodableAudio):
    """The stream cannot be decoded at all: another try would see the same bytes."""


@dataclass(slots=True)
class DecoderMemory:
    """Per-session decoder state that outlives an incarnation (see the module docstring).

    Attributes:
        format: The stream's format, once its first bytes have been seen.
        head: The first bytes, while fewer than `DETECT_BYTES` have arrived.
        last_seq: Sequence number of the last chunk recorded (-1: none yet).
        samples: The audio clock: samples handed downstream so far (gaps included).
        opus: The container reader of a WebM/Ogg stream.
        pending: Opus packets taken from the stream, not yet decoded and sent on.
        wav: The WAV parser of a WAV stream.
        resampler: The resampler of a WAV stream that is not 16 kHz mono.
        aligner: The sample aligner of a raw PCM stream.
        sent: Opus packets handed on so far (decoded, or sent downstream to be).
        decoder_runs: Opus decoders opened in this process so far.
        lost_s: Audio the clock skipped over because its bytes were lost.
    """

    format: AudioFormat | None = None
    head: bytes = b""
    last_seq: int = -1
    samples: int = 0
    opus: OpusDemuxer | None = None
    pending: list[OpusPacket] = field(default_factory=list)
    wav: WavStreamParser | None = None
    resampler: PcmResampler | None = None
    aligner: PcmAligner | None = None
    sent: int = 0
    decoder_runs: int = 0
    lost_s: float = 0.0


class _LocalDecoder:
    """An `OpusDecoder` in this process: inline for a chunk, in a thread for a backlog."""

    def __init__(self, head: bytes | None, resume: bool) -> None:
        self._decoder = OpusDecoder(head, resume=resume)

    async def decode(self, packets: list[bytes]) -> bytes:
        if len(packets) <= _INLINE_PACKETS:
            await trio.lowlevel.checkpoint()
            return self._decoder.decode(packets)
        return await trio.to_thread.run_sync(self._decoder.decode, packets)


class _Source:
    """The inbox as a cancel-safe byte source; each chunk is recorded the moment it is taken.

    A chunk the link hands again after a restart (the one the last incarnation held) was already
    recorded: it is recognised by its sequence number and skipped, so its bytes are not parsed
    twice.
    """

    def __init__(
        self,
        inbox: trio.abc.ReceiveChannel[AudioChunk],
        ctx: ActorContext,
        memory: DecoderMemory,
        record: Callable[[bytes], bytes],
    ) -> None:
        self.inbox, self.ctx, self.memory, self.record = inbox, ctx, memory, record
        self.pending: list[bytes] = []  # already recorded, not yet handed out
        self.ended = False

    async def receive(self) -> bytes | None:
        if self.pending:
            return self.pending.pop(0)
        while True:
            try:
                chunk = await self.inbox.receive()
            except trio.EndOfChannel:
                self.ended = True
                return None
            self.ctx.took()
            if chunk.seq > self.memory.last_seq:
                break
        self.memory.last_seq = chunk.seq
        return self.record(chunk.data)


class _Out:
    """Stamps PCM on the audio clock kept in the memory and sends it on."""

    def __init__(
        self, outbox: trio.abc.SendChannel[AudioFrame], memory: DecoderMemory, ctx: ActorContext
    ) -> None:
        self.outbox, self.memory, self.ctx = outbox, memory, ctx

    async def send(self, pcm: bytes, *, then: Callable[[], None] | None = None) -> None:
        """Send `pcm` at the clock's position.

        With `then`, the clock moves (and `then` runs) only once the frame is sent: a cancelled
        send leaves the memory as it was.
        """
        memory = self.memory
        frame = PcmFrame(pcm=pcm, sample_rate=SAMPLE_RATE, start=memory.samples / SAMPLE_RATE)
        if then is None:
            self._advance(len(pcm) // 2)
            await self.outbox.send(frame)
        else:
            await self.outbox.send(frame)
            self._advance(len(pcm) // 2)
            then()
        self.ctx.gave()

    async def send_opus(self, frame: OpusFrame, *, then: Callable[[], None]) -> None:
        """Send packets on; once sent, the clock moves by their duration and `then` runs."""
        await self.outbox.send(frame)
        self._advance(round(frame.duration * SAMPLE_RATE))
        then()
        self.ctx.gave()

    def _advance(self, samples: int) -> None:
        self.memory.samples += samples
        self.ctx.stats.audio_seconds = self.memory.samples / SAMPLE_RATE


async def run_decoder(
    inbox: trio.abc.ReceiveChannel[AudioChunk],
    outbox: trio.abc.SendChannel[AudioFrame],
    ctx: ActorContext,
    *,
    memory: DecoderMemory | None = None,
    workers: FrontEndPool | None = None,
) -> None:
    """Decode the device's stream until it ends.

    Args:
        inbox: The device's chunks.
        outbox: Decoded frames.
        ctx: The actor's context.
        memory: The session's decoder memory; pass the same object to every incarnation so a
            restarted decoder resumes the stream. None: a fresh one (no resume across restarts).
        workers: The front-end workers. Given, Opus goes downstream undecoded (`OpusFrame`s,
            decoded by the VAD's front end in its worker); None: decoded here (`PcmFrame`s).
    """
    ctx.health.state = ActorState.RUNNING
    memory = memory if memory is not None else DecoderMemory()
    out = _Out(outbox, memory, ctx)
    try:
        async with inbox, outbox:
            source = _Source(inbox, ctx, memory, lambda data: _record(memory, ctx, data))
            while memory.format is None:
                data = await source.receive()
                if data is None:
                    if not memory.head:
                        return
                    # A stream shorter than any format's magic: raw PCM.
                    source.pending.append(_record(memory, ctx, b"", final=True))
                elif data:
                    source.pending.append(data)
            match memory.format:
                case AudioFormat.WEBM | AudioFormat.OGG:
                    await _decode_opus(source, out, memory, ctx, workers)
                case AudioFormat.PCM:
                    while (pcm := await source.receive()) is not None:
                        if pcm:
                            await out.send(pcm)
                case AudioFormat.WAV:
                    await _decode_wav(source, out, memory)
    except OpusStreamError as exc:
        raise UndecodableStream(str(exc)) from exc


def _record(memory: DecoderMemory, ctx: ActorContext, data: bytes, *, final: bool = False) -> bytes:
    """Take the next bytes into the memory; return what the format's path consumes next."""
    if memory.format is None:
        memory.head += data
        if len(memory.head) < DETECT_BYTES and not final:
            return b""
        data, memory.head = memory.head, b""
        fmt = memory.format = detect_format(data)
        ctx.stats.audio_format = fmt.value
        ctx.log.info("audio format: %s", fmt.value)
        match fmt:
            case AudioFormat.WEBM | AudioFormat.OGG:
                memory.opus = OpusDemuxer(fmt)
            case AudioFormat.WAV:
                memory.wav = WavStreamParser()
            case AudioFormat.PCM:
                memory.aligner = PcmAligner()
    if memory.opus is not None:
        memory.pending += memory.opus.feed(data)
        return b""
    if memory.wav is not None:
        pcm = memory.wav.feed(data)
        fmt_ = memory.wav.format
        if fmt_ is not None and not fmt_.is_mono_16k:
            if memory.resampler is None:
                memory.resampler = PcmResampler(fmt_.sample_rate, fmt_.channels)
            return memory.resampler.feed(pcm)
        return pcm
    if memory.aligner is not None:
        return memory.aligner.feed(data)
    return data


async def _decode_wav(source: _Source, out: _Out, memory: DecoderMemory) -> None:
    parser = memory.wav
    assert parser is not None  # set with the format
    while (pcm := await source.receive()) is not None:
        if pcm:
            await out.send(pcm)


async def _decode_opus(
    source: _Source,
    out: _Out,
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
    `_MAX_PENDING` packets (then the socket pushes back, as before).
    """
    taken, drained = _Bell(), _Bell()
    state: dict[str, BaseException | bool] = {"ended": False}

    async def take() -> None:
        try:
            while True:
                while len(memory.pending) >= _MAX_PENDING:
                    await drained.wait()
                if await source.receive() is None:
                    break
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
    out: _Out,
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
            await taken.wait()
            continue
        run = _next_run(memory.pending)
        gap = run[0].gap_s
        if gap:  # the bytes before this packet were lost: the clock moves over them
            memory.samples += round(gap * SAMPLE_RATE)
            memory.lost_s += gap
            # Counted once, even if this run is handed on again by a new incarnation.
            run[0] = memory.pending[0] = run[0]._replace(gap_s=0.0)
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
        drained.ring()


def _opus_frame(run: list[OpusPacket], memory: DecoderMemory, gap: float) -> OpusFrame:
    assert memory.opus is not None  # set with the format
    return OpusFrame(
        packets=tuple([packet.data for packet in run]),
        head=memory.opus.head,
        start=memory.samples / SAMPLE_RATE,
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
