"""Decoder: device bytes in, 16 kHz mono s16le `PcmFrame`s out.

The first chunk decides the format (`balto.audio.formats.detect_format`):
- WebM/Ogg Opus goes through one long-lived ffmpeg per connection with the input format forced
  (unforced, ffmpeg probes for 0.25–1.5 s before its first output; DESIGN §4c);
- WAV is parsed in Python (ffmpeg would read 64 KiB, 2–3 s, before emitting anything); 16 kHz mono
  passes straight through, other rates and layouts go through ffmpeg as forced raw input;
- anything else is raw s16le 16 kHz mono, kept sample-aligned across frames.
Raises `AudioFormatError` for a WAV it cannot read; ffmpeg failing is a `DecoderError`.
"""

from __future__ import annotations

import subprocess
from collections.abc import AsyncIterator

import imageio_ffmpeg
import trio

from actors.context import ActorContext, ActorState
from balto.audio.formats import AudioFormat, detect_format, ffmpeg_input_args
from balto.audio.wav import PcmAligner, WavStreamParser
from balto.errors import BaltoError
from balto.messages import AudioChunk, PcmFrame

SAMPLE_RATE = 16_000
_READ_SIZE = 16_384  # ~0.5 s of output PCM per read at most; ffmpeg writes per packet anyway


class DecoderError(BaltoError):
    """ffmpeg failed on the device's stream."""


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


class _Clock:
    """Turns a stream of PCM byte blocks into frames stamped on the audio clock."""

    def __init__(self, ctx: ActorContext) -> None:
        self.samples = 0
        self.stats = ctx.stats

    def frame(self, pcm: bytes) -> PcmFrame:
        frame = PcmFrame(pcm=pcm, sample_rate=SAMPLE_RATE, start=self.samples / SAMPLE_RATE)
        self.samples += len(pcm) // 2
        self.stats.audio_seconds = self.samples / SAMPLE_RATE
        return frame


async def _chunks(
    first: AudioChunk, inbox: trio.abc.ReceiveChannel[AudioChunk], ctx: ActorContext
) -> AsyncIterator[bytes]:
    yield first.data
    async for chunk in inbox:
        ctx.took()
        yield chunk.data


async def _through_ffmpeg(
    input_args: list[str],
    source: AsyncIterator[bytes],
    outbox: trio.abc.SendChannel[PcmFrame],
    clock: _Clock,
    ctx: ActorContext,
) -> None:
    proc = await trio.lowlevel.open_process(
        ffmpeg_command(input_args),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    stdin, stdout, stderr = proc.stdin, proc.stdout, proc.stderr
    errors = bytearray()

    async def feed() -> None:
        async with stdin:
            async for data in source:
                try:
                    await stdin.send_all(data)
                except (trio.BrokenResourceError, trio.ClosedResourceError):
                    return  # ffmpeg exited; its exit code says why

    async def drain_stderr() -> None:
        async with stderr:
            while chunk := await stderr.receive_some(4096):
                errors.extend(chunk[-2048:])
                del errors[:-4096]

    aligner = PcmAligner()
    try:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(feed)
            nursery.start_soon(drain_stderr)
            async with stdout:
                while data := await stdout.receive_some(_READ_SIZE):
                    pcm = aligner.feed(bytes(data))
                    if pcm:
                        await outbox.send(clock.frame(pcm))
                        ctx.gave()
            code = await proc.wait()
    finally:
        if proc.returncode is None:
            proc.kill()
            with trio.CancelScope(shield=True):
                await proc.wait()
    if code != 0:
        message = errors.decode(errors="replace").strip().splitlines()
        raise DecoderError(f"ffmpeg exited {code}: {message[-1] if message else 'no message'}")


async def run_decoder(
    inbox: trio.abc.ReceiveChannel[AudioChunk],
    outbox: trio.abc.SendChannel[PcmFrame],
    ctx: ActorContext,
) -> None:
    """Decode the device's stream until it ends."""
    ctx.health.state = ActorState.RUNNING
    clock = _Clock(ctx)
    async with inbox, outbox:
        try:
            first = await inbox.receive()
        except trio.EndOfChannel:
            return
        ctx.took()
        fmt = detect_format(first.data)
        ctx.stats.audio_format = fmt.value
        ctx.log.info("audio format: %s", fmt.value)
        source = _chunks(first, inbox, ctx)
        if fmt in (AudioFormat.WEBM, AudioFormat.OGG):
            await _through_ffmpeg(ffmpeg_input_args(fmt), source, outbox, clock, ctx)
            return
        if fmt is AudioFormat.PCM:
            aligner = PcmAligner()
            async for data in source:
                pcm = aligner.feed(data)
                if pcm:
                    await outbox.send(clock.frame(pcm))
                    ctx.gave()
            return
        await _decode_wav(source, outbox, clock, ctx)


async def _decode_wav(
    source: AsyncIterator[bytes],
    outbox: trio.abc.SendChannel[PcmFrame],
    clock: _Clock,
    ctx: ActorContext,
) -> None:
    parser = WavStreamParser()
    pending: list[bytes] = []
    async for data in source:
        pcm = parser.feed(data)
        fmt = parser.format
        if fmt is None:
            continue
        if fmt.sample_rate == SAMPLE_RATE and fmt.channels == 1:
            if pcm:
                await outbox.send(clock.frame(pcm))
                ctx.gave()
            continue
        pending.append(pcm)
        break
    else:
        return
    # A WAV at another rate or layout: resample with ffmpeg from forced raw input.
    fmt = parser.format
    assert fmt is not None
    args = ["-f", "s16le", "-ar", str(fmt.sample_rate), "-ac", str(fmt.channels)]

    async def rest() -> AsyncIterator[bytes]:
        for block in pending:
            yield block
        async for data in source:
            yield parser.feed(data)

    await _through_ffmpeg(args, rest(), outbox, clock, ctx)
