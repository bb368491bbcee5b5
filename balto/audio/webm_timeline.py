"""Whole WebM buffers: where the header ends, where each block is, a file cut as a recorder would.

In: WebM bytes from the start of a stream (a truncated tail is fine). Out: a `WebmTimeline`, the
Cluster offsets, or the file cut into timed chunks (`chunk_by_time`: the device simulator and the
benches). Built on `balto.audio.webm.WebmScanner`; raises nothing for damaged input.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from balto.audio.webm import WebmBlock, WebmCluster, WebmScanner


@dataclass(frozen=True, slots=True)
class WebmTimeline:
    """Where things are in a whole WebM buffer.

    Attributes:
        header_end: Offset of the first Cluster: ``data[:header_end]`` is the stream header
            (EBML, Segment header, Info, Tracks, …). ``len(data)`` when there is no Cluster yet.
        blocks: For each SimpleBlock/BlockGroup, (offset just past it, its time in seconds).
        clusters: Offsets where Cluster elements start.
        resyncs: How many damaged stretches were skipped.
    """

    header_end: int
    blocks: list[tuple[int, float]]
    clusters: list[int]
    resyncs: int


def block_timeline(data: bytes) -> WebmTimeline:
    """Scan a whole WebM buffer (known or unknown element sizes).

    Args:
        data: WebM bytes from the start of the stream; a truncated tail is fine.

    Returns:
        The header length, every complete block with its end offset and time, and the clusters.
    """
    scanner = WebmScanner()
    blocks: list[tuple[int, float]] = []
    clusters: list[int] = []
    for event in scanner.feed(data):
        match event:
            case WebmBlock(end=end, time=time):
                blocks.append((end, time))
            case WebmCluster(offset=offset):
                clusters.append(offset)
    header_end = len(data) if scanner.header_end is None else scanner.header_end
    return WebmTimeline(header_end, blocks, clusters, scanner.resyncs)


def cluster_offsets(data: bytes) -> list[int]:
    """Offsets where the Cluster elements of a whole WebM buffer start."""
    return block_timeline(data).clusters


def chunk_by_time(data: bytes, chunk_s: float = 0.25) -> list[tuple[float, bytes]]:
    """Cut a WebM file into the chunks a live recorder would send every `chunk_s` seconds.

    Chunks end just after a block, so each holds whole blocks; the first holds the header too,
    the last anything after the final block (Cues, Tags). Joined, the chunks are `data`.

    Args:
        data: A whole WebM file.
        chunk_s: Seconds of audio per chunk (a MediaRecorder ``timeslice``).

    Returns:
        (audio time at which the chunk's last block ends, chunk bytes) in order; the time is when a
        real recorder would have sent the chunk. The block duration is taken as the most common
        gap between block times (20 ms for browser Opus).
    """
    blocks = block_timeline(data).blocks
    if not blocks:
        return [(0.0, data)] if data else []
    gaps = sorted(b[1] - a[1] for a, b in itertools.pairwise(blocks) if b[1] > a[1])
    block_s = gaps[len(gaps) // 2] if gaps else chunk_s
    chunks: list[tuple[float, bytes]] = []
    start = 0
    deadline = chunk_s
    for i, (end, time) in enumerate(blocks):
        ends_at = time + block_s
        last = i == len(blocks) - 1
        following = blocks[i + 1][1] + block_s if not last else None
        # Cut here if the next block would end past the deadline (half a block of slack absorbs
        # rounding in millisecond timecodes).
        if last or (following is not None and following > deadline + block_s / 2):
            stop = len(data) if last else end
            chunks.append((round(ends_at, 6), data[start:stop]))
            start = stop
            while deadline + block_s / 2 < (following or 0.0):
                deadline += chunk_s
    return chunks
