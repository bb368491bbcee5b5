"""Per-frame measurements of a run of whole frames, vectorised over the run. Pure, no state.

In: mono s16le PCM holding `n` whole frames of `samples` samples each, and optionally a second,
same-length signal to run the tone test on (the segmenter's decision signal).
Out: each frame's energy in dBFS (what the energy gate and the impulse test read), whether
each frame is a pure tone (a barcode beep: what webrtcvad takes for speech but is not), and its
energy in the speech band (what the trimming reads, `balto.audio.trim`).

`FrameMeter.spectra` runs the tone test and the band in one `np.fft.rfft` call: the decision
signal's windowed frames and the original's are stacked (one spectrum when they are the same
signal), and the tone test runs only on the frames the caller names (those whose flag can matter,
`EnergyGate.tone_rows`). numpy transforms each row on its own, so every value is what one call per
test over all frames gives; the segmenter runs this for every 250 ms chunk of every session,
where numpy's per-call overhead is a good part of the cost.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

_FULL_SCALE_SQ = 32768.0**2
SILENCE_DBFS = -100.0
"""Energy given to digital zero, which would be -inf; any value far below real noise works."""
TONE_EDGE_FRAMES = 2
"""A tone starting or ending mid-frame spreads its edge over at most 2 frames, which hold too
little of it for the tone test (the Hann window plays the frame's ends down) yet are loud (the
energy is not windowed)."""


class Measures(NamedTuple):
    """What `FrameMeter.measure` found in each frame of a run, one list item per frame.

    Attributes:
        energies: Mean power in dBFS, floored at `SILENCE_DBFS`.
        tonal: Whether the frame is a pure tone (all False with the test off).
        band: Power in the speech band in dBFS (all `SILENCE_DBFS` when no band was given).
    """

    energies: list[float]
    tonal: list[bool]
    band: list[float]


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
        bins = samples // 2 + 1
        # ±2 bins is the main lobe of the Hann window: all of a pure tone's energy. Clipped at the
        # spectrum's ends (the edge bin then counts more than once), per peak bin.
        self._lobe = np.clip(np.arange(bins)[:, None] + np.arange(-2, 3), 0, bins - 1)
        self._bins = bins
        self._row_starts = np.zeros((0, 1), dtype=np.intp)  # grown on demand (`_rows`)

    def measure(self, data: bytes, n: int, decide: bytes | None = None) -> Measures:
        """Energy, tone test and speech-band energy of each of the `n` frames in `data`.

        Args:
            data: `n` whole frames: the energies and the band are measured on it.
            n: Number of frames.
            decide: Same length as `data`: the tone test runs on it (None: on `data`).

        Returns:
            The three measures, one list item per frame.
        """
        x = self.frames(data, n)
        return Measures(self.energies(x), *self.spectra(x, decide, range(n)))

    def frames(self, data: bytes, n: int) -> npt.NDArray[np.float32]:
        """The first `n` frames in `data` (s16le), one per row, as float32 (what the rest takes)."""
        pcm = np.frombuffer(data, dtype="<i2", count=n * self._samples)
        return pcm.reshape(n, self._samples).astype(np.float32)

    def energies(self, x: npt.NDArray[np.float32]) -> list[float]:
        """Mean power of each frame of `x`, in dBFS, floored at `SILENCE_DBFS`."""
        power = np.einsum("ij,ij->i", x, x) / (self._samples * _FULL_SCALE_SQ)
        db = np.maximum(10.0 * np.log10(power + 1e-12), SILENCE_DBFS)
        values: list[float] = db.tolist()
        return values

    def spectra(
        self, x: npt.NDArray[np.float32], decide: bytes | None, tone_rows: Sequence[int]
    ) -> tuple[list[bool], list[float]]:
        """The tone test of some frames and the speech band of all, from one FFT call.

        Args:
            x: The frames (`frames`): the band is measured on them.
            decide: The signal the tone test runs on, s16le starting with the same frames (None:
                `x`).
            tone_rows: The frames to run the tone test on, ascending indices into `x`.

        Returns:
            Per frame: whether it is a pure tone (False where not tested, and with the test off),
            and its power in the speech band in dBFS (`SILENCE_DBFS` when no band was given).
        """
        n = len(x)
        tonal = [False] * n
        tone = self._tonal_ratio is not None and len(tone_rows) > 0
        lo, hi = self._band
        band = hi > lo
        if not (tone or band):
            return tonal, [SILENCE_DBFS] * n
        m = len(tone_rows) if tone else 0
        if decide is not None and tone:
            # Rows [0, m) hold the tone test's frames, the band's follow.
            rows = np.frombuffer(decide, dtype="<i2", count=n * self._samples).reshape(n, -1)
            if m < n:
                rows = rows[list(tone_rows)]
            windowed = np.empty((m + n if band else m, self._samples), dtype=np.float32)
            np.multiply(rows, self._window, out=windowed[:m])
            if band:
                np.multiply(x, self._window, out=windowed[m:])
            spec = np.fft.rfft(windowed, axis=1)
            tone_spec, band_spec = spec[:m], spec[m:]
        else:
            spec = band_spec = np.fft.rfft(x * self._window, axis=1)
            tone_spec = spec if m == n else spec[list(tone_rows)]
        if tone:
            for k, flag in zip(tone_rows, self._tonal_of(tone_spec), strict=True):
                tonal[k] = flag
        return tonal, self._band_of(band_spec) if band else [SILENCE_DBFS] * n

    def _tonal_of(self, spectrum: npt.NDArray[np.complexfloating[Any, Any]]) -> list[bool]:
        """The tone test on windowed frames' spectra, one row per frame."""
        spec = np.abs(spectrum) ** 2
        total = spec.sum(axis=1) + 1e-9
        # The main lobe of each row's peak, as indices into the flattened rows.
        idx = self._lobe[spec.argmax(axis=1)] + self._rows(len(spec))
        share = spec.ravel()[idx].sum(axis=1) / total
        flags: list[bool] = (share > self._tonal_ratio).tolist()
        return flags

    def _band_of(self, spectrum: npt.NDArray[np.complexfloating[Any, Any]]) -> list[float]:
        """The speech-band power of windowed frames' spectra, one row per frame, in dBFS."""
        lo, hi = self._band
        spec = np.abs(spectrum[:, lo:hi]) ** 2
        # rfft's one-sided power: 2/N^2 per bin, and the Hann window's mean square is 3/8.
        power = spec.sum(axis=1) * 2.0 / (self._samples**2 * 0.375 * _FULL_SCALE_SQ)
        db = np.maximum(10.0 * np.log10(power + 1e-12), SILENCE_DBFS)
        values: list[float] = db.tolist()
        return values

    def _rows(self, n: int) -> npt.NDArray[np.intp]:
        """Offsets of the first `n` rows of a flattened spectrum, as a column."""
        if len(self._row_starts) < n:
            self._row_starts = np.arange(2 * n, dtype=np.intp)[:, None] * self._bins
        return self._row_starts[:n]
