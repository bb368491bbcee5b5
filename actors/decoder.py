"""Decoder: device bytes in, 16 kHz mono s16le `PcmFrame`s out, on a clock that survives restarts.

The first bytes decide the format (`balto.audio.formats.detect_format`):
- WebM/Ogg Opus goes through one long-lived ffmpeg per connection with the input format forced
  (unforced, ffmpeg probes for 0.25–1.5 s before its first output; DESIGN §4c);
- WAV is parsed in Python (ffmpeg would read 64 KiB, 2–3 s, before emitting anything); 16 kHz mono
  passes straight through, other rates and layouts go through ffmpeg as forced raw input;
- anything else is raw s16le 16 kHz mono, kept sample-aligned across frames.

Restarts. Everything a new incarnation needs lives in a `DecoderMemory` the supervisor keeps per
session: the format, the parsers' state, the audio clock, and for WebM the stream header and the
blocks not yet decoded (`balto.audio.webm_replay`). Every chunk is recorded there in the same step
that takes it from the inbox (no checkpoint in between), so a crash never leaves the memory behind
the stream. When ffmpeg dies mid-stream, the decoder starts another one on header + replay and goes
on; a new incarnation does the same. Output before the clock is dropped and a gap moves the clock
forward, so timestamps never go backwards.

Raises `AudioFormatError` for a WAV it cannot read. ffmpeg failing on the stream itself is a
`DecoderError`: `UndecodableStream` (permanent: `balto.errors.UndecodableAudio`, the session
closes with 4007 at once) when the stream's first ffmpeg exits with an error before producing any
audio — a corrupt header, a codec other than Opus — and a plain `DecoderError` (the supervisor
restarts the decoder) when a resumed ffmpeg fails or one dies too often.
"""

from __future__ import annotations

import os
import subprocess
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import imageio_ffmpeg
import trio

from actors.context import ActorContext, ActorState
from balto.audio.formats import DETECT_BYTES, AudioFormat, detect_format, ffmpeg_input_args
from balto.audio.wav import PcmAligner, WavStreamParser
from balto.audio.webm_replay import WebmReplay
from balto.errors import BaltoError, UndecodableAudio
from balto.messages import AudioChunk, PcmFrame

SAMPLE_RATE = 16_000
_READ_SIZE = 65_536  # a pipe's whole buffer: ~2 s of output PCM per read at most
# ffmpeg writes one 20 ms packet at a time, all of a 250 ms device chunk within ~1-3 ms (DESIGN
# §4c). Waiting this long after the first bytes and then taking whatever the pipe holds turns a
# chunk's ~13 packets into one `PcmFrame`: every message costs two supervised links, a wake-up of
# each actor and a Python object, ~50 a second per session otherwise. The wait adds at most this
# much to the end-of-pause latency.
_COALESCE_S = 0.004
_COALESCE_MAX = 32_000  # 1 s of PCM: then send anyway, so a frame stays bounded
# ffmpeg restarts allowed within one incarnation per window; beyond that the stream itself is the
# likelier cause, and the supervisor's intensity decides.
_MAX_RESTARTS = 3
_RESTART_WINDOW_S = 60.0


class DecoderError(BaltoError):
    """ffmpeg failed on the device's stream."""


class UndecodableStream(DecoderError, UndecodableAudio):
    """ffmpeg refused the stream before decoding any of it: another try would see the same bytes."""


@dataclass(slots=True)
class DecoderMemory:
    """Per-session decoder state that outlives an incarnation (see the module docstring).

    Attributes:
        format: The stream's format, once its first bytes have been seen.
        head: The first bytes, while fewer than `DETECT_BYTES` have arrived.
        samples: The audio clock: samples handed downstream so far (gaps included).
        webm: Header and recent blocks of a WebM stream.
        wav: The WAV parser of a WAV stream.
        aligner: The sample aligner of a raw PCM stream.
        ffmpeg_pid: The running ffmpeg's process id (None when none runs).
        ffmpeg_runs: ffmpeg processes started so far.
        ffmpeg_restarts: ffmpeg processes restarted within an incarnation after one died.
        lost_s: Audio the clock skipped over because its bytes were lost.
        restart_times: When the recent in-incarnation restarts happened (trio clock).
    """

    format: AudioFormat | None = None
    head: bytes = b""
    samples: int = 0
    webm: WebmReplay | None = None
    wav: WavStreamParser | None = None
    aligner: PcmAligner | None = None
    ffmpeg_pid: int | None = None
    ffmpeg_runs: int = 0
    ffmpeg_restarts: int = 0
    lost_s: float = 0.0
    restart_times: deque[float] = field(default_factory=deque)


