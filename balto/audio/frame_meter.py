"""Per-frame measurements of a run of whole frames, vectorised over the run. Pure, no state.

In: mono s16le PCM holding `n` whole frames of `samples` samples each.
Out: each frame's energy in dBFS (what the energy gate and the impulse test read), whether
each frame is a pure tone (a barcode beep: what webrtcvad takes for speech but is not), and its
energy in the speech band (what the trimming reads, `balto.audio.trim`).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

_FULL_SCALE_SQ = 32768.0**2
SILENCE_DBFS = -100.0
"""Energy given to digital zero, which would be -inf; any value far below real noise works."""
TONE_EDGE_FRAMES = 2
"""A tone starting or ending mid-frame spreads its edge over at most 2 frames, which hold too
little of it for the tone test (the Hann window plays the frame's ends down) yet are loud (the
energy is not windowed)."""


class FrameMeter:
    """Energy and tone test for frames of a fixed length (one per segmenter: it caches a window)."""

    def __init__(
        self, samples: int, tonal_ratio: float | None, band_bins: tuple[int, int] = (0, 0)
    ) -> None:
        """Measure frames of `samples` samples; `tonal_ratio` None turns the tone test off.

        `band_bins`: the speech band as the FFT bins [lo, hi) of one frame (empty: not measured).
        See `SegmenterParams.tonal_ratio` and `band_margin_db` for the reasons.
        """
        self._samples = samples
        self._tonal_ratio = tonal_ratio
        self._band = band_bins
        self._window = np.hanning(samples).astype(np.float32)

    def _frames(self, data: bytes, n: int) -> npt.NDArray[np.float32]:
        return np.frombuffer(data, dtype="<i2").reshape(n, self._samples).astype(np.float32)

    def energies_dbfs(self, data: bytes, n: int) -> npt.NDArray[np.float32]:
        """Mean power of each of the `n` frames in `data`, in dBFS, floored at `SILENCE_DBFS`."""
        x = self._frames(data, n)
        power = np.einsum("ij,ij->i", x, x) / (self._samples * _FULL_SCALE_SQ)
        db: npt.NDArray[np.float32] = np.maximum(10.0 * np.log10(power + 1e-12), SILENCE_DBFS)
        return db

    def tonal(self, data: bytes, n: int) -> list[bool]:
        """Whether each of the `n` frames in `data` is a pure tone (all False with the test off)."""
        if self._tonal_ratio is None:
            return [False] * n
        spec = np.abs(np.fft.rfft(self._frames(data, n) * self._window, axis=1)) ** 2
        total = spec.sum(axis=1) + 1e-9
        peak = spec.argmax(axis=1)
        # ±2 bins is the main lobe of the Hann window: all of a pure tone's energy.
        idx = np.clip(peak[:, None] + np.arange(-2, 3), 0, spec.shape[1] - 1)
        share = np.take_along_axis(spec, idx, axis=1).sum(axis=1) / total
        return [bool(v) for v in share > self._tonal_ratio]

    def band_dbfs(self, data: bytes, n: int) -> list[float]:
        """Power of each of the `n` frames in `data` within the speech band, in dBFS.

        Hann windowed, floored at `SILENCE_DBFS`; all `SILENCE_DBFS` when no band was given.
        """
        lo, hi = self._band
        if hi <= lo:
            return [SILENCE_DBFS] * n
        spec = np.abs(np.fft.rfft(self._frames(data, n) * self._window, axis=1)[:, lo:hi]) ** 2
        # rfft's one-sided power: 2/N^2 per bin, and the Hann window's mean square is 3/8.
        power = spec.sum(axis=1) * 2.0 / (self._samples**2 * 0.375 * _FULL_SCALE_SQ)
        db = np.maximum(10.0 * np.log10(power + 1e-12), SILENCE_DBFS)
        return [float(v) for v in db]
