"""What a decoder incarnation reads from, writes to, and leaves to the next one.

`DecoderMemory` is the per-session state that outlives an incarnation (see `actors.decoder`);
`ChunkSource` takes the device's chunks from the inbox and records each into the memory in the
same step; `ClockedOut` stamps what goes downstream on the memory's audio clock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import trio

from actors.context import ActorContext
from balto.audio.formats import AudioFormat
from balto.audio.opus_demux import OpusDemuxer, OpusPacket
from balto.audio.resample import PcmResampler
from balto.audio.wav import PcmAligner, WavStreamParser
from balto.messages import AudioChunk, AudioFrame, OpusFrame, PcmFrame

SAMPLE_RATE = 16_000


@dataclass(slots=True)
class DecoderMemory:
    """Per-session decoder state that outlives an incarnation (see `actors.decoder`).

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


class ChunkSource:
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
        """The next bytes for the format's path; None once the inbox has ended."""
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


class ClockedOut:
    """Stamps what goes downstream (PCM or Opus frames) on the memory's audio clock, sends it."""

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
        self.sent_opus(frame, then)

    def sent_opus(self, frame: OpusFrame, then: Callable[[], None]) -> None:
        """`frame` is on its way: the clock moves by its duration and `then` runs."""
        self._advance(round(frame.duration * SAMPLE_RATE))
        then()
        self.ctx.gave()

    def _advance(self, samples: int) -> None:
        self.memory.samples += samples
        self.ctx.stats.audio_seconds = self.memory.samples / SAMPLE_RATE
