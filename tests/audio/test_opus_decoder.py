"""The Opus decoder: libopus at 16 kHz agrees with FFmpeg's decoder + resampler; damage, skip."""

from __future__ import annotations

import subprocess
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest

from balto.audio.formats import AudioFormat
from balto.audio.libopus import find_libopus
from balto.audio.opus_decoder import OpusDecoder
from balto.audio.opus_demux import OpusDemuxer

WAV = Path(__file__).parent.parent / "fixtures" / "two_utterances.wav"
CHUNK = 13  # packets in a 250 ms device chunk


def _packets(channels: int) -> tuple[bytes | None, list[bytes]]:
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-i", str(WAV)]
    cmd += ["-ac", str(channels), "-ar", "48000", "-c:a", "libopus", "-b:a", "32k", "-f", "webm"]
    webm = subprocess.run([*cmd, "pipe:1"], capture_output=True, check=True).stdout
    demux = OpusDemuxer(AudioFormat.WEBM)
    packets = [p.data for p in demux.feed(webm)]
    return demux.head, packets


def _decode(decoder: OpusDecoder, packets: list[bytes]) -> np.ndarray:
    pcm = b"".join(decoder.decode(packets[i : i + CHUNK]) for i in range(0, len(packets), CHUNK))
    return np.frombuffer(pcm, dtype="<i2").astype(np.float64)


def test_libopus_is_found() -> None:
    assert find_libopus() is not None  # PyAV's wheel carries it: the fast path is the one run


def _snr_db(reference: np.ndarray, signal: np.ndarray) -> float:
    n = min(len(reference), len(signal))
    error = signal[:n] - reference[:n]
    return float(10 * np.log10(np.sum(reference[:n] ** 2) / np.sum(error**2)))


@pytest.mark.parametrize("channels", [1, 2])
def test_libopus_at_16k_matches_ffmpeg_decoder_and_resampler(channels: int) -> None:
    head, packets = _packets(channels)
    assert head is not None
    fast = _decode(OpusDecoder(head), packets)
    ffmpeg = _decode(OpusDecoder(head, libopus=False), packets)
    # The resampler holds a few samples back; nothing else may differ in length.
    assert 0 <= len(fast) - len(ffmpeg) <= 64
    n = len(ffmpeg)
    assert np.sqrt(np.mean(fast[:n] ** 2)) == pytest.approx(np.sqrt(np.mean(ffmpeg**2)), rel=0.02)
    # Aligned (pre-skip dropped alike) and as close to the source as FFmpeg's decoding; mono
    # agrees to ~45 dB, stereo (mixed down inside libopus) to ~17 dB, so compare with the source.
    source = np.frombuffer(WAV.read_bytes()[44:], dtype="<i2").astype(np.float64)
    assert _snr_db(source, fast) >= _snr_db(source, ffmpeg) - 0.5
    assert _snr_db(source, fast) > (15.0 if channels == 1 else 6.0)
    if channels == 1:
        assert _snr_db(ffmpeg, fast[:n]) > 35.0


def test_pre_skip_is_dropped_once_and_damage_is_skipped() -> None:
    head, packets = _packets(1)
    assert head is not None
    pre_skip = int.from_bytes(head[10:12], "little")
    assert pre_skip > 0
    first = OpusDecoder(head)
    resumed = OpusDecoder(head, resume=True)
    a, b = _decode(first, packets[:20]), _decode(resumed, packets[:20])
    assert len(b) - len(a) == pre_skip // 3  # 48 kHz samples of pre-skip at 16 kHz
    damaged = [packets[20], b"", b"\xff", packets[21]]  # code 3 without its frame count: invalid
    out = first.decode(damaged)
    assert first.bad_packets == 2
    assert len(out) == 2 * 2 * 320  # the two good 20 ms packets decoded
