"""The EBML reader on real ffmpeg output: known sizes, live (unknown) sizes, damage, streaming."""

from __future__ import annotations

import itertools
import random
import subprocess
import wave
from pathlib import Path

import imageio_ffmpeg
import pytest

from balto.audio.webm import WebmBlock, WebmCluster, WebmScanner
from balto.audio.webm_timeline import block_timeline, chunk_by_time, cluster_offsets

FIXTURES = Path(__file__).parent.parent / "fixtures"
WEBM = FIXTURES / "two_utterances.webm"
CLUSTER_ID = bytes.fromhex("1F43B675")
SEGMENT_ID = bytes.fromhex("18538067")


def _vint_len(first: int) -> int:
    return next(n for n in range(1, 9) if first & (0x80 >> (n - 1)))


def _unknown_sizes(data: bytes) -> bytes:
    """Rewrite the Segment and every Cluster size as "unknown" (all ones, same length)."""
    out = bytearray(data)
    for at in [data.index(SEGMENT_ID), *cluster_offsets(data)]:
        n = _vint_len(out[at + 4])
        out[at + 4 : at + 4 + n] = bytes([0xFF >> n | 0x80 >> (n - 1)]) + b"\xff" * (n - 1)
    return bytes(out)


def _ffmpeg(args: list[str], stdin: bytes) -> subprocess.CompletedProcess[bytes]:
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", *args]
    return subprocess.run(cmd, input=stdin, capture_output=True, check=False)


@pytest.fixture(scope="module")
def live_webm() -> bytes:
    """The fixture audio encoded to a pipe, as a live writer would: the Segment has no size."""
    with wave.open(str(FIXTURES / "two_utterances.wav")) as w:
        pcm = w.readframes(w.getnframes())
    args = ["-f", "s16le", "-ar", "16000", "-ac", "1", "-i", "pipe:0", "-c:a", "libopus"]
    args += ["-b:a", "32k", "-ar", "48000", "-cluster_time_limit", "250", "-f", "webm", "pipe:1"]
    result = _ffmpeg(args, pcm)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_fixture_timeline() -> None:
    data = WEBM.read_bytes()
    timeline = block_timeline(data)
    assert timeline.header_end == timeline.clusters[0] > 0
    assert data[timeline.header_end : timeline.header_end + 4] == CLUSTER_ID
    assert all(data[c : c + 4] == CLUSTER_ID for c in timeline.clusters)
    assert timeline.resyncs == 0
    times = [t for _, t in timeline.blocks]
    ends = [e for e, _ in timeline.blocks]
    assert times == sorted(times) and ends == sorted(ends)
    assert len(times) == pytest.approx(8.0 / 0.020, abs=2)  # 20 ms Opus packets over 8 s
    assert times[0] == pytest.approx(0.0, abs=0.01)
    assert times[-1] == pytest.approx(8.0, abs=0.03)
    assert len(timeline.clusters) >= 30  # -cluster_time_limit 250 over 8 s
    assert ends[-1] <= len(data)


def test_chunk_by_time_reassembles_the_file_in_quarter_seconds() -> None:
    data = WEBM.read_bytes()
    chunks = chunk_by_time(data, 0.25)
    assert b"".join(c for _, c in chunks) == data
    assert all(chunk for _, chunk in chunks)
    header_end = block_timeline(data).header_end
    assert len(chunks[0][1]) > header_end  # the first chunk carries the header and audio
    times = [t for t, _ in chunks]
    steps = [b - a for a, b in itertools.pairwise(times[:-1])]  # the last may be short
    assert all(0.21 <= s <= 0.29 for s in steps), steps
    assert times[0] == pytest.approx(0.25, abs=0.03)
    assert times[-1] == pytest.approx(8.0, abs=0.05)


def test_chunk_by_time_other_slices() -> None:
    data = WEBM.read_bytes()
    chunks = chunk_by_time(data, 0.5)
    assert b"".join(c for _, c in chunks) == data
    assert len(chunks) == pytest.approx(16, abs=1)
    assert chunk_by_time(b"") == []


def test_live_stream_with_unknown_segment_size(live_webm: bytes) -> None:
    at = live_webm.index(SEGMENT_ID)
    assert live_webm[at + 4 : at + 12] == b"\x01" + b"\xff" * 7  # really unknown
    live = block_timeline(live_webm)
    reference = block_timeline(WEBM.read_bytes())
    # Same audio, same packet times; offsets differ (this one is not muxed bit-exact).
    assert [t for _, t in live.blocks] == [t for _, t in reference.blocks]
    assert all(live_webm[c : c + 4] == CLUSTER_ID for c in live.clusters)
    assert live.header_end == live.clusters[0]
    assert b"".join(c for _, c in chunk_by_time(live_webm)) == live_webm


def test_unknown_cluster_sizes_give_the_same_timeline() -> None:
    data = WEBM.read_bytes()
    rewritten = _unknown_sizes(data)
    assert rewritten != data
    reference = block_timeline(data)
    timeline = block_timeline(rewritten)
    assert timeline.blocks == reference.blocks
    assert timeline.clusters == reference.clusters
    assert timeline.header_end == reference.header_end
    # Each unknown-size Cluster ended where the next one (or the Cues after the last) began.
    assert timeline.resyncs == 0
    assert data[reference.blocks[-1][0] : reference.blocks[-1][0] + 4] == bytes.fromhex("1C53BB6B")
    # ffmpeg agrees the rewritten file is still valid.
    decoded = _ffmpeg(["-f", "matroska", "-i", "pipe:0", "-f", "s16le", "-"], rewritten)
    assert decoded.returncode == 0 and len(decoded.stdout) > 0


