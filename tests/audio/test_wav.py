"""WavStreamParser and PcmAligner: headers split anywhere, odd frames, conversions, refusals."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from balto.audio.formats import AudioFormatError
from balto.audio.wav import PcmAligner, WavFormat, WavStreamParser

FIXTURE = Path(__file__).parent.parent / "fixtures" / "two_utterances.wav"


def _wav(
    payload: bytes,
    *,
    rate: int = 16000,
    channels: int = 1,
    bits: int = 16,
    code: int = 1,
    extra_chunks: bytes = b"",
    data_size: int | None = None,
    extensible: bool = False,
) -> bytes:
    """Build a WAV file by hand, so each header field is under the test's control."""
    align = channels * bits // 8
    if extensible:
        guid_tail = b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"
        fmt = struct.pack("<HHIIHH", 0xFFFE, channels, rate, rate * align, align, bits)
        fmt += struct.pack("<HHI", 22, bits, 0) + struct.pack("<H", code) + guid_tail
    else:
        fmt = struct.pack("<HHIIHH", code, channels, rate, rate * align, align, bits)
    size = len(payload) if data_size is None else data_size
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + extra_chunks
    body += b"data" + struct.pack("<I", size) + payload
    return b"RIFF" + struct.pack("<I", len(body)) + body


def _feed_in_pieces(data: bytes, sizes: list[int]) -> tuple[bytes, WavStreamParser, list[int]]:
    """Feed `data` cut into pieces of the given sizes (cycled); return the PCM and piece outputs."""
    parser = WavStreamParser()
    out = bytearray()
    lengths: list[int] = []
    pos = 0
    i = 0
    while pos < len(data):
        piece = parser.feed(data[pos : pos + sizes[i % len(sizes)]])
        lengths.append(len(piece))
        out += piece
        pos += sizes[i % len(sizes)]
        i += 1
    return bytes(out), parser, lengths


def _ramp(n: int) -> bytes:
    return (np.arange(n, dtype=np.int64) * 7 % 65536 - 32768).astype("<i2").tobytes()


def test_fixture_fed_in_odd_pieces_gives_back_the_exact_pcm() -> None:
    data = FIXTURE.read_bytes()
    out, parser, lengths = _feed_in_pieces(data, [1, 3, 5, 7, 11, 13, 1001])
    assert out == data[44:]
    assert parser.format == WavFormat(16000, 1, 16, 1)
    assert all(n % 2 == 0 for n in lengths)  # only whole samples ever leave the parser


def test_header_split_byte_by_byte_reports_format_only_when_complete() -> None:
    data = _wav(_ramp(100), rate=48000, channels=2)
    parser = WavStreamParser()
    for i in range(35):  # RIFF header (12) + chunk header (8) + all but the last "fmt " byte
        assert parser.feed(data[i : i + 1]) == b""
        assert parser.format is None
    assert parser.feed(data[35:37]) == b""
    assert parser.format == WavFormat(
        sample_rate=48000, channels=2, bits_per_sample=16, audio_format=1
    )
    assert parser.format.block_align == 4
    assert not parser.format.is_mono_16k
    assert parser.format.ffmpeg_input_args() == ["-f", "s16le", "-ar", "48000", "-ac", "2"]
    assert parser.feed(data[37:]) == _ramp(100)


def test_stereo_frames_stay_whole_across_odd_feeds() -> None:
    payload = _ramp(1000)
    out, _, lengths = _feed_in_pieces(_wav(payload, channels=2), [45, 3, 5, 2, 7])
    assert out == payload
    assert all(n % 4 == 0 for n in lengths)


def test_list_and_odd_sized_chunks_before_data_are_skipped() -> None:
    info = b"INFOISFT" + struct.pack("<I", 5) + b"Lavf\x00" + b"\x00"  # sub-chunk padded too
    extra = b"LIST" + struct.pack("<I", len(info)) + info
    extra += b"junk" + struct.pack("<I", 3) + b"abc" + b"\x00"  # odd size: one pad byte follows
    payload = _ramp(500)
    out, parser, _ = _feed_in_pieces(_wav(payload, extra_chunks=extra), [3, 17])
    assert out == payload
    assert parser.format is not None


def test_unknown_data_size_runs_to_the_end_of_the_stream() -> None:
    for size in (0, 0xFFFFFFFF):
        payload = _ramp(777)
        out, _, _ = _feed_in_pieces(_wav(payload, data_size=size), [100])
        assert out == payload


