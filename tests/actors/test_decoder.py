"""Decoder contract: device chunks in, 16 kHz mono s16le frames on a continuous audio clock out.

WebM/Ogg Opus decoded in process (PyAV; the fixtures are encoded by the real ffmpeg of
imageio-ffmpeg); Python for WAV and raw PCM.
"""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest
import trio

from actors.context import ActorContext, ActorHealth, SessionInfo, SessionStats
from actors.decoder import UndecodableStream, run_decoder
from balto.device import plan_chunks
from balto.messages import AudioChunk, PcmFrame

FIXTURES = Path(__file__).parent.parent / "fixtures"

WAV = FIXTURES / "two_utterances.wav"
WEBM = FIXTURES / "two_utterances.webm"


def _context() -> ActorContext:
    info = SessionInfo(session_id="s" * 36, balcao_id="b", cliente_id="c", nome_balcao="teste")
    return ActorContext(info, ActorHealth("decoder"), SessionStats())


def _transcode(tmp: Path, source: Path, *args: str, suffix: str) -> Path:
    out = tmp / f"converted{suffix}"
    subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-loglevel",
            "error",
            "-y",
            "-i",
            str(source),
            *args,
            str(out),
        ],
        check=True,
    )
    return out


async def _decode(chunks: list[bytes]) -> tuple[list[PcmFrame], ActorContext]:
    ctx = _context()
    in_tx, in_rx = trio.open_memory_channel[AudioChunk](4)
    out_tx, out_rx = trio.open_memory_channel[PcmFrame](1000)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(run_decoder, in_rx, out_tx, ctx)
        async with in_tx:
            for seq, data in enumerate(chunks):
                await in_tx.send(AudioChunk(seq=seq, data=data, received_at=trio.current_time()))
    frames = [frame async for frame in out_rx]
    return frames, ctx


def _pcm(frames: list[PcmFrame]) -> np.ndarray:
    return np.frombuffer(b"".join(f.pcm for f in frames), dtype="<i2")


def _assert_continuous(frames: list[PcmFrame]) -> None:
    position = 0.0
    for frame in frames:
        assert frame.sample_rate == 16_000
        assert len(frame.pcm) % 2 == 0
        assert frame.start == pytest.approx(position, abs=1e-9)
        position += frame.duration


async def test_wav_16k_mono_passes_through_bit_exact() -> None:
    data = WAV.read_bytes()
    frames, ctx = await _decode([chunk for _, chunk in plan_chunks(data)])
    _assert_continuous(frames)
    assert b"".join(f.pcm for f in frames) == data[44:]
    assert ctx.stats.audio_format == "wav"
    assert ctx.stats.audio_seconds == pytest.approx(8.0, abs=1e-3)


@pytest.mark.parametrize("channels", [1, 2], ids=["mono", "stereo"])
async def test_webm_opus_48k_is_decoded_to_16k_mono(tmp_path: Path, channels: int) -> None:
    # duplicate the channel exactly (ffmpeg's default up-mix would lower each side by 3 dB)
    layout = ["-af", "pan=stereo|c0=c0|c1=c0"] if channels == 2 else ["-ac", "1"]
    webm = _transcode(
        tmp_path, WAV, *layout, "-ar", "48000", "-c:a", "libopus", "-b:a", "48k", suffix=".webm"
    )
    frames, ctx = await _decode([chunk for _, chunk in plan_chunks(webm.read_bytes())])
    _assert_continuous(frames)
    assert ctx.stats.audio_format == "webm"
    assert ctx.stats.audio_seconds == pytest.approx(8.0, abs=0.03)
    decoded = _pcm(frames).astype(np.float64)
    original = np.frombuffer(WAV.read_bytes()[44:], dtype="<i2").astype(np.float64)
    # same loudness (Opus is lossy, so compare energy, not samples)
    n = min(len(decoded), len(original))
    ratio = np.sqrt(np.mean(decoded[:n] ** 2) / np.mean(original[:n] ** 2))
    assert 0.8 < ratio < 1.25


async def test_ogg_opus_is_decoded_to_16k_mono(tmp_path: Path) -> None:
    ogg = _transcode(tmp_path, WAV, "-ar", "48000", "-c:a", "libopus", "-b:a", "32k", suffix=".ogg")
    chunks = [ogg.read_bytes()[i : i + 1000] for i in range(0, len(ogg.read_bytes()), 1000)]
    frames, ctx = await _decode(chunks)
    _assert_continuous(frames)
    assert ctx.stats.audio_format == "ogg"
    assert ctx.stats.audio_seconds == pytest.approx(8.0, abs=0.03)


async def test_ogg_vorbis_is_refused(tmp_path: Path) -> None:
    ogg = _transcode(tmp_path, WAV, "-c:a", "libvorbis", suffix=".ogg")
    with pytest.raises(ExceptionGroup) as info:
        await _decode([ogg.read_bytes()])
    assert info.group_contains(UndecodableStream, match="not an OpusHead")


async def test_wav_at_another_rate_is_resampled(tmp_path: Path) -> None:
    wav = _transcode(tmp_path, WAV, "-ac", "2", "-ar", "44100", "-c:a", "pcm_s16le", suffix=".wav")
    frames, ctx = await _decode([chunk for _, chunk in plan_chunks(wav.read_bytes(), 0.25)])
    _assert_continuous(frames)
    assert ctx.stats.audio_seconds == pytest.approx(8.0, abs=0.02)


async def test_raw_pcm_keeps_sample_alignment_across_odd_frames() -> None:
    samples = np.arange(-4000, 4000, dtype="<i2")
    raw = samples.tobytes()
    assert not raw.startswith((b"RIFF", b"OggS", b"\x1a\x45\xdf\xa3"))
    pieces = [raw[i : i + 333] for i in range(0, len(raw), 333)]  # odd sizes split samples
    frames, ctx = await _decode(pieces)
    _assert_continuous(frames)
    assert ctx.stats.audio_format == "pcm"
    assert np.array_equal(_pcm(frames), samples)


async def test_webm_with_another_codec_than_opus_is_refused(tmp_path: Path) -> None:
    # A well-formed WebM whose track is Vorbis: refused before any decoder sees its packets (only
    # the Opus decoder ever parses what a device sent).
    vorbis = tmp_path / "vorbis.webm"
    await trio.run_process(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", "sine=f=440:d=2",
         "-ar", "48000", "-c:a", "libvorbis", "-f", "webm", str(vorbis)],
    )  # fmt: skip
    with pytest.raises(ExceptionGroup) as info:
        await _decode([vorbis.read_bytes()])
    assert info.group_contains(UndecodableStream, match=r"without an Opus track \(A_VORBIS\)")


async def test_corrupt_webm_fails_with_a_decoder_error() -> None:
    header = WEBM.read_bytes()[:4]
    garbage = header + struct.pack("<I", 0xFFFFFFFF) + bytes(range(256)) * 8
    with pytest.raises(ExceptionGroup) as info:
        await _decode([garbage])
    assert info.group_contains(UndecodableStream, match=r"invalid WebM header")
