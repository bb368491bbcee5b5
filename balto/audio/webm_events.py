"""What `balto.audio.webm.WebmScanner` reports: frozen values, no logic.

In: nothing (type definitions only). Out: `WebmBlock`, `WebmCluster`, `WebmTrack`, their union
`Event` and `Frame`, re-exported by `balto.audio.webm`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class WebmBlock:
    """A SimpleBlock or BlockGroup, reported once all its bytes have been fed.

    Attributes:
        end: Stream offset just past the element.
        time: Absolute timestamp of the block in seconds (cluster timecode + block timecode).
        start: Stream offset of the element's id (-1 when unknown).
        cluster_timecode: The raw Timecode of the Cluster holding the block (in TimecodeScale
            units); a decoder restarted at this block writes it into a Cluster header of its own.
        track: The block's track number (0 when unknown).
        payload: Its frame data (after the block header), when the scanner keeps payloads and
            the block is not laced; None otherwise.
    """

    end: int
    time: float
    start: int = -1
    cluster_timecode: int = 0
    track: int = 0
    payload: bytes | None = None


@dataclass(frozen=True, slots=True)
class WebmTrack:
    """A TrackEntry of the header, reported when it ends.

    Attributes:
        number: Its TrackNumber (0 when absent).
        codec_id: Its CodecID, e.g. ``A_OPUS`` ("" when absent).
        codec_private: Its CodecPrivate (for Opus, the OpusHead); b"" when absent.
    """

    number: int
    codec_id: str
    codec_private: bytes


@dataclass(frozen=True, slots=True)
class WebmCluster:
    """The start of a Cluster element (a point where a decoder can pick the stream up again).

    Attributes:
        offset: Stream offset of the Cluster's id.
    """

    offset: int


Event = WebmBlock | WebmCluster | WebmTrack

Frame = tuple[float, bytes]
"""A block of the track a scanner follows (`WebmScanner.follow`): (its time in seconds, its frame
data). A bare tuple: one per packet on the server's one thread, the cheapest record Python has."""
