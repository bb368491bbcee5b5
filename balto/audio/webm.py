"""A minimal EBML reader for WebM/Matroska byte streams: where the header ends, where blocks are.

In: WebM bytes fed piece by piece (`WebmScanner`; whole buffers: `balto.audio.webm_timeline`),
with known or unknown ("live", all-ones) Segment and Cluster sizes.
Out: the header's length (everything before the first Cluster), Cluster start offsets, the tracks
the header declares (number, codec id, codec private data), and for every SimpleBlock/BlockGroup
the offset where it ends, its absolute time in seconds and, when asked
(``WebmScanner(payloads=True)``), its track and frame data (`balto.audio.opus_demux`); for the
track it is told to follow (`WebmScanner.follow`), just time and frame data, as a bare `Frame`.
Raises: nothing for damaged input. Bytes that cannot be elements are skipped up to the next Cluster
id, as ffmpeg does, and counted in `WebmScanner.resyncs`; a truncated tail is simply not reported.
"""

from __future__ import annotations

from dataclasses import dataclass

from balto.audio.webm_events import Event as Event
from balto.audio.webm_events import Frame as Frame
from balto.audio.webm_events import WebmBlock as WebmBlock
from balto.audio.webm_events import WebmCluster as WebmCluster
from balto.audio.webm_events import WebmTrack as WebmTrack

_EBML = 0x1A45DFA3
_SEGMENT = 0x18538067
_INFO = 0x1549A966
_TIMECODE_SCALE = 0x2AD7B1
_CLUSTER = 0x1F43B675
_TIMECODE = 0xE7
_SIMPLE_BLOCK = 0xA3
_BLOCK_GROUP = 0xA0
_BLOCK = 0xA1
_TRACKS = 0x1654AE6B
_TRACK_ENTRY = 0xAE
_TRACK_NUMBER = 0xD7
_CODEC_ID = 0x86
_CODEC_PRIVATE = 0x63A2
_TRACK_VALUES_ORDER = (_TRACK_NUMBER, _CODEC_ID, _CODEC_PRIVATE)
_TRACK_VALUES = frozenset(_TRACK_VALUES_ORDER)
# An audio block is a few hundred bytes (a 120 ms Opus packet at 510 kbit/s is 7.6 KB); when
# payloads are kept, a "block" claiming more is damage, not something to buffer.
MAX_PAYLOAD = 1 << 16
_CLUSTER_ID_BYTES = bytes.fromhex("1F43B675")

# Children of Segment ("level 1"); inside a Cluster of unknown size, one of these (or a new EBML
# header) is what ends the Cluster.
_LEVEL1 = frozenset(
    {0x114D9B74, _INFO, 0x1654AE6B, _CLUSTER, 0x1C53BB6B, 0x1941A469, 0x1043A770, 0x1254C367}
)
_GLOBAL = frozenset({0xEC, 0xBF})  # Void and CRC-32 may appear anywhere
_CLUSTER_CHILDREN = frozenset({_TIMECODE, 0x5854, 0xA7, 0xAB, _SIMPLE_BLOCK, _BLOCK_GROUP, 0xAF})
# descended into
_MASTERS = frozenset({_SEGMENT, _CLUSTER, _INFO, _BLOCK_GROUP, _TRACKS, _TRACK_ENTRY})
# read (blocks: their head only, unless payloads are kept)
_VALUES = frozenset({_TIMECODE, _TIMECODE_SCALE, _SIMPLE_BLOCK, _BLOCK, *_TRACK_VALUES})
_DEFAULT_SCALE_NS = 1_000_000  # Matroska's default TimecodeScale: timecodes in milliseconds


@dataclass(frozen=True, slots=True)
class _Open:
    ident: int
    end: int | None  # None: unknown size, ends where a sibling or parent element starts
    start: int = -1


