"""PCM at any rate and channel count in, 16 kHz mono s16le out, in process (PyAV's resampler).

In: interleaved s16le blocks of a WAV stream whose format is not 16 kHz mono (`WavFormat`), in
order, each a whole number of sample frames (`WavStreamParser` hands them out so). Out: 16 kHz mono
s16le. Channels are averaged first (so a channel duplicated into stereo keeps its level), then
FFmpeg's resampler converts the rate. Raises nothing.

This replaces the ffmpeg process WAV streams at other rates used to get: a block of 250 ms costs
well under a millisecond, so the decoder runs it inline.
"""

from __future__ import annotations

import av
import numpy as np

SAMPLE_RATE = 16_000


class PcmResampler:
    """Resample one stream to 16 kHz mono."""

    def __init__(self, rate: int, channels: int) -> None:
        """Set up for a stream of `rate` Hz and `channels` interleaved channels."""
        self._rate, self._channels = rate, channels
        self._resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)

    def feed(self, pcm: bytes) -> bytes:
        """Resample the next block (whole sample frames)."""
        if not pcm:
            return b""
        samples = np.frombuffer(pcm, dtype="<i2")
        if self._channels > 1:
            frames = samples[: len(samples) // self._channels * self._channels]
            samples = frames.reshape(-1, self._channels).mean(axis=1).astype("<i2")
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = self._rate
        return b"".join(
            bytes(out.planes[0])[: 2 * out.samples] for out in self._resampler.resample(frame)
        )
