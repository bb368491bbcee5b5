"""Opus packets out of a live WebM or Ogg stream, on a stream clock that gaps move forward.

In: the device's container bytes, fed as they arrive, cut anywhere (browser chunks start in the
middle of elements). Out: `OpusPacket`s in order, each with its start on the stream clock
(seconds since the stream's first packet) and its duration from its TOC byte (RFC 6716 §3.1),
and the stream's OpusHead (`OpusDemuxer.head`) for the decoder.
Raises `OpusStreamError` (permanent: the session closes with 4007) when the stream cannot be
Opus: a header that does not parse before the first audio, no Opus track, a track or first Ogg
packet claiming another codec. Damage later in the stream is not an error: WebM skips to the next
Cluster (`balto.audio.webm`), Ogg to the next page (`balto.audio.ogg`); the packets after it keep
their own timestamps, so the time lost shows as a gap (`OpusPacket.time` jumps; `lost_s` adds it
up) and the decoder's clock moves over it instead of sliding the rest of the stream earlier.
"""

from __future__ import annotations

from typing import NamedTuple

from balto.audio.formats import AudioFormat, AudioFormatError
from balto.audio.ogg import OggReader
from balto.audio.webm import Frame, WebmBlock, WebmScanner, WebmTrack

_OPUS_HEAD = b"OpusHead"
_OPUS_TAGS = b"OpusTags"
_GRANULE_RATE = 48_000  # Ogg Opus granule positions count 48 kHz samples (RFC 7845 §4)
# A packet starting this much after the previous one ended is a gap (lost bytes): half the
# shortest Opus frame tolerates millisecond timecode rounding in WebM.
_GAP_S = 0.0125
_FRAME_MS = (10, 20, 40, 60) * 3 + (10, 20) * 2 + (2.5, 5, 10, 20) * 4  # per TOC config
# Seconds in a packet of one frame (TOC code 0) or two (codes 1 and 2), by its TOC byte, looked
# up: every packet of every session is measured on the server's one thread.
_TOC_S = tuple((1 if toc & 3 == 0 else 2) * _FRAME_MS[toc >> 3] / 1000 for toc in range(256))


class OpusStreamError(AudioFormatError):
    """The stream is not Opus in WebM/Ogg that Balto can read (permanent)."""


class OpusPacket(NamedTuple):
    """One Opus packet.

    A named tuple, a value like a frozen dataclass at half the cost to make: one is made per
    packet of every session (50 a second) on the server's one thread.

    Attributes:
        time: Its start on the stream clock, seconds since the stream's first packet.
        duration: Its length in seconds (from its TOC byte; 0 for an empty or damaged packet).
        data: The packet.
        gap_s: Stream time lost just before it (bytes lost or damaged); 0 normally.
    """

    time: float
    duration: float
    data: bytes
    gap_s: float = 0.0


def packet_duration(packet: bytes) -> float:
    """Seconds of audio an Opus packet holds (RFC 6716 §3.1); 0 when it is malformed."""
    if not packet:
        return 0.0
    toc = packet[0]
    if toc & 3 != 3:
        return _TOC_S[toc]
    if len(packet) < 2:
        return 0.0
    return (packet[1] & 0x3F) * _FRAME_MS[toc >> 3] / 1000  # code 3: a frame count follows


