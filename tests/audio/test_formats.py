"""Format detection from the first bytes, and forced ffmpeg input formats that really work."""

from __future__ import annotations

import subprocess
from pathlib import Path

import imageio_ffmpeg
import pytest

from balto.audio.formats import (
    DETECT_BYTES,
    AudioFormat,
    AudioFormatError,
    detect_format,
    ffmpeg_input_args,
)
from balto.errors import BaltoError

FIXTURES = Path(__file__).parent.parent / "fixtures"


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        ((FIXTURES / "two_utterances.webm").read_bytes()[:DETECT_BYTES], AudioFormat.WEBM),
        ((FIXTURES / "two_utterances.wav").read_bytes()[:DETECT_BYTES], AudioFormat.WAV),
        (b"OggS\x00\x02" + bytes(6), AudioFormat.OGG),
        (b"\x1a\x45\xdf\xa3", AudioFormat.WEBM),
        (b"RIFF\x24\x00\x00\x00AVI ", AudioFormat.PCM),  # RIFF, but not WAVE
        (b"RIFF\x24\x00", AudioFormat.PCM),  # too short to tell: documented
        (b"\x00\x01\xff\xfe" * 3, AudioFormat.PCM),
        (b"", AudioFormat.PCM),
    ],
)
def test_detect_format(head: bytes, expected: AudioFormat) -> None:
    assert detect_format(head) is expected


def test_audio_format_error_is_a_balto_error() -> None:
    assert issubclass(AudioFormatError, BaltoError)


@pytest.mark.parametrize("forced", [["-f", "webm"], ffmpeg_input_args(AudioFormat.WEBM)])
def test_forced_webm_input_formats_decode(forced: list[str]) -> None:
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", *forced]
    cmd += ["-i", "pipe:0", "-ac", "1", "-ar", "16000", "-f", "s16le", "pipe:1"]
    data = (FIXTURES / "two_utterances.webm").read_bytes()
    result = subprocess.run(cmd, input=data, capture_output=True, check=False)
    assert result.returncode == 0, result.stderr
    assert len(result.stdout) / 32000 == pytest.approx(8.0, abs=0.03)


def test_forced_ogg_input_format_decodes() -> None:
    exe = imageio_ffmpeg.get_ffmpeg_exe()
    webm = (FIXTURES / "two_utterances.webm").read_bytes()
    remux = [exe, "-hide_banner", "-loglevel", "error", "-f", "matroska", "-i", "pipe:0"]
    ogg = subprocess.run(
        [*remux, "-c", "copy", "-f", "ogg", "pipe:1"], input=webm, capture_output=True, check=True
    ).stdout
    assert detect_format(ogg) is AudioFormat.OGG
    decode = [exe, "-hide_banner", "-loglevel", "error", *ffmpeg_input_args(AudioFormat.OGG)]
    decode += ["-i", "pipe:0", "-ac", "1", "-ar", "16000", "-f", "s16le", "pipe:1"]
    result = subprocess.run(decode, input=ogg, capture_output=True, check=True)
    assert len(result.stdout) / 32000 == pytest.approx(8.0, abs=0.03)


def test_raw_formats_describe_s16le_16k_mono() -> None:
    expected = ["-f", "s16le", "-ar", "16000", "-ac", "1"]
    assert ffmpeg_input_args(AudioFormat.PCM) == ffmpeg_input_args(AudioFormat.WAV) == expected
