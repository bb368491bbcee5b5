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

Here: the format and the WAV/PCM paths. The memory, the inbox source and the clocked output are
in `actors.decoder_memory`; the Opus hand-on in `actors.decoder_opus`.
"""

from __future__ import annotations

import trio

from actors.context import ActorContext, ActorState
from actors.decoder_memory import ChunkSource, ClockedOut, DecoderMemory
from actors.decoder_opus import decode_opus
from balto.audio.formats import DETECT_BYTES, AudioFormat, detect_format
from balto.audio.opus_demux import OpusDemuxer, OpusStreamError
from balto.audio.resample import PcmResampler
from balto.audio.wav import PcmAligner, WavStreamParser
from balto.audio.workers import FrontEndPool
from balto.errors import BaltoError, UndecodableAudio
from balto.messages import AudioChunk, AudioFrame

__all__ = ["DecoderError", "DecoderMemory", "UndecodableStream", "run_decoder"]


class DecoderError(BaltoError):
    """Decoding the device's stream failed."""


class UndecodableStream(DecoderError, UndecodableAudio):
    """The stream cannot be decoded at all: another try would see the same bytes."""


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
    out = ClockedOut(outbox, memory, ctx)
    try:
        async with inbox, outbox:
            source = ChunkSource(inbox, ctx, memory, lambda data: _record(memory, ctx, data))
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
                    await decode_opus(source, out, memory, ctx, workers)
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


async def _decode_wav(source: ChunkSource, out: ClockedOut, memory: DecoderMemory) -> None:
    parser = memory.wav
    assert parser is not None  # set with the format
    while (pcm := await source.receive()) is not None:
        if pcm:
            await out.send(pcm)