def test_known_data_size_then_trailing_chunk_is_not_audio() -> None:
    payload = _ramp(300)
    trailer = b"LIST" + struct.pack("<I", 4) + b"INFO"
    out, _, _ = _feed_in_pieces(_wav(payload) + trailer, [9])
    assert out == payload


def test_one_wav_file_per_frame_is_read_as_one_stream() -> None:
    pieces = [_ramp(160 + i) for i in range(5)]
    stream = b"".join(_wav(p) for p in pieces)
    out, _, _ = _feed_in_pieces(stream, [333])
    assert out == b"".join(pieces)


def test_pcm_after_a_wrong_data_size_keeps_flowing_and_aligned() -> None:
    first, rest = _ramp(100), b"\x01\x80" * 400  # not printable ASCII, so not a chunk header
    out, _, _ = _feed_in_pieces(_wav(first) + rest, [51])
    assert out == first + rest


def test_format_change_between_concatenated_files_is_refused() -> None:
    parser = WavStreamParser()
    parser.feed(_wav(_ramp(10)))
    with pytest.raises(AudioFormatError, match="format changed"):
        parser.feed(_wav(_ramp(10), rate=8000))


@pytest.mark.parametrize(
    ("bits", "code", "samples", "expected"),
    [
        (8, 1, bytes([0, 128, 255]), [-32768, 0, 32512]),
        (24, 1, b"\x00\x00\x80" + b"\xff\xff\x7f" + b"\x00\x01\x00", [-32768, 32767, 1]),
        (32, 1, struct.pack("<iii", -(2**31), 2**31 - 1, 65536), [-32768, 32767, 1]),
        (32, 3, struct.pack("<fff", -1.0, 0.5, 2.0), [-32768, 16384, 32767]),
        (64, 3, struct.pack("<ddd", -0.25, 0.0, -3.0), [-8192, 0, -32768]),
    ],
)
def test_other_encodings_are_converted_to_s16le(
    bits: int, code: int, samples: bytes, expected: list[int]
) -> None:
    for extensible in (False, True):
        parser = WavStreamParser()
        out = parser.feed(_wav(samples, bits=bits, code=code, extensible=extensible))
        assert np.frombuffer(out, dtype="<i2").tolist() == expected
        assert parser.format == WavFormat(16000, 1, bits, code)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"RIFX\x00\x00\x00\x00WAVE", "not a RIFF/WAVE"),
        (_wav(b"\x00" * 4, code=2, bits=4), "unsupported WAV encoding"),
        (_wav(b"\x00" * 4, bits=12), "unsupported WAV encoding"),
        (b"RIFF\x00\x00\x00\x00WAVEdata\x04\x00\x00\x00\x00\x00\x00\x00", "'data' chunk before"),
        (b"RIFF\x00\x00\x00\x00WAVEfmt \x00\x10\x00\x00", "'fmt ' chunk of"),
        # Rates and layouts no audio has: 1 Hz had every byte resampled into 16,000 samples,
        # 2 GHz overflowed the resampler and the decoder restarted until the session failed.
        (_wav(b"\x00" * 4, rate=1), "WAV with 1 channels at 1 Hz"),
        (_wav(b"\x00" * 4, rate=3_999), "at 3999 Hz"),
        (_wav(b"\x00" * 4, rate=384_001), "at 384001 Hz"),
        (_wav(b"\x00" * 4, rate=2_000_000_000), "at 2000000000 Hz"),
        (_wav(b"\x00" * 4, channels=0), "WAV with 0 channels"),
        (_wav(b"\x00" * 68, channels=17), "WAV with 17 channels"),
    ],
)
def test_unsupported_or_malformed_streams_raise(data: bytes, message: str) -> None:
    with pytest.raises(AudioFormatError, match=message):
        WavStreamParser().feed(data)


def test_pcm_aligner_carries_partial_samples() -> None:
    aligner = PcmAligner()
    stream = _ramp(1000)
    out = bytearray()
    for size in [1, 2, 3, 999, 5, 990]:
        piece = aligner.feed(stream[:size])
        stream = stream[size:]
        assert len(piece) % 2 == 0
        out += piece
    out += aligner.feed(stream)
    assert bytes(out) == _ramp(1000)
    assert aligner.pending == 0


def test_pcm_aligner_for_stereo_frames_and_bad_size() -> None:
    aligner = PcmAligner(frame_bytes=4)
    assert aligner.feed(b"abcdef") == b"abcd"
    assert aligner.pending == 2
    assert aligner.feed(b"gh") == b"efgh"
    with pytest.raises(ValueError, match="positive"):
        PcmAligner(0)
