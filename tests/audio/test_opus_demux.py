"""Opus packets out of WebM and Ogg: the same packets ffmpeg's demuxers find, timestamps, damage."""

from __future__ import annotations

import itertools
import random
import subprocess
from pathlib import Path

import av
import imageio_ffmpeg
import pytest

from balto.audio.formats import AudioFormat
from balto.audio.opus_demux import OpusDemuxer, OpusPacket, OpusStreamError, packet_duration

FIXTURES = Path(__file__).parent.parent / "fixtures"
WAV = FIXTURES / "two_utterances.wav"
WEBM = FIXTURES / "two_utterances.webm"


def _encode(*args: str) -> bytes:
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-i", str(WAV)]
    return subprocess.run([*cmd, *args, "pipe:1"], capture_output=True, check=True).stdout


@pytest.fixture(scope="module")
def ogg() -> bytes:
    # 200 ms pages, as a live writer flushes them (ffmpeg's default is one a second)
    args = ["-ar", "48000", "-c:a", "libopus", "-b:a", "32k", "-page_duration", "200000"]
    return _encode(*args, "-f", "ogg")


def _feed_in_pieces(demux: OpusDemuxer, data: bytes, seed: int = 1) -> list[OpusPacket]:
    rng = random.Random(seed)
    out: list[OpusPacket] = []
    pos = 0
    while pos < len(data):
        size = rng.randrange(1, 700)
        out += demux.feed(data[pos : pos + size])
        pos += size
    return out


def _reference_packets(path: Path) -> list[bytes]:
    with av.open(str(path)) as container:
        return [bytes(p) for p in container.demux(container.streams.audio[0]) if p.size]


@pytest.mark.parametrize("kind", ["webm", "ogg"])
def test_packets_are_the_ones_ffmpeg_finds(tmp_path: Path, ogg: bytes, kind: str) -> None:
    path = WEBM if kind == "webm" else tmp_path / "a.ogg"
    if kind == "ogg":
        path.write_bytes(ogg)
    demux = OpusDemuxer(AudioFormat(kind))
    packets = _feed_in_pieces(demux, path.read_bytes())
    assert [p.data for p in packets] == _reference_packets(path)
    assert demux.head is not None and demux.head.startswith(b"OpusHead")
    assert packets[0].time == 0.0 and demux.lost_s == 0.0 and demux.resyncs == 0
    for a, b in itertools.pairwise(packets):  # contiguous, no gap
        assert b.time == pytest.approx(a.time + a.duration, abs=1e-6) and b.gap_s == 0.0
    end = packets[-1].time + packets[-1].duration
    assert end == pytest.approx(8.0, abs=0.03)


def test_a_lost_ogg_page_is_a_gap_of_its_duration(ogg: bytes) -> None:
    pages = [i for i in range(len(ogg)) if ogg.startswith(b"OggS", i)]
    cut = ogg[: pages[10]] + ogg[pages[11] :]  # page 10 (audio, a second or so) is gone
    whole = OpusDemuxer(AudioFormat.OGG).feed(ogg)
    demux = OpusDemuxer(AudioFormat.OGG)
    packets = demux.feed(cut)
    lost = sum(p.duration for p in whole) - sum(p.duration for p in packets)
    assert lost > 0.1
    assert demux.lost_s == pytest.approx(lost, abs=1e-6)
    assert sum(p.gap_s for p in packets) == pytest.approx(lost, abs=1e-6)
    assert packets[-1].time == pytest.approx(whole[-1].time, abs=1e-6)  # the rest kept its time


def test_garbage_in_ogg_is_skipped_to_the_next_page(ogg: bytes) -> None:
    pages = [i for i in range(len(ogg)) if ogg.startswith(b"OggS", i)]
    at = pages[8] + 40
    damaged = ogg[:at] + bytes(range(200)) + ogg[at:]
    demux = OpusDemuxer(AudioFormat.OGG)
    packets = _feed_in_pieces(demux, damaged)
    assert demux.resyncs >= 1
    end = packets[-1].time + packets[-1].duration
    assert end == pytest.approx(8.0, abs=0.03)  # later packets keep their time


def test_ogg_vorbis_is_refused() -> None:
    vorbis = _encode("-c:a", "libvorbis", "-f", "ogg")
    with pytest.raises(OpusStreamError, match="not an OpusHead"):
        OpusDemuxer(AudioFormat.OGG).feed(vorbis[:5000])


def test_packet_duration_reads_the_toc() -> None:
    assert packet_duration(bytes([0xFC, 0])) == pytest.approx(0.020)  # CELT FB 20 ms, 1 frame
    assert packet_duration(bytes([0x78 | 1])) == pytest.approx(0.040)  # hybrid 20 ms, 2 frames
    assert packet_duration(bytes([0x18 | 3, 3])) == pytest.approx(0.180)  # SILK 60 ms x 3
    assert packet_duration(b"") == 0.0