class WebmScanner:
    """Scan a WebM stream incrementally; memory stays bounded.

    Payloads are skipped, or kept one block at a time, at most `MAX_PAYLOAD` bytes.
    """

    def __init__(self, *, payloads: bool = False) -> None:
        """Start at offset 0, before the EBML header.

        Args:
            payloads: Report each block's track and frame data (`WebmBlock.payload`).
        """
        self._payloads = payloads
        self._track: dict[int, int | bytes] = {}  # values of the open TrackEntry
        self._group_block: tuple[int, bytes | None] = (0, None)  # track, payload of its Block
        self._buf = bytearray()
        self._base = 0  # stream offset of self._buf[0]
        self._skip = 0  # payload bytes still to skip before parsing resumes
        self._stack: list[_Open] = []
        self._scale_ns = _DEFAULT_SCALE_NS
        self._cluster_tc = 0
        self._group_time: float | None = None  # time of the Block inside the open BlockGroup
        self._pending: WebmBlock | None = None  # a SimpleBlock whose payload is still arriving
        self._frames: list[Frame] = []
        self._syncing = False
        self.header_end: int | None = None
        """Offset of the first Cluster (the header is everything before it); None until seen."""
        self.resyncs = 0
        """How many times damaged bytes were skipped up to the next Cluster."""
        self.laced = 0
        """Laced blocks seen while keeping payloads (reported without payload: see `WebmBlock`)."""
        self.follow: int | None = None
        """While keeping payloads, the track whose blocks with frame data (unlaced, not empty)
        `take_frames` hands out as bare `Frame`s instead of `feed` reporting them as `WebmBlock`s
        (a cheaper record, for the Opus demuxer: 50 blocks a second per session)."""

    @property
    def offset(self) -> int:
        """Bytes fed so far."""
        return self._base + len(self._buf)

    @property
    def timecode_scale_ns(self) -> int:
        """Nanoseconds per timecode unit (from the Info element; 1 ms by default)."""
        return self._scale_ns

    def feed(self, data: bytes) -> list[Event]:
        """Take the next bytes; return the clusters started and blocks completed, in order."""
        events: list[Event] = []
        if self._skip:
            n = min(self._skip, len(data))
            self._skip -= n
            self._base += n
            data = data[n:]
        self._buf += data
        while not self._skip and (self._simple_blocks(events) or self._parse_one(events)):
            pass
        if not self._skip and self._pending is not None:
            self._report(events, self._pending)
            self._pending = None
        return events

    def take_frames(self) -> list[Frame]:
        """The followed track's frames (`follow`) completed since the last call, in order."""
        frames, self._frames = self._frames, []
        return frames

    def _report(self, events: list[Event], block: WebmBlock) -> None:
        """Report a block read by the general path: a `Frame` when its track is followed."""
        if block.payload and block.track == self.follow:
            self._frames.append((block.time, block.payload))
        else:
            events.append(block)

    def _simple_blocks(self, events: list[Event]) -> bool:
        """Read the whole SimpleBlocks that follow in the open Cluster, in one pass.

        They are nearly every element of a live stream (50 a second per session), so they skip
        the general path's per-element bookkeeping, and those of the followed track become bare
        `Frame`s. Anything else, or a block not wholly buffered, is left to `_parse_one`. Returns
        False when nothing was read.
        """
        stack = self._stack
        if self._syncing or self._pending is not None or not stack or stack[-1].ident != _CLUSTER:
            return False
        buf, base, end_of = self._buf, self._base, stack[-1].end
        payloads, follow, frames = self._payloads, self.follow, self._frames
        limit = MAX_PAYLOAD if payloads else 1 << 62
        tc, scale = self._cluster_tc, self._scale_ns
        at, n = 0, len(buf)
        while n - at > 1 and buf[at] == _SIMPLE_BLOCK:
            size_len = _VINT_LENGTHS[buf[at + 1]]
            if size_len == 1:  # nearly always: a block under 127 bytes
                body = at + 2
                size = buf[at + 1] & 0x7F
                unknown = size == 0x7F
            else:
                body = at + 1 + size_len
                if not size_len or body > n:
                    break
                size = int.from_bytes(buf[at + 1 : body], "big") & ((1 << (7 * size_len)) - 1)
                unknown = size == (1 << (7 * size_len)) - 1
            stop = body + size
            if unknown or size > limit or stop > n or size < 4:
                break  # unknown size, damage or not all here: the general path decides
            if end_of is not None and base + stop > end_of:
                break
            head = buf[body]
            if not head & 0x80:  # tracks past 127 (a longer number): the general path
                break
            # The block's timecode, a signed 16-bit offset from the Cluster's.
            rel = ((buf[body + 1] ^ 0x80) << 8 | buf[body + 2]) - 0x8000
            time = (tc + rel) * scale / 1e9
            if payloads:
                track = head & 0x7F
                if buf[body + 3] & 0x06:  # laced: reported without payload, counted
                    self.laced += 1
                    events.append(WebmBlock(base + stop, time, base + at, tc, track))
                elif track == follow and size > 4:
                    frames.append((time, bytes(buf[body + 4 : stop])))
                else:
                    payload = bytes(buf[body + 4 : stop])
                    events.append(WebmBlock(base + stop, time, base + at, tc, track, payload))
            else:
                events.append(WebmBlock(base + stop, time, base + at, tc))
            at = stop
            if end_of is not None and base + at >= end_of:
                break
        if not at:
            return False
        del buf[:at]
        self._base += at
        return True

    def _parse_one(self, events: list[Event]) -> bool:
        """Parse one element header (and a small body); False when more bytes are needed."""
        if self._pending is not None:
            self._report(events, self._pending)
            self._pending = None
        pos = self._base
        self._close_known(pos, events)
        if self._syncing:
            return self._resync()
        head = _element_header(self._buf)
        if head is None:
            return False
        ident, size, hlen = head
        if ident < 0:
            return self._start_resync()
        # An unknown-size element ends where something it cannot hold starts.
        while self._stack and self._stack[-1].end is None:
            if _may_contain(self._stack[-1].ident, ident):
                break
            self._stack.pop()
        end = None if size is None else pos + hlen + size
        if not self._plausible(ident, size, end):
            return self._start_resync()
        if ident == _CLUSTER:
            events.append(WebmCluster(pos))
            if self.header_end is None:
                self.header_end = pos
        if ident in _MASTERS:
            self._stack.append(_Open(ident, end, pos))
            self._consume(hlen)
            return True
        assert size is not None  # _plausible refuses unknown sizes for anything else
        if ident in _VALUES:
            whole = self._payloads or ident not in (_SIMPLE_BLOCK, _BLOCK)
            need = hlen + (size if whole else min(size, 10))
            if len(self._buf) < need:
                return False
            self._read_value(ident, bytes(self._buf[hlen:need]), pos, pos + hlen + size)
        self._consume(hlen + size)
        return True

    def _read_value(self, ident: int, body: bytes, start: int, end: int) -> None:
        if ident == _TIMECODE:
            self._cluster_tc = int.from_bytes(body, "big")
        elif ident == _TIMECODE_SCALE:
            self._scale_ns = int.from_bytes(body, "big") or _DEFAULT_SCALE_NS
        elif ident in _TRACK_VALUES:
            if self._stack and self._stack[-1].ident == _TRACK_ENTRY:
                self._track[ident] = int.from_bytes(body, "big") if ident == _TRACK_NUMBER else body
        elif ident == _BLOCK:
            self._group_time = self._block_time(body)
            self._group_block = self._block_data(body)
        else:
            track, payload = self._block_data(body)
            time = self._block_time(body)
            self._pending = WebmBlock(end, time, start, self._cluster_tc, track, payload)

    def _block_data(self, body: bytes) -> tuple[int, bytes | None]:
        """(track number, frame data or None) of a block's body."""
        if not self._payloads or not body:
            return 0, None
        track_len = _vint_length(body[0])
        if not track_len or len(body) < track_len + 3:
            return 0, None
        track = int.from_bytes(body[:track_len], "big") & ((1 << (7 * track_len)) - 1)
        if body[track_len + 2] & 0x06:  # lacing: browsers and ffmpeg never lace Opus
            self.laced += 1
            return track, None
        return track, body[track_len + 3 :]

    def _block_time(self, body: bytes) -> float:
        track_len = _vint_length(body[0]) if body else 0
        raw = body[track_len : track_len + 2]
        rel = int.from_bytes(raw, "big", signed=True) if track_len and len(raw) == 2 else 0
        return (self._cluster_tc + rel) * self._scale_ns / 1e9

    def _consume(self, n: int) -> None:
        """Drop `n` bytes from the front: what is buffered now, the rest as it arrives."""
        take = min(n, len(self._buf))
        del self._buf[:take]
        self._base += take
        self._skip = n - take

    def _close_known(self, pos: int, events: list[Event]) -> None:
        while self._stack:
            end = self._stack[-1].end
            if end is None or pos < end:
                return
            closed = self._stack.pop()
            if closed.ident == _BLOCK_GROUP and self._group_time is not None:
                block = (pos, self._group_time, closed.start, self._cluster_tc, *self._group_block)
                self._report(events, WebmBlock(*block))
                self._group_time = None
            elif closed.ident == _TRACK_ENTRY:
                values, self._track = self._track, {}
                number, codec, private = (values.get(k) for k in _TRACK_VALUES_ORDER)
                events.append(
                    WebmTrack(
                        number if isinstance(number, int) else 0,
                        codec.decode("ascii", "replace") if isinstance(codec, bytes) else "",
                        private if isinstance(private, bytes) else b"",
                    )
                )

    def _plausible(self, ident: int, size: int | None, end: int | None) -> bool:
        """Whether an element can be where it is; garbage almost always fails this."""
        if size is None and ident not in (_SEGMENT, _CLUSTER):
            return False  # only these two are ever written with an unknown size
        if ident in (_TIMECODE, _TIMECODE_SCALE) and size is not None and size > 8:
            return False
        if self._payloads and ident in (_SIMPLE_BLOCK, _BLOCK) and (size or 0) > MAX_PAYLOAD:
            return False
        if ident in _TRACK_VALUES and (size or 0) > MAX_PAYLOAD:
            return False
        parent = self._stack[-1] if self._stack else None
        if parent is not None and parent.end is not None and end is not None and end > parent.end:
            return False
        if parent is None:
            # A Cluster at the top level: a stream picked up after its header (a restart).
            return ident in (_EBML, _SEGMENT, _CLUSTER) or ident in _GLOBAL
        if parent.ident in (_SEGMENT, _CLUSTER):
            return _may_contain(parent.ident, ident)
        return True  # inside Info or a BlockGroup, unknown children are skipped by their size

    def _start_resync(self) -> bool:
        self.resyncs += 1
        self._syncing = True
        self._group_time = None
        self._track = {}
        # Keep the Segment (a live stream's Segment never ends) and drop what was inside it.
        while self._stack and self._stack[-1].ident != _SEGMENT:
            self._stack.pop()
        self._consume(1)
        return True

    def _resync(self) -> bool:
        at = self._buf.find(_CLUSTER_ID_BYTES)
        if at < 0:
            keep = len(_CLUSTER_ID_BYTES) - 1  # the id may be split across feeds
            self._consume(max(0, len(self._buf) - keep))
            return False
        self._consume(at)
        self._syncing = False
        return True


