"""Opus packets in, 16 kHz mono s16le out: FFmpeg's Opus decoder and resampler, in process (PyAV).

In: the stream's OpusHead (channel count, pre-skip) and its packets in order (from
`balto.audio.opus_demux`). Out: PCM, 16 kHz mono s16le; stereo is mixed down by the resampler.
Raises nothing for a damaged packet: it is skipped and counted (`bad_packets`), as ffmpeg skips
it; the packets after it decode.

Why PyAV's native ``opus`` decoder (docs/BENCHMARKS.md, Opus decoding): on the corpus clip, 48 kHz
mono, it decodes and resamples at 1.6 ms CPU per audio-second (stereo 2.0) against 1.9 (2.8) for
PyAV's ``libopus`` and 1.7 (1.8) for a libopus binding decoding straight to 16 kHz mono
(``opuslib``), which needs a system libopus: the PyAV wheel carries its FFmpeg libraries, so
nothing is installed beside it. A decoder is ~0.1 MB; per packet the cost is mostly Python calls.

Synchronous and not thread-safe: one decoder per stream, fed from one thread at a time. It runs in
the front-end worker processes (`balto.audio.workers`) or, without workers, in the server.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import av
import av.error

SAMPLE_RATE = 16_000


@dataclass(slots=True)
class DecodeCpu:
    """Process-wide totals of Opus decoding: audio seconds out, CPU seconds spent."""

    audio_s: float = 0.0
    cpu_s: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, audio_s: float, cpu_s: float) -> None:
        """Count one call (decoders may run in worker threads, hence the lock)."""
        with self.lock:
            self.audio_s += audio_s
            self.cpu_s += cpu_s


OPUS_CPU = DecodeCpu()
"""Totals since the process started; decoding done in a front-end worker is added to the server's
totals when its reply arrives (`balto.audio.workers.RemoteFrontEnd.feed_opus`)."""
_PRE_SKIP = slice(10, 12)  # OpusHead bytes holding the pre-skip (RFC 7845 §5.1)


class OpusDecoder:
    """Decode one stream's Opus packets to 16 kHz mono s16le."""

    def __init__(self, head: bytes | None, *, resume: bool = False) -> None:
        """Open a decoder for a stream.

        Args:
            head: The stream's OpusHead (None: FFmpeg's defaults, stereo, no pre-skip).
            resume: The stream is picked up mid-way (a restarted decoder): the pre-skip, which
                only applies to the stream's first samples, is not dropped again.
        """
        self._codec = av.CodecContext.create("opus", "r")
        if head:
            if resume and len(head) >= _PRE_SKIP.stop:
                head = head[: _PRE_SKIP.start] + b"\x00\x00" + head[_PRE_SKIP.stop :]
            self._codec.extradata = head
        self._resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
        self.bad_packets = 0
        """Packets the decoder refused (damaged), skipped."""
        self.cpu_s = 0.0
        """Thread CPU seconds spent decoding and resampling."""

    def decode(self, packets: list[bytes]) -> bytes:
        """Decode packets in stream order; return the PCM they give.

        The resampler keeps a few samples back until the next call.
        """
        t0 = time.thread_time()
        out: list[bytes] = []
        codec, resampler = self._codec, self._resampler
        for data in packets:
            try:
                frames = codec.decode(av.Packet(data))
            except av.error.FFmpegError:
                self.bad_packets += 1
                continue
            for frame in frames:
                for pcm in resampler.resample(frame):
                    out.append(bytes(pcm.planes[0])[: 2 * pcm.samples])
        pcm_out = b"".join(out)
        spent = time.thread_time() - t0
        self.cpu_s += spent
        OPUS_CPU.add(len(pcm_out) / 2 / SAMPLE_RATE, spent)
        return pcm_out