@pytest.mark.parametrize("unknown", [False, True])
def test_scanner_fed_in_random_pieces_matches_whole_buffer(unknown: bool) -> None:
    data = WEBM.read_bytes()
    if unknown:
        data = _unknown_sizes(data)
    reference = block_timeline(data)
    rng = random.Random(7)
    scanner = WebmScanner()
    events: list[WebmBlock | WebmCluster] = []
    pos = 0
    while pos < len(data):
        size = rng.choice([1, 2, 3, 50, 333, 1500])
        events += scanner.feed(data[pos : pos + size])
        pos += size
        assert scanner.offset == min(pos, len(data))
        # A block is only reported once all its bytes are in.
        assert all(e.end <= pos for e in events if isinstance(e, WebmBlock))
    assert [(e.end, e.time) for e in events if isinstance(e, WebmBlock)] == reference.blocks
    assert [e.offset for e in events if isinstance(e, WebmCluster)] == reference.clusters
    assert scanner.header_end == reference.header_end
    assert scanner.offset == len(data)


def test_garbage_between_blocks_skips_to_the_next_cluster() -> None:
    data = WEBM.read_bytes()
    reference = block_timeline(data)
    cut, _ = reference.blocks[150]
    garbage = bytes(random.Random(3).randrange(256) for _ in range(37))
    timeline = block_timeline(data[:cut] + garbage + data[cut:])
    assert timeline.resyncs >= 1
    next_cluster = min(c for c in reference.clusters if c > cut)
    lost = [b for b in reference.blocks if cut < b[0] <= next_cluster]
    assert len(timeline.blocks) == len(reference.blocks) - len(lost)
    shifted = [(end + len(garbage), t) for end, t in reference.blocks if end > next_cluster]
    assert timeline.blocks[-len(shifted) :] == shifted


def test_header_plus_a_later_cluster_decodes() -> None:
    """What a restarted decoder does: the stream's header, then bytes from a Cluster on."""
    data = WEBM.read_bytes()
    timeline = block_timeline(data)
    resumed = data[: timeline.header_end] + data[timeline.clusters[10] :]
    decoded = _ffmpeg(
        ["-f", "matroska", "-i", "pipe:0", "-ac", "1", "-ar", "16000", "-f", "s16le", "-"], resumed
    )
    assert decoded.returncode == 0, decoded.stderr
    first_time = next(t for end, t in timeline.blocks if end > timeline.clusters[10])
    assert len(decoded.stdout) / 32000 == pytest.approx(8.0 - first_time, abs=0.05)
    # Without the header ffmpeg gives up, which is why the header must be kept.
    headless = _ffmpeg(
        ["-f", "matroska", "-i", "pipe:0", "-f", "s16le", "-"], data[timeline.clusters[10] :]
    )
    assert headless.returncode != 0


def test_truncated_stream_reports_only_complete_blocks() -> None:
    data = WEBM.read_bytes()
    reference = block_timeline(data)
    cut = reference.blocks[20][0] - 5
    timeline = block_timeline(data[:cut])
    assert timeline.blocks == reference.blocks[:20]
    assert block_timeline(data[:100]).header_end == 100  # no Cluster yet: all of it is header


def _el(ident: str, payload: bytes, *, unknown: bool = False) -> bytes:
    """One EBML element: hex id, 8-byte size (or "unknown"), payload."""
    size = b"\x01" + b"\xff" * 7 if unknown else bytes([0x01]) + len(payload).to_bytes(7, "big")
    return bytes.fromhex(ident) + size + payload


def test_hand_built_stream_with_scale_negative_timecode_and_block_group() -> None:
    header = _el("1A45DFA3", _el("4282", b"webm"))
    info = _el("1549A966", _el("2AD7B1", (500_000).to_bytes(3, "big")))  # 0.5 ms units
    tracks = _el("1654AE6B", _el("AE", _el("D7", b"\x01")))
    simple = _el("A3", b"\x81" + (-20).to_bytes(2, "big", signed=True) + b"\x80" + b"opus")
    group = _el(
        "A0", _el("A1", b"\x81" + (40).to_bytes(2, "big") + b"\x00" + b"op") + _el("9B", b"\x14")
    )
    cluster1 = _el(
        "1F43B675",
        _el("E7", (2000).to_bytes(2, "big")) + simple + group + _el("EC", b"\x00" * 3),
        unknown=True,
    )
    cluster2 = _el(
        "1F43B675", _el("E7", (4000).to_bytes(2, "big")) + _el("A3", b"\x81\x00\x00\x80xyz")
    )
    cues = _el("1C53BB6B", b"")
    prefix = header + _el("18538067", b"", unknown=True)  # just the Segment header
    body = info + tracks
    data = prefix + body + cluster1 + cluster2 + cues
    timeline = block_timeline(data)
    c1 = len(prefix) + len(body)
    c2 = c1 + len(cluster1)
    assert timeline.header_end == c1
    assert timeline.clusters == [c1, c2]
    simple_end = data.index(simple) + len(simple)
    group_end = data.index(group) + len(group)
    assert timeline.blocks == [
        (simple_end, pytest.approx((2000 - 20) * 0.0005)),
        (group_end, pytest.approx((2000 + 40) * 0.0005)),
        (c2 + len(cluster2), pytest.approx(4000 * 0.0005)),
    ]
    assert timeline.resyncs == 0
    # Fed one byte at a time, the same events come out.
    scanner = WebmScanner()
    events = [e for i in range(len(data)) for e in scanner.feed(data[i : i + 1])]
    assert [(e.end, e.time) for e in events if isinstance(e, WebmBlock)] == timeline.blocks