class OpusDemuxer:
    """Find the Opus packets of one device stream (WebM or Ogg)."""

    def __init__(self, fmt: AudioFormat) -> None:
        """Start before the stream's first byte; `fmt` is `AudioFormat.WEBM` or `.OGG`."""
        if fmt not in (AudioFormat.WEBM, AudioFormat.OGG):
            raise ValueError(f"not an Opus container: {fmt}")
        self.format = fmt
        self._webm = WebmScanner(payloads=True) if fmt is AudioFormat.WEBM else None
        self._ogg = OggReader() if fmt is AudioFormat.OGG else None
        self._track: int | None = None  # the WebM track holding Opus
        self._codecs: list[str] = []  # the WebM tracks' codec ids
        self._tags_seen = False
        self._zero: float | None = None  # container time of the first packet
        self._ogg_end = 0.0  # Ogg: stream time where the next packet starts, absent a gap
        self._next = 0.0  # stream time where the next packet is expected
        self.head: bytes | None = None
        """The OpusHead (WebM CodecPrivate, or Ogg's first packet); None until known."""
        self.lost_s = 0.0
        """Stream time skipped over because its bytes were lost or damaged."""
        self.packets = 0
        """Packets handed out so far."""
        self.damaged_pages = 0
        """Ogg pages dropped because their packets did not fit their granule positions."""

    @property
    def resyncs(self) -> int:
        """Damaged stretches skipped so far."""
        if self._webm is not None:
            return self._webm.resyncs
        assert self._ogg is not None
        return self._ogg.resyncs + self._ogg.lost_pages + self.damaged_pages

    def feed(self, data: bytes) -> list[OpusPacket]:
        """Take the next bytes of the stream; return the packets they complete.

        Raises:
            OpusStreamError: The stream is not Opus (see the module docstring).
        """
        if self._webm is not None:
            return self._feed_webm(data)
        return self._feed_ogg(data)

    def _feed_webm(self, data: bytes) -> list[OpusPacket]:
        assert self._webm is not None
        frames: list[Frame] = []
        for event in self._webm.feed(data):
            if isinstance(event, WebmTrack):
                if self._track is None and event.codec_id == "A_OPUS":
                    # From now on the scanner hands this track's blocks out as bare frames.
                    self._track = self._webm.follow = event.number
                    self.head = event.codec_private or None
                self._codecs.append(_printable(event.codec_id) or "?")
                continue
            if self._track is None:
                # Audio (or a Cluster) before any Opus track: a header that did not parse, or
                # one that declares another codec. ffmpeg with its Opus decoder forced refused
                # both before any audio too.
                if self._webm.resyncs:
                    raise OpusStreamError("invalid WebM header: damaged before the first Cluster")
                codecs = ", ".join(self._codecs[:4]) or "no track"  # a stored reason: bounded
                raise OpusStreamError(f"WebM stream without an Opus track ({codecs})")
            if isinstance(event, WebmBlock) and event.track == self._track and event.payload:
                frames.append((event.time, event.payload))  # read before the track was known
        if self._track is None and self._webm.resyncs:
            raise OpusStreamError("invalid WebM header: damaged before its tracks")
        # Blocks read before the track was known came as events, the rest as frames: no mixing.
        frames += self._webm.take_frames()
        return self._stamp(frames)

    def _feed_ogg(self, data: bytes) -> list[OpusPacket]:
        assert self._ogg is not None
        out: list[OpusPacket] = []
        page: list[bytes] = []
        for packet in self._ogg.feed(data):
            if self.head is None:
                if not packet.data.startswith(_OPUS_HEAD):
                    raise OpusStreamError("Ogg stream whose first packet is not an OpusHead")
                self.head = packet.data
                continue
            if not self._tags_seen and packet.data.startswith(_OPUS_TAGS):
                self._tags_seen = True
                continue
            if packet.page_start:
                page = []
            page.append(packet.data)
            if packet.granule < 0:
                continue
            # The granule is the end of the page's last packet: count back over this page's
            # packets to find where they start (a page after lost ones starts later).
            end = (packet.granule - _pre_skip(self.head)) / _GRANULE_RATE
            start = end - sum(packet_duration(p) for p in page)
            # The stream's last page may end before its last packet does (RFC 7845 §4.4).
            trimmed = packet_duration(page[-1])
            if self.packets and start < self._ogg_end - _GAP_S - trimmed:
                # Its packets claim more time than the granules give them: damaged bytes (a
                # page's CRC is not checked), dropped; the next page shows the gap.
                self.damaged_pages += 1
                page = []
                continue
            if not self.packets or start > self._ogg_end + _GAP_S:
                self._ogg_end = start
            for data_ in page:
                out += self._stamp([(self._ogg_end, data_)])
                self._ogg_end += packet_duration(data_)
            page = []
        return out

    def _stamp(self, frames: list[Frame]) -> list[OpusPacket]:
        """Put packets on the stream clock; a jump past the expected start is a gap.

        One call per chunk, the clock in local variables: this runs for every packet of every
        session on the server's one thread.
        """
        out: list[OpusPacket] = []
        zero, expected, count = self._zero, self._next, self.packets
        for container_time, data in frames:
            if zero is None:
                zero = container_time
            time = container_time - zero
            gap = 0.0
            if count and time > expected + _GAP_S:
                gap = time - expected
                self.lost_s += gap
            elif count:
                time = expected  # timecode rounding (or a step back): the clock never goes back
            duration = packet_duration(data)
            expected = time + duration
            count += 1
            out.append(OpusPacket(time, duration, data, gap))
        self._zero, self._next, self.packets = zero, expected, count
        return out


def _pre_skip(head: bytes) -> int:
    """The OpusHead's pre-skip (48 kHz samples the decoder drops at the start)."""
    return int.from_bytes(head[10:12], "little") if len(head) >= 12 else 0


def _printable(codec_id: str) -> str:
    """A track's CodecID fit for a stored reason: printable, at most 32 characters.

    A damaged header can put any byte there, a NUL among them, which PostgreSQL's text refuses.
    """
    return "".join(ch if ch.isprintable() else "?" for ch in codec_id[:32])
