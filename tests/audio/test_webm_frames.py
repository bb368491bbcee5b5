"""The demuxer's fast path gives exactly what the general path gives, damaged or cut anywhere.

The fast path: the scanner reads the Opus track's SimpleBlocks in one pass and hands them out as
bare frames (`WebmScanner.follow`), and the demuxer stamps a chunk's frames in one call. The
reference here is the demuxer as it was before it: every element through the scanner's general
path (`_parse_one`), each packet stamped on its own, with the same arithmetic.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from balto.audio.formats import AudioFormat
from balto.audio.opus_demux import OpusDemuxer
from balto.audio.webm import Event, WebmBlock, WebmScanner, WebmTrack
from balto.audio.webm_timeline import cluster_offsets
from tests.fixtures.damage import damaged

FIXTURES = Path(__file__).parent.parent / "fixtures"
CLIPS = [FIXTURES / "two_utterances.webm", FIXTURES / "corpus" / "dor_ac_10db.webm"]
SEGMENT_ID = bytes.fromhex("18538067")
_GAP_S = 0.0125
_FRAME_MS = (10, 20, 40, 60) * 3 + (10, 20) * 2 + (2.5, 5, 10, 20) * 4

Packet = tuple[float, float, bytes, float]


def _duration(packet: bytes) -> float:
    """RFC 6716 §3.1, written out as the demuxer first had it."""
    toc = packet[0]
    code = toc & 3
    if code == 0:
        frames = 1
    elif code in (1, 2):
        frames = 2
    elif len(packet) >= 2:
        frames = packet[1] & 0x3F
    else:
        return 0.0
    return frames * _FRAME_MS[toc >> 3] / 1000


class _Reference:
    """The WebM demuxer without its fast path: general-path events, one packet at a time."""

    def __init__(self) -> None:
        self.scanner = WebmScanner(payloads=True)
        self.scanner._simple_blocks = lambda events: False  # type: ignore[method-assign]
        self.track: int | None = None
        self.head: bytes | None = None
        self.zero: float | None = None
        self.next = 0.0
        self.packets = 0
        self.lost_s = 0.0

    def feed(self, data: bytes) -> list[Packet]:
        out: list[Packet] = []
        for event in self.scanner.feed(data):
            if isinstance(event, WebmTrack) and self.track is None and event.codec_id == "A_OPUS":
                self.track, self.head = event.number, event.codec_private or None
            elif isinstance(event, WebmBlock) and event.track == self.track and event.payload:
                out.append(self._stamp(event.time, event.payload))
        return out

    def _stamp(self, container_time: float, data: bytes) -> Packet:
        if self.zero is None:
            self.zero = container_time
        time = container_time - self.zero
        gap = 0.0
        if self.packets and time > self.next + _GAP_S:
            gap = time - self.next
            self.lost_s += gap
        elif self.packets:
            time = self.next
        duration = _duration(data)
        self.next = time + duration
        self.packets += 1
        return (time, duration, data, gap)


def _compare(data: bytes, rng: random.Random, sizes: list[int]) -> tuple[int, int]:
    """Feed both demuxers the same pieces; every piece must give the same packets."""
    demux, reference = OpusDemuxer(AudioFormat.WEBM), _Reference()
    pos = packets = 0
    while pos < len(data):
        piece = data[pos : pos + rng.choice(sizes)]
        pos += len(piece)
        got = [(p.time, p.duration, p.data, p.gap_s) for p in demux.feed(piece)]
        assert got == reference.feed(piece), pos
        packets += len(got)
    assert demux.head == reference.head is not None
    assert (demux.lost_s, demux.resyncs) == (reference.lost_s, reference.scanner.resyncs)
    assert demux.packets == reference.packets == packets
    return packets, demux.resyncs


def _unknown_sizes(data: bytes) -> bytes:
    """The Segment and every Cluster with an "unknown" size, as a live writer leaves them."""
    out = bytearray(data)
    for at in [data.index(SEGMENT_ID), *cluster_offsets(data)]:
        n = next(n for n in range(1, 9) if out[at + 4] & (0x80 >> (n - 1)))
        out[at + 4 : at + 4 + n] = bytes([0xFF >> n | 0x80 >> (n - 1)]) + b"\xff" * (n - 1)
    return bytes(out)


@pytest.mark.parametrize("clip", CLIPS, ids=lambda p: p.stem)
@pytest.mark.parametrize("unknown", [False, True])
def test_whole_and_pieced_streams(clip: Path, unknown: bool) -> None:
    data = clip.read_bytes()
    if unknown:
        data = _unknown_sizes(data)
    rng = random.Random(3)
    packets, resyncs = _compare(data, rng, [len(data)])
    assert packets > 300 and resyncs == 0
    assert _compare(data, rng, [1, 2, 3, 7, 50, 333, 1500]) == (packets, 0)
    assert _compare(data, rng, list(range(200, 1400, 7))) == (packets, 0)  # device-sized chunks


@pytest.mark.parametrize("seed", range(24))
def test_damaged_streams_fed_in_random_pieces(seed: int) -> None:
    rng = random.Random(seed)
    data = damaged(CLIPS[seed % 2].read_bytes(), rng)
    if seed % 3 == 0:
        data = _unknown_sizes(data)
    _compare(data, rng, [1, 2, 5, 64, 700, 1500])


def _el(ident: str, payload: bytes) -> bytes:
    return bytes.fromhex(ident) + bytes([0x01]) + len(payload).to_bytes(7, "big") + payload


def _simple(track: bytes, rel: int, flags: int, frame: bytes, *, short: bool = True) -> bytes:
    """A SimpleBlock; `short`: its size in one or two bytes, as browsers and ffmpeg write it."""
    body = track + rel.to_bytes(2, "big", signed=True) + bytes([flags]) + frame
    if not short:
        return _el("A3", body)
    size = len(body) | 0x80 if len(body) < 127 else (len(body) | 0x4000).to_bytes(2, "big")
    return b"\xa3" + (bytes([size]) if isinstance(size, int) else size) + body


def test_every_kind_of_block() -> None:
    """Other tracks, laced and empty blocks, long sizes, a BlockGroup, a track past 127."""
    head = b"OpusHead\x01\x01\x38\x01\x80\xbb\x00\x00\x00\x00\x00"
    entry = _el("D7", b"\x01") + _el("86", b"A_OPUS") + _el("63A2", head)
    other = _el("D7", b"\x02") + _el("86", b"V_VP8")
    far = _el("D7", b"\x00\xc8") + _el("86", b"A_VORBIS")  # track 200
    tracks = _el("1654AE6B", _el("AE", entry) + _el("AE", other) + _el("AE", far))
    frame = bytes([0xFC]) + bytes(60)  # 20 ms
    blocks = [
        _simple(b"\x81", 0, 0x80, frame),
        _simple(b"\x82", 5, 0x80, b"video"),
        _simple(b"\x81", 20, 0x80, frame + bytes(200)),  # a two-byte size
        _simple(b"\x81", 40, 0x80, frame, short=False),  # an eight-byte size
        _simple(b"\x81", 60, 0x82, frame),  # laced: no payload
        _simple(b"\x81", 80, 0x80, b""),  # empty
        _el("A0", _el("A1", b"\x81" + (100).to_bytes(2, "big") + b"\x00" + frame)),
        _simple(b"\x40\xc8", 110, 0x80, b"vorbis"),
        _simple(b"\x81", -30, 0x80, frame),  # back in time: the clock does not go back
        _simple(b"\x81", 900, 0x80, frame),  # a gap
    ]
    cluster = _el("1F43B675", _el("E7", (1000).to_bytes(2, "big")) + b"".join(blocks))
    segment = _el("18538067", tracks + cluster + cluster.replace(b"\x03\xe8", b"\x07\xd0", 1))
    data = _el("1A45DFA3", _el("4282", b"webm")) + segment
    rng = random.Random(1)
    packets, _ = _compare(data, rng, [len(data)])
    assert packets == 12  # per Cluster: five SimpleBlocks with a frame and the BlockGroup's
    for sizes in ([1], [2, 3, 5], list(range(1, 90))):
        assert _compare(data, rng, sizes) == (packets, 0)


def test_followed_frames_are_the_blocks_the_events_would_be() -> None:
    data = CLIPS[0].read_bytes()
    plain, following = WebmScanner(payloads=True), WebmScanner(payloads=True)
    following.follow = 1
    rng = random.Random(5)
    events: list[Event] = []
    rest: list[Event] = []
    frames = []
    pos = 0
    while pos < len(data):
        piece = data[pos : pos + rng.randrange(1, 900)]
        pos += len(piece)
        events += plain.feed(piece)
        rest += following.feed(piece)
        frames += following.take_frames()
    blocks = [e for e in events if isinstance(e, WebmBlock) and e.track == 1 and e.payload]
    assert frames == [(b.time, b.payload) for b in blocks] and len(frames) > 300
    assert rest == [e for e in events if e not in blocks]