def ffmpeg_command(input_args: list[str]) -> list[str]:
    """The ffmpeg command decoding stdin (of the forced format) to 16 kHz mono s16le on stdout."""
    return [
        imageio_ffmpeg.get_ffmpeg_exe(),
        "-hide_banner",
        "-loglevel",
        "error",
        *input_args,
        "-i",
        "pipe:0",
        "-ac",
        "1",
        "-ar",
        str(SAMPLE_RATE),
        "-f",
        "s16le",
        "-flush_packets",
        "1",
        "pipe:1",
    ]


class _Source:
    """The inbox as a cancel-safe byte source; each chunk is recorded the moment it is taken."""

    def __init__(
        self,
        inbox: trio.abc.ReceiveChannel[AudioChunk],
        ctx: ActorContext,
        record: Callable[[bytes], bytes],
    ) -> None:
        self.inbox, self.ctx, self.record = inbox, ctx, record
        self.pending: list[bytes] = []  # already recorded, not yet handed out
        self.ended = False

    async def receive(self) -> bytes | None:
        if self.pending:
            return self.pending.pop(0)
        try:
            chunk = await self.inbox.receive()
        except trio.EndOfChannel:
            self.ended = True
            return None
        self.ctx.took()
        return self.record(chunk.data)


class _Out:
    """Stamps PCM on the audio clock kept in the memory and sends it on."""

    def __init__(
        self, outbox: trio.abc.SendChannel[PcmFrame], memory: DecoderMemory, ctx: ActorContext
    ) -> None:
        self.outbox, self.memory, self.ctx = outbox, memory, ctx

    async def send(self, pcm: bytes) -> None:
        memory = self.memory
        frame = PcmFrame(pcm=pcm, sample_rate=SAMPLE_RATE, start=memory.samples / SAMPLE_RATE)
        memory.samples += len(pcm) // 2
        self.ctx.stats.audio_seconds = memory.samples / SAMPLE_RATE
        if memory.webm is not None:
            memory.webm.mark_decoded(memory.samples / SAMPLE_RATE)
        await self.outbox.send(frame)
        self.ctx.gave()


async def run_decoder(
    inbox: trio.abc.ReceiveChannel[AudioChunk],
    outbox: trio.abc.SendChannel[PcmFrame],
    ctx: ActorContext,
    *,
    memory: DecoderMemory | None = None,
) -> None:
    """Decode the device's stream until it ends.

    Args:
        inbox: The device's chunks.
        outbox: Decoded frames.
        ctx: The actor's context.
        memory: The session's decoder memory; pass the same object to every incarnation so a
            restarted decoder resumes the stream. None: a fresh one (no resume across restarts).
    """
    ctx.health.state = ActorState.RUNNING
    memory = memory if memory is not None else DecoderMemory()
    out = _Out(outbox, memory, ctx)
    async with inbox, outbox:
        source = _Source(inbox, ctx, lambda data: _record(memory, ctx, data))
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
                await _through_ffmpeg(ffmpeg_input_args(memory.format), source, out, memory, ctx)
            case AudioFormat.PCM:
                while (pcm := await source.receive()) is not None:
                    if pcm:
                        await out.send(pcm)
            case AudioFormat.WAV:
                await _decode_wav(source, out, memory, ctx)


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
            case AudioFormat.WEBM:
                memory.webm = WebmReplay()
            case AudioFormat.WAV:
                memory.wav = WavStreamParser()
            case AudioFormat.PCM:
                memory.aligner = PcmAligner()
            case AudioFormat.OGG:
                pass
    if memory.webm is not None:
        memory.webm.feed(data)
    elif memory.wav is not None:
        return memory.wav.feed(data)
    elif memory.aligner is not None:
        return memory.aligner.feed(data)
    return data


async def _decode_wav(source: _Source, out: _Out, memory: DecoderMemory, ctx: ActorContext) -> None:
    parser = memory.wav
    assert parser is not None  # set with the format
    pcm: bytes | None = b""
    while parser.format is None:
        pcm = await source.receive()
        if pcm is None:
            return
    fmt = parser.format
    if fmt.is_mono_16k:
        while pcm is not None:
            if pcm:
                await out.send(pcm)
            pcm = await source.receive()
        return
    # A WAV at another rate or layout: resample with ffmpeg from forced raw input.
    if pcm:
        source.pending.insert(0, pcm)
    await _through_ffmpeg(fmt.ffmpeg_input_args(), source, out, memory, ctx)


@dataclass(slots=True)
class _Run:
    """How one ffmpeg process ended."""

    code: int = 0
    produced: bool = False
    stderr: bytearray = field(default_factory=bytearray)


