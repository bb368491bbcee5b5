"""noisereduce's stationary spectral gate on one block, with the per-block work cut to the minimum.

In: the noise (to learn per-bin dB thresholds from: `StftGate.thresholds`), then blocks of float
samples with the thresholds to gate them against; noisereduce's smoothing kernel and
`prop_decrease` once. Out: the gated block, as long as the input (samples past the last hop: 0).
Pure; one instance per denoiser (it caches per profile and per block length).

Same arithmetic as `SpectralGateStationary.spectral_gating_stationary` — scipy's `stft` (periodic
Hann, ``boundary='zeros'``, ``padded=False``, ``scaling='spectrum'``), the mask, the 2-D
smoothing, `istft` (overlap-add normalised by the summed squared window) — rearranged so that the
outputs agree to float rounding (`tests/audio/test_denoise.py`), at about half the CPU (see
docs/BENCHMARKS.md, "Front-end CPU"):

- The mask compares powers, not decibels: ``20·log10(|X| / Σw + ε) > t`` is
  ``|X|² > (Σw·(10^(t/20) − ε))²``, and noisereduce's 80 dB floor under each bin's loudest frame
  (``max(dB, max dB − 80)``) passes a whole bin when its loudest frame is over ``t + 80`` dB. The
  thresholds are converted once per noise profile, so no logarithm is taken per block, and the
  ``/ Σw`` of the forward transform and the ``· Σw`` of the inverse cancel.
- The smoothing kernel is the outer product of two integer triangles (noisereduce builds it so),
  and a triangle of peak ``a`` is two running sums of width ``a``: on the 0/1 mask these are
  exact integer sums (each built by doubling, ~2·log2(a) array additions), scaled once, instead
  of a 17- and a 13-tap convolution (~40 against ~80 µs a block). A kernel of another shape falls
  back to the convolutions.
- Single precision (complex64 spectra): the int16 output needs ~16 bits, float32 carries 24.
  The transforms are scipy's: numpy 2.4's single-precision rfft slows down sharply past ~64
  frames in a call (251 frames of 512: 1.4 ms against scipy's 0.16).
- The overlap-add's normalisation depends only on the block's frame count: computed once per count.
- The thresholds are noisereduce's, computed without building a `SpectralGateStationary` (its
  constructor, run at every profile refresh, was a third of the denoiser's CPU).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import fft as sp_fft  # type: ignore[import-untyped]  # no types
from scipy.ndimage import convolve1d  # type: ignore[import-untyped]  # no types

_EPS = float(np.finfo(np.float64).eps)  # noisereduce's floor inside the logarithm
_FLOOR_DB = 80.0  # noisereduce's dynamic range under each bin's loudest frame

F32 = npt.NDArray[np.float32]


def _triangle_width(weights: npt.NDArray[np.float64]) -> int | None:
    """``a`` when `weights` is proportional to 1, 2, …, a, …, 2, 1 (else None)."""
    a = (len(weights) + 1) // 2
    if len(weights) % 2 == 0 or weights.max() <= 0:
        return None
    ramp = np.concatenate([np.arange(1, a + 1), np.arange(a - 1, 0, -1)]).astype(np.float64)
    return a if bool(np.allclose(weights / weights.max() * a, ramp, rtol=0, atol=1e-9)) else None


def _window_sums(x: F32, a: int, axis: int) -> F32:
    """Sums of `a` consecutive values along `axis` (``len − a + 1`` of them), by doubling.

    Sums of 2, 4, 8, … neighbours are built from each other and the ones `a`'s binary digits
    name are added: ~2·log2(a) array additions instead of `a`, and exact on small integers.
    """
    v = np.swapaxes(x, axis, -1)
    m = v.shape[-1] - a + 1
    out: F32 | None = None
    size, offset, sums = 1, 0, v
    while True:
        if a & size:
            part = sums[..., offset : offset + m]
            out = part if out is None else out + part
            offset += size
        if 2 * size > a:
            break
        sums = sums[..., :-size] + sums[..., size:]  # now sums of 2·size neighbours
        size *= 2
    assert out is not None
    return np.swapaxes(out, axis, -1)


def _triangle_sums(x: F32, a_rows: int, a_cols: int) -> F32:
    """`x` convolved ("same", zeros outside) with the outer product of two triangles.

    The triangles are 1, 2, …, a, …, 2, 1, with ``a_rows`` along axis 0 and ``a_cols`` along 1.
    Each is two running sums of width ``a`` over `x` padded with ``a − 1`` zeros a side: exact on
    a 0/1 mask (small integers), whatever the widths.
    """
    pr, pc = a_rows - 1, a_cols - 1
    padded = np.zeros((x.shape[0] + 2 * pr, x.shape[1] + 2 * pc), dtype=np.float32)
    padded[pr : pr + x.shape[0], pc : pc + x.shape[1]] = x
    rows = _window_sums(_window_sums(padded, a_rows, 0), a_rows, 0)
    # Along axis 1 as rows of the transpose: whole rows added are several times faster.
    cols = np.ascontiguousarray(rows.T)
    return _window_sums(_window_sums(cols, a_cols, 0), a_cols, 0).T


class StftGate:
    """The stationary gate for blocks of one stream (see the module docstring)."""

    def __init__(
        self, n_fft: int, kernel: npt.NDArray[np.float64] | None, prop_decrease: float
    ) -> None:
        """FFTs of `n_fft` samples, hop `n_fft` / 4 (noisereduce's and the denoiser's).

        Args:
            n_fft: FFT size, a multiple of 4.
            kernel: noisereduce's mask smoothing kernel (freq x time), None for no smoothing.
            prop_decrease: How much of the gated energy is removed (noisereduce's).

        Raises:
            ValueError: `n_fft` is not a multiple of 4.
        """
        if n_fft % 4:
            raise ValueError("n_fft must be a multiple of 4 (hop = n_fft / 4)")
        self.n_fft = n_fft
        self.hop = n_fft // 4
        k = np.arange(n_fft)
        win = 0.5 - 0.5 * np.cos(2.0 * np.pi * k / n_fft)  # scipy's periodic 'hann'
        self._win_sum = float(win.sum())
        self._win: F32 = win.astype(np.float32)
        self._win_sq = (win**2).reshape(4, self.hop)
        self._inverse_norm: dict[int, F32] = {}  # frames per block → 1 / the OLA's window sum
        self._for: npt.NDArray[np.float64] | None = None  # the thresholds the two below are for
        self._power_min: F32 = np.zeros(0, dtype=np.float32)  # per bin: |X|² over it passes
        self._row_min: F32 = np.zeros(0, dtype=np.float32)  # per bin: a max |X|² over it: all
        self._prop = float(prop_decrease)
        self._kernel = kernel
        self._triangles: tuple[int, int, float] | None = None  # (freq a, time a, scale)
        self._parts: tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]] = (
            np.ones(1),
            np.ones(1),
        )
        if kernel is not None:
            rows, cols = kernel.sum(axis=1), kernel.sum(axis=0) / kernel.sum()
            self._parts = (rows, cols)
            a_f, a_t = _triangle_width(rows), _triangle_width(cols)
            if (
                a_f is not None
                and a_t is not None
                and bool(np.allclose(np.outer(rows, cols), kernel, rtol=0, atol=1e-12))
            ):
                self._triangles = (a_f, a_t, float(rows.max() / a_f * cols.max() / a_t))

    def thresholds(self, noise: F32, n_std: float) -> npt.NDArray[np.float64]:
        """Per bin, the dB level a frame must pass: `SpectralGateStationary.noise_thresh`.

        The mean plus `n_std` standard deviations of the noise's STFT in dB (scipy's `stft` of
        the noise as noisereduce takes it: zero boundaries, spectrum scaling, in single precision
        as scipy computes a float32 signal's; each bin floored 80 dB under its loudest frame),
        computed without building the gate.
        """
        n, hop, half = self.n_fft, self.hop, self.n_fft // 2
        padded = np.zeros(len(noise) + n, dtype=np.float32)
        padded[half : half + len(noise)] = noise
        n_seg = (len(padded) - n) // hop + 1
        frames = np.lib.stride_tricks.sliding_window_view(padded, n)[::hop][:n_seg]
        spec = sp_fft.rfft(frames * self._win, axis=1).T * np.float32(1.0 / self._win_sum)
        db = 20 * np.log10(np.abs(spec) + _EPS)  # ε in double precision, as noisereduce's
        db = np.maximum(db, db.max(axis=-1, keepdims=True) - _FLOOR_DB)
        thresh: npt.NDArray[np.float64] = db.mean(axis=1) + db.std(axis=1) * n_std
        return thresh

    def _learn(self, thresh: npt.NDArray[np.float64]) -> None:
        """Convert a new profile's thresholds to powers (once per profile)."""
        with np.errstate(over="ignore"):
            amp = 10.0 ** (thresh / 20.0) - _EPS
            row = 10.0 ** ((thresh + _FLOOR_DB) / 20.0) - _EPS
        # A threshold at or below ε's level passes everything: -1 is under any power.
        self._power_min = np.where(amp > 0, (amp * self._win_sum) ** 2, -1.0).astype(np.float32)
        self._row_min = np.where(row > 0, (row * self._win_sum) ** 2, -1.0).astype(np.float32)
        self._for = thresh

    def _smooth(self, passed: F32) -> F32:
        """The mask ``passed·prop + (1 − prop)`` smoothed by the kernel; (time, freq) layout."""
        prop = self._prop
        if self._kernel is None:
            return passed * np.float32(prop) + np.float32(1.0 - prop)
        if self._triangles is None:  # not noisereduce's shape: the plain 2-D convolution
            rows, cols = self._parts
            mask = passed.astype(np.float64) * prop + (1.0 - prop)
            out = convolve1d(mask, rows, axis=1, mode="constant")
            return np.asarray(convolve1d(out, cols, axis=0, mode="constant"), dtype=np.float32)
        a_f, a_t, scale = self._triangles
        sums = _triangle_sums(passed, a_t, a_f)
        if prop == 1.0:
            return sums * np.float32(scale)
        # Linear: smooth(b·p + (1 − p)) = p·smooth(b) + (1 − p)·smooth(1) (zeros outside).
        ones = _triangle_sums(np.ones_like(passed), a_t, a_f)
        return (sums * np.float32(prop) + ones * np.float32(1.0 - prop)) * np.float32(scale)

    def _norm(self, n_seg: int) -> F32:
        """1 / the overlap-added squared window for a block of `n_seg` frames (trimmed)."""
        inverse = self._inverse_norm.get(n_seg)
        if inverse is None:
            norm = np.zeros((n_seg + 3, self.hop))
            for j in range(4):
                norm[j : j + n_seg] += self._win_sq[j]
            half = self.n_fft // 2
            flat = norm.reshape(-1)[half:-half]
            inverse = (1.0 / np.where(flat > 1e-10, flat, 1.0)).astype(np.float32)
            self._inverse_norm[n_seg] = inverse
        return inverse

    def gate(self, x: F32, thresh: npt.NDArray[np.float64]) -> F32:
        """`x` gated against a profile's `thresholds`; as long as `x` (past the last hop: 0)."""
        if thresh is not self._for:
            self._learn(thresh)
        n, hop, half = self.n_fft, self.hop, self.n_fft // 2
        padded = np.zeros(len(x) + n, dtype=np.float32)
        padded[half : half + len(x)] = x
        n_seg = (len(padded) - n) // hop + 1
        frames = np.lib.stride_tricks.as_strided(
            padded, shape=(n_seg, n), strides=(hop * padded.itemsize, padded.itemsize)
        )
        spec = sp_fft.rfft(frames * self._win, axis=1)  # (time, freq), complex64
        power = spec.real**2 + spec.imag**2
        passed = (power > self._power_min) | (power.max(axis=0) > self._row_min)
        mask = self._smooth(passed.astype(np.float32))
        frames_out = sp_fft.irfft(spec * mask, n=n, axis=1) * self._win
        # Overlap-add as scipy's istft: hop is a quarter frame, so each hop-long block of the
        # output sums the matching quarters of four consecutive frames.
        quarters = frames_out.reshape(n_seg, 4, hop)
        out = np.zeros((n_seg + 3, hop), dtype=np.float32)
        for j in range(4):
            out[j : j + n_seg] += quarters[:, j]
        flat = out.reshape(-1)[half:-half] * self._norm(n_seg)
        y = np.zeros(len(x), dtype=np.float32)
        y[: len(flat)] = flat[: len(x)]
        return y