def _may_contain(parent: int, ident: int) -> bool:
    """Whether `ident` can be a child of `parent` (used to end unknown-size elements)."""
    if ident in _GLOBAL:
        return True
    if parent == _SEGMENT:
        return ident in _LEVEL1
    if parent == _CLUSTER:
        return ident in _CLUSTER_CHILDREN
    return False


# The length of an EBML variable-size integer by its first byte (0: invalid), looked up: the
# scanner reads two or three per element, ~50 elements per second of audio per session.
_VINT_LENGTHS = bytes(
    next((n for n in range(1, 9) if first & (0x80 >> (n - 1))), 0) for first in range(256)
)


def _vint_length(first: int) -> int:
    """Length in bytes of an EBML variable-size integer from its first byte (0 when invalid)."""
    return _VINT_LENGTHS[first]


def _element_header(buf: bytearray) -> tuple[int, int | None, int] | None:
    """Parse an element id and size at the start of `buf`.

    Returns:
        (id, size or None when unknown, header length); id is -1 when the bytes cannot be an
        element header; None when more bytes are needed.
    """
    if not buf:
        return None
    id_len = _VINT_LENGTHS[buf[0]]
    if not 1 <= id_len <= 4:
        return (-1, None, 1)
    if len(buf) < id_len + 1:
        return None
    ident = int.from_bytes(buf[:id_len], "big")
    size_len = _VINT_LENGTHS[buf[id_len]]
    if size_len == 0:
        return (-1, None, 1)
    hlen = id_len + size_len
    if len(buf) < hlen:
        return None
    size = int.from_bytes(buf[id_len:hlen], "big") & ((1 << (7 * size_len)) - 1)
    if size == (1 << (7 * size_len)) - 1:
        return (ident, None, hlen)
    return (ident, size, hlen)
