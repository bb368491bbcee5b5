"""Opus packets in, 16 kHz mono s16le out, in process: libopus at 16 kHz, else FFmpeg's via PyAV.

In: the stream's OpusHead (channel count, pre-skip, gain, channel mapping) and its packets in order
(from `balto.audio.opus_demux`). Out: PCM, 16 kHz mono s16le; stereo is mixed down. Raises nothing
for a damaged packet: it is skipped and counted (`bad_packets`), as ffmpeg skips it; the packets
after it decode.

Which decoder (docs/BENCHMARKS.md, "Opus decoding in process" and "Front-end CPU"): libopus asked
for 16 kHz mono (`balto.audio.libopus`, the library PyAV's wheel carries) decodes the capacity
stream at ~1.0 ms CPU per audio-second, against ~1.9 for FFmpeg's native ``opus`` decoder at
48 kHz and PyAV's resampler, which stays for what libopus's plain decoder does not take (more
than two channels: channel mapping families other than 0) and for a machine without the library.
Both decode the same packets to within the codec's own precision (~-36 dB of difference).

Synchronous and not thread-safe: one decoder per stream, fed from one thread at a time. It runs in
the front-end worker processes (`balto.audio.workers`) or, without workers, in the server.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import av
import av.error

from balto.audio.libopus import LibopusDecoder, find_libopus

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
_GAIN = slice(16, 18)  # the output gain, dB in Q7.8, little-endian signed
_MAPPING = 18  # the channel mapping family: 0 is mono or stereo, one stream


class OpusDecoder:
    """Decode one stream's Opus packets to 16 kHz mono s16le."""

    def __init__(self, head: bytes | None, *, resume: bool = False, libopus: bool = True) -> None:
        """Open a decoder for a stream.

        Args:
            head: The stream's OpusHead (None: FFmpeg's defaults, stereo, no pre-skip).
            resume: The stream is picked up mid-way (a restarted decoder): the pre-skip, which
                only applies to the stream's first samples, is not dropped again.
            libopus: Use libopus when it can (False: FFmpeg's decoder, for comparisons).
        """
        if head and resume and len(head) >= _PRE_SKIP.stop:
            head = head[: _PRE_SKIP.start] + b"\x00\x00" + head[_PRE_SKIP.stop :]
        self._libopus: LibopusDecoder | None = None
        lib = find_libopus() if libopus else None
        if lib is not None and (not head or len(head) <= _MAPPING or head[_MAPPING] == 0):
            pre_skip = int.from_bytes(head[_PRE_SKIP], "little") if head else 0
            gain = int.from_bytes(head[_GAIN], "little", signed=True) if head else 0
            self._libopus = LibopusDecoder(lib, pre_skip, gain)
        else:
            self._codec = av.CodecContext.create("opus", "r")
            if head:
                self._codec.extradata = head
            self._resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
        self._bad_packets = 0
        self.cpu_s = 0.0
        """Thread CPU seconds spent decoding and resampling."""

    @property
    def bad_packets(self) -> int:
        """Packets the decoder refused (damaged), skipped."""
        if self._libopus is not None:
            return self._libopus.bad_packets
        return self._bad_packets

    def decode(self, packets: list[bytes]) -> bytes:
        """Decode packets in stream order; return the PCM they give.

        PyAV's resampler keeps a few samples back until the next call (libopus holds none).
        """
        t0 = time.thread_time()
        if self._libopus is not None:
            return self._count(self._libopus.decode(packets), t0)
        out: list[bytes] = []
        codec, resampler = self._codec, self._resampler
        for data in packets:
            try:
                frames = codec.decode(av.Packet(data))
            except av.error.FFmpegError:
                self._bad_packets += 1
                continue
            for frame in frames:
                for pcm in resampler.resample(frame):
                    out.append(bytes(pcm.planes[0])[: 2 * pcm.samples])
        return self._count(b"".join(out), t0)

    def _count(self, pcm: bytes, t0: float) -> bytes:
        spent = time.thread_time() - t0
        self.cpu_s += spent
        OPUS_CPU.add(len(pcm) / 2 / SAMPLE_RATE, spent)
        return pcm