async def _through_ffmpeg(
    input_args: list[str], source: _Source, out: _Out, memory: DecoderMemory, ctx: ActorContext
) -> None:
    """Run ffmpeg over the source until the stream ends, restarting it when it dies."""
    resume = memory.ffmpeg_runs > 0  # a previous incarnation's ffmpeg took part of the stream
    while True:
        prefix, skip = b"", 0
        if resume:
            prefix, skip = _resume_point(memory)
            if memory.webm is not None:
                source.pending.clear()  # recorded, so already in the replay
        run = await _one_ffmpeg(input_args, prefix, skip, source, out, memory, ctx)
        if run.code == 0 and source.ended:
            return
        message = run.stderr.decode(errors="replace").strip().splitlines()
        reason = f"ffmpeg exited {run.code}: {message[-1] if message else 'no message'}"
        now = trio.current_time()
        times = memory.restart_times
        while times and times[0] < now - _RESTART_WINDOW_S:
            times.popleft()
        if run.code != 0 and not run.produced and not resume and memory.samples == 0:
            raise UndecodableStream(reason)
        if not run.produced or len(times) >= _MAX_RESTARTS:
            raise DecoderError(reason)
        times.append(now)
        memory.ffmpeg_restarts += 1
        ctx.log.warning("%s; restarting ffmpeg (%d so far)", reason, memory.ffmpeg_restarts)
        resume = True


def _resume_point(memory: DecoderMemory) -> tuple[bytes, int]:
    """Bytes to prime a new ffmpeg with, and how many output samples to drop (already sent)."""
    if memory.webm is None:
        return b"", 0  # raw input: any byte boundary is a sample boundary
    point = memory.webm.replay(memory.samples / SAMPLE_RATE)
    if point.start_s is None:
        return point.data, memory.samples
    start = round(point.start_s * SAMPLE_RATE)
    if start > memory.samples:  # the bytes in between are gone: move the clock over the gap
        memory.lost_s += (start - memory.samples) / SAMPLE_RATE
        memory.samples = start
    return point.data, memory.samples - start


async def _rest_of_burst(fd: int) -> bytes:
    """What ffmpeg writes within `_COALESCE_S` of the bytes just read (see `_COALESCE_S`).

    Reads the non-blocking pipe directly: trio's stream would wait for more once it is empty.
    End of file or an error is left for the next `receive_some` to report.
    """
    await trio.sleep(_COALESCE_S)
    parts: list[bytes] = []
    size = 0
    while size < _COALESCE_MAX:
        try:
            part = os.read(fd, _READ_SIZE)
        except (BlockingIOError, OSError):
            break
        if not part:
            break
        parts.append(part)
        size += len(part)
    return b"".join(parts)


async def _one_ffmpeg(
    input_args: list[str],
    prefix: bytes,
    skip: int,
    source: _Source,
    out: _Out,
    memory: DecoderMemory,
    ctx: ActorContext,
) -> _Run:
    proc = await trio.lowlevel.open_process(
        ffmpeg_command(input_args),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    stdin, stdout, stderr = proc.stdin, proc.stdout, proc.stderr
    memory.ffmpeg_pid = proc.pid
    memory.ffmpeg_runs += 1
    ctx.health.detail = f"ffmpeg pid {proc.pid}, {memory.ffmpeg_restarts} restarts"
    run = _Run()

    async def feed() -> None:
        async with stdin:
            try:
                if prefix:
                    await stdin.send_all(prefix)
                while (data := await source.receive()) is not None:
                    if data:
                        await stdin.send_all(data)
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                return  # ffmpeg exited; what it was sent is in the memory for the next one

    async def drain_stderr() -> None:
        async with stderr:
            while chunk := await stderr.receive_some(4096):
                run.stderr.extend(chunk[-2048:])
                del run.stderr[:-4096]

    aligner = PcmAligner()
    assert isinstance(stdout, trio.lowlevel.FdStream)  # a pipe on POSIX, where we run
    stdout_fd = stdout.fileno()
    try:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(feed)
            nursery.start_soon(drain_stderr)
            async with stdout:
                while data := await stdout.receive_some(_READ_SIZE):
                    run.produced = True
                    pcm = aligner.feed(bytes(data) + await _rest_of_burst(stdout_fd))
                    if skip:
                        cut = min(2 * skip, len(pcm))
                        pcm, skip = pcm[cut:], skip - cut // 2
                    if pcm:
                        await out.send(pcm)
            run.code = await proc.wait()
            nursery.cancel_scope.cancel()  # a feeder still waiting for input serves the next one
    finally:
        memory.ffmpeg_pid = None
        if proc.returncode is None:
            proc.kill()
            with trio.CancelScope(shield=True):
                await proc.wait()
    return run
