"""A minimal Ogg page reader for live streams: packets out, with the page's granule position.

In: Ogg bytes fed piece by piece (`OggReader.feed`), cut anywhere.
Out: `OggPacket`s of the first logical stream (the one whose first page comes first), in order,
each with the granule position of the page it ends on (-1 unless it is that page's last packet).
Raises: nothing for damaged input. Bytes that are not a page are skipped up to the next "OggS"
capture pattern (counted in `OggReader.resyncs`); a packet whose pages were lost (a gap in the
page sequence numbers) is dropped, never glued to another's bytes (`OggReader.lost_pages`).
Page CRCs are not checked: a damaged page shows as a damaged Opus packet, which the decoder skips.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

_CAPTURE = b"OggS"
_HEADER = struct.Struct("<4sBBqIIIB")  # capture, version, flags, granule, serial, seq, crc, nsegs
_CONTINUED = 0x01
# A page holds at most 255 segments of 255 bytes; a partial packet longer than this is damage.
_MAX_PACKET = 1 << 20


@dataclass(frozen=True, slots=True)
class OggPacket:
    """One packet of the logical stream.

    Attributes:
        data: The packet's bytes.
        granule: The granule position of the page it ends, when it is that page's last packet
            to end there; -1 otherwise.
        page_start: True for the first packet that ends on its page (packet times are counted
            back from the granule over the packets of one page).
    """

    data: bytes
    granule: int = -1
    page_start: bool = False


class OggReader:
    """Split a live Ogg stream into the packets of its first logical stream."""

    def __init__(self) -> None:
        """Start before the first page."""
        self._buf = bytearray()
        self._serial: int | None = None
        self._seq: int | None = None
        self._partial = bytearray()  # a packet continued on the next page
        self.resyncs = 0
        """Stretches of bytes that were not a page, skipped."""
        self.lost_pages = 0
        """Pages missing from the sequence (their packets, and any they split, are gone)."""

    def feed(self, data: bytes) -> list[OggPacket]:
        """Take the next bytes; return the packets completed by them."""
        self._buf += data
        out: list[OggPacket] = []
        while self._page(out):
            pass
        return out

    def _page(self, out: list[OggPacket]) -> bool:
        """Parse one page from the buffer; False when more bytes are needed."""
        buf = self._buf
        if len(buf) < _HEADER.size:
            return False
        if buf[:4] != _CAPTURE or buf[4] != 0:
            at = buf.find(_CAPTURE, 1)
            self.resyncs += 1
            del buf[: at if at > 0 else max(0, len(buf) - 3)]
            return at > 0
        _, _, flags, granule, serial, seq, _, nsegs = _HEADER.unpack_from(buf)
        head = _HEADER.size + nsegs
        if len(buf) < head:
            return False
        lacing = buf[_HEADER.size : head]
        end = head + sum(lacing)
        if len(buf) < end:
            return False
        body = bytes(buf[head:end])
        del buf[:end]
        if self._serial is None:
            self._serial = serial
        if serial != self._serial:
            return True  # another logical stream (video, a second track): not ours
        if self._seq is not None and seq != (self._seq + 1) & 0xFFFFFFFF:
            self.lost_pages += 1
            self._partial.clear()
        if not flags & _CONTINUED:
            self._partial.clear()
        # Continued, with nothing to continue: the packet's beginning was lost (or came before
        # the stream was picked up), so its rest is dropped.
        orphan = bool(flags & _CONTINUED) and not self._partial
        self._seq = seq
        self._packets(body, lacing, out, granule, orphan=orphan)
        return True

    def _packets(
        self, body: bytes, lacing: bytearray, out: list[OggPacket], granule: int, *, orphan: bool
    ) -> None:
        ended: list[bytes] = []
        pos = 0
        packet = self._partial
        dropping = orphan
        for size in lacing:
            if not dropping:
                packet += body[pos : pos + size]
            pos += size
            if size < 255:
                if not dropping:
                    ended.append(bytes(packet))
                packet.clear()
                dropping = False
        if len(packet) > _MAX_PACKET:
            packet.clear()
        self._partial = packet
        for i, data in enumerate(ended):
            last = i == len(ended) - 1
            out.append(OggPacket(data, granule if last else -1, i == 0))
