"""What a restarted WebM decoder needs to pick a live stream up again: header and recent blocks.

In: every byte of a device's WebM stream, in order, as it arrives (`WebmReplay.feed`), and how far
the decoder has got on the audio clock (`WebmReplay.mark_decoded`).
Out: `WebmReplay.replay`, the bytes a fresh ffmpeg should be given to resume: the stream header
(EBML … Tracks, without which ffmpeg exits 183: DESIGN §4c), a Cluster header of our own carrying
the timecode of the resumed block, and the stream from that block on. Starting at a block rather
than at the next Cluster matters for browsers: an audio-only MediaRecorder stream may start a new
Cluster only every few (up to ~32) seconds, so "wait for the next Cluster" could lose that much.
Raises: nothing; damaged bytes are skipped by the scanner as ffmpeg skips them.

Memory stays bounded: blocks the decoder has finished with are dropped, and at most `max_bytes`
are kept whatever happens downstream.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from balto.audio.webm import WebmBlock, WebmScanner

_CLUSTER_UNKNOWN_SIZE = bytes.fromhex("1F43B675") + bytes.fromhex("01FFFFFFFFFFFFFF")
_TIMECODE_ID = 0xE7
# A block the decoder's output has passed by more than this is done with: an Opus packet lasts at
# most 120 ms, and ffmpeg's resampler holds back only a few milliseconds.
_DONE_MARGIN_S = 0.25
DEFAULT_MAX_BYTES = 1 << 20  # ~2 min of 64 kbit/s Opus; a live stream needs a second or two


@dataclass(frozen=True, slots=True)
class Resume:
    """How to restart a decoder.

    Attributes:
        data: The bytes to give a fresh ffmpeg before the rest of the live stream.
        start_s: Stream time (seconds since the stream's first block) at which the decoded output
            of `data` begins; None when `data` is the stream from its very first byte.
    """

    data: bytes
    start_s: float | None


def cluster_header(timecode: int) -> bytes:
    """A Cluster of unknown size (as live muxers write) with its Timecode element."""
    body = timecode.to_bytes(max(1, (timecode.bit_length() + 7) // 8), "big")
    return _CLUSTER_UNKNOWN_SIZE + bytes([_TIMECODE_ID, 0x80 | len(body)]) + body


class WebmReplay:
    """Keep a live WebM stream's header and its not-yet-decoded blocks."""

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        """Start before the stream's first byte.

        Args:
            max_bytes: Most stream bytes kept for replay (the header is kept besides).
        """
        self._scanner = WebmScanner()
        self._max = max_bytes
        self._buf = bytearray()
        self._base = 0  # stream offset of self._buf[0]
        self._blocks: deque[WebmBlock] = deque()
        self.header: bytes | None = None
        """The stream header (everything before the first Cluster), once it has all arrived."""
        self.first_time: float | None = None
        """Time of the stream's first block (seconds); the audio clock's zero."""

    @property
    def fed(self) -> int:
        """Stream bytes seen so far."""
        return self._scanner.offset

    @property
    def kept(self) -> int:
        """Stream bytes held for replay now (not counting the header)."""
        return len(self._buf)

    def feed(self, data: bytes) -> None:
        """Take the next bytes of the stream (every byte, in order, as it arrives)."""
        events = self._scanner.feed(data)
        self._buf += data
        if self.header is None and self._scanner.header_end is not None:
            self.header = bytes(self._buf[: self._scanner.header_end - self._base])
        for event in events:
            if isinstance(event, WebmBlock) and event.start >= 0:
                if self.first_time is None:
                    self.first_time = event.time
                self._blocks.append(event)
        self._trim(None)

    def mark_decoded(self, decoded_s: float) -> None:
        """The decoder's output has reached `decoded_s` (stream time): drop finished blocks."""
        self._trim(decoded_s)

    def replay(self, decoded_s: float) -> Resume:
        """The bytes to restart a decoder with, resuming at stream time `decoded_s`.

        Args:
            decoded_s: How far the decoder's output had got (stream time, seconds).

        Returns:
            The bytes and the stream time their output starts at; the caller drops output before
            `decoded_s` or, if it starts later (bytes were lost), moves its clock forward.
        """
        if self.header is None or self.first_time is None or not self._blocks:
            if self._base == 0:
                return Resume(bytes(self._buf), None)
            # The stream's beginning is gone (cap reached without a block): header and what is left.
            return Resume((self.header or b"") + bytes(self._buf), None)
        start = self._blocks[0]
        for block in self._blocks:
            if block.time - self.first_time > decoded_s + 1e-6:
                break
            start = block
        blocks = self._buf[start.start - self._base :]
        data = self.header + cluster_header(start.cluster_timecode) + blocks
        return Resume(bytes(data), start.time - self.first_time)

    def _trim(self, decoded_s: float | None) -> None:
        blocks = self._blocks
        if decoded_s is not None and self.first_time is not None:
            # Keep the last block always: its start is where a replay can begin.
            while len(blocks) > 1 and blocks[1].time - self.first_time < decoded_s - _DONE_MARGIN_S:
                blocks.popleft()
        while len(self._buf) > self._max and len(blocks) > 1:
            blocks.popleft()
        if blocks:
            keep_from = blocks[0].start
        elif self.header is not None:
            keep_from = self._base  # a Cluster has begun but no block has completed yet
        else:
            keep_from = 0  # still in the header: keep everything
        if len(self._buf) - max(0, keep_from - self._base) > self._max and not blocks:
            keep_from = self._base + len(self._buf) - self._max
        cut = keep_from - self._base
        if cut > 0:
            del self._buf[:cut]
            self._base = keep_from
