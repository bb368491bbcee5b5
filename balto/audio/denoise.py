"""Stationary noise reduction with a per-session noise profile: pure, synchronous, thread-safe use.

In: mono s16le PCM blocks (16 kHz by default) in arrival order.
Out: the same-length noise-reduced PCM, used to *decide* (webrtcvad, the tone test); the STT gets
the original audio, because at 5 dB reduction takes 26-58% of speech frames down by > 10 dB
(DESIGN §4c).
Raises: `ValueError` for a block that is not whole samples.

Method: noisereduce's stationary spectral gate (`SpectralGateStationary`), built once per noise
profile and applied block by block with no padding (its default pads every call by 30,000 samples
a side, ~19 ms CPU per audio second at 0.5 s blocks; a reused profile costs ~2.5 ms/s: DESIGN
§4c). The profile is learned from this session's own quiet audio: of the last `history_s` seconds,
the `quiet_share` quietest 30 ms frames, which are the room between words and turns, and rebuilt
every `refresh_s` seconds as the shop changes. Until the first profile (after `first_profile_s`),
blocks pass through unchanged.

Each block goes through `_Stft.gate`, noisereduce's `spectral_gating_stationary` with the window
and its sums computed once instead of per call by scipy (same arithmetic, outputs equal to float
rounding: `tests/audio/test_denoise.py`), and the mask smoothed by two 1-D convolutions instead of
one 2-D FFT convolution: ~0.9 → ~0.5 ms CPU per 250 ms block (3.5 → 2.1 ms per audio-second).

CPU: ~0.5 ms per device chunk, nearly all of it holding the GIL (arrays this small leave numpy
little to do without it), so a thread buys no parallelism; the VAD actor runs it on the Trio
thread for a chunk, in a thread for a backlog, or in a worker process (`balto.audio.workers`).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from noisereduce.spectralgate.stationary import (  # type: ignore[import-untyped]  # no types
    SpectralGateStationary,
)
from scipy.ndimage import convolve1d  # type: ignore[import-untyped]  # no types
from scipy.signal import fftconvolve  # type: ignore[import-untyped]  # no types

_FRAME_S = 0.03


@dataclass(frozen=True, slots=True)
class DenoiseParams:
    """Every setting of the denoiser, each with its reason.

    Attributes:
        first_profile_s: Audio heard before the first profile: 1 s holds enough quiet frames
            (between the first words, or before them) for a stable mean and spread per bin.
        history_s: Audio the profile is chosen from: 5 s, as the segmenter's noise floor, follows
            a changing room but outlasts a single loud turn.
        quiet_share: The quietest share of frames taken as noise: 0.4 stays inside the pauses even
            when 60% of the history is speech (a busy counter).
        refresh_s: How often the profile is rebuilt (the room changes over seconds, not frames).
        n_std: The gate opens this many standard deviations over the noise mean per bin
            (noisereduce's default 1.5).
        prop_decrease: How much of the gated energy is removed; 1.0 for deciding. A milder
            reduction for the STT (≈ 0.7) would be a second instance.
        n_fft: FFT size: 512 at 16 kHz is 32 ms, one VAD frame, fine enough for hum harmonics.
    """

    first_profile_s: float = 1.0
    history_s: float = 5.0
    quiet_share: float = 0.4
    refresh_s: float = 5.0
    n_std: float = 1.5
    prop_decrease: float = 1.0
    n_fft: int = 512


class Denoiser:
    """Learn a session's noise and remove it from each block (see the module docstring)."""

    def __init__(self, sample_rate: int = 16_000, params: DenoiseParams | None = None) -> None:
        """Start with no profile (blocks pass through until one is learned)."""
        self._p = params or DenoiseParams()
        self._rate = sample_rate
        self._frame = round(sample_rate * _FRAME_S)
        n = max(1, round(self._p.history_s / _FRAME_S))
        self._frames: deque[npt.NDArray[np.float32]] = deque(maxlen=n)
        self._carry = np.zeros(0, dtype=np.float32)
        self._seen = 0  # samples fed
        self._next_profile = round(self._p.first_profile_s * sample_rate)
        self._gate: SpectralGateStationary | None = None
        self._stft = _Stft(self._p.n_fft)
        self.profiles = 0
        """How many noise profiles have been built."""

    @property
    def has_profile(self) -> bool:
        """True once a noise profile has been learned."""
        return self._gate is not None

    def process(self, pcm: bytes) -> bytes:
        """Noise-reduce one block; returns s16le of the same length.

        Raises:
            ValueError: `pcm` has an odd number of bytes.
        """
        if len(pcm) % 2:
            raise ValueError("pcm must hold whole s16le samples")
        x = np.frombuffer(pcm, dtype="<i2").astype(np.float32)
        self._remember(x)
        self._seen += len(x)
        if self._seen >= self._next_profile and self._frames:
            self._build_profile()
            self._next_profile = self._seen + round(self._p.refresh_s * self._rate)
        if self._gate is None or len(x) < self._p.n_fft:
            return pcm
        y = self._stft.gate(x, self._gate)
        return bytes(np.clip(np.round(y), -32768, 32767).astype("<i2").tobytes())

    def _remember(self, x: npt.NDArray[np.float32]) -> None:
        data = np.concatenate([self._carry, x]) if len(self._carry) else x
        n = len(data) // self._frame
        for k in range(n):
            self._frames.append(data[k * self._frame : (k + 1) * self._frame])
        self._carry = data[n * self._frame :].copy()

    def _build_profile(self) -> None:
        frames = np.stack(list(self._frames))
        energy = np.einsum("ij,ij->i", frames, frames)
        keep = max(1, int(len(frames) * self._p.quiet_share))
        quiet = np.sort(np.argsort(energy)[:keep])  # in time order, so the STFT sees real audio
        noise = frames[quiet].reshape(-1)
        p = self._p
        self._gate = SpectralGateStationary(
            y=noise[None, :],
            sr=self._rate,
            y_noise=noise,
            n_std_thresh_stationary=p.n_std,
            chunk_size=len(noise),
            clip_noise_stationary=False,
            padding=0,
            n_fft=p.n_fft,
            win_length=p.n_fft,
            hop_length=p.n_fft // 4,
            time_constant_s=2.0,
            freq_mask_smooth_hz=500,
            time_mask_smooth_ms=50,
            tmp_folder=None,
            prop_decrease=p.prop_decrease,
            use_tqdm=False,
            n_jobs=1,
        )
        self.profiles += 1


class _Stft:
    """noisereduce's stationary gate on one block, with the window work done once.

    Mirrors `SpectralGateStationary.spectral_gating_stationary` with scipy's `stft` (periodic
    Hann, ``boundary='zeros'``, ``padded=False``, ``scaling='spectrum'``) and `istft` (overlap-add
    normalised by the summed squared window, boundary trimmed), hop = n_fft / 4.
    """

    def __init__(self, n_fft: int) -> None:
        self.n_fft = n_fft
        if n_fft % 4:
            raise ValueError("n_fft must be a multiple of 4 (hop = n_fft / 4)")
        self.hop = n_fft // 4
        k = np.arange(n_fft)
        self.win = 0.5 - 0.5 * np.cos(2.0 * np.pi * k / n_fft)  # scipy's periodic 'hann'
        self.win_sum = float(self.win.sum())
        self._kernel: npt.NDArray[np.float64] | None = None  # the smoothing kernel split below
        self._parts: tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]] | None = None

    def _smooth(
        self, mask: npt.NDArray[np.float64], kernel: npt.NDArray[np.float64]
    ) -> npt.NDArray[np.float64]:
        """``fftconvolve(mask, kernel, mode="same")``, as two 1-D passes when the kernel allows.

        noisereduce's kernel is the outer product of two triangles (frequency x time), so two
        short 1-D convolutions give the same result at a fraction of the 2-D FFT's cost (half of
        this gate's CPU was there).
        """
        if self._kernel is not kernel:
            rows, cols = kernel.sum(axis=1), kernel.sum(axis=0) / kernel.sum()
            separable = len(rows) % 2 == 1 and len(cols) % 2 == 1
            separable = separable and bool(np.allclose(np.outer(rows, cols), kernel, atol=1e-12))
            self._kernel, self._parts = kernel, (rows, cols) if separable else None
        if self._parts is None:
            smoothed: npt.NDArray[np.float64] = fftconvolve(mask, kernel, mode="same")
            return smoothed
        rows, cols = self._parts
        out = convolve1d(mask, rows, axis=0, mode="constant")
        smoothed = convolve1d(out, cols, axis=1, mode="constant")
        return smoothed

    def gate(
        self, x: npt.NDArray[np.float32], gate: SpectralGateStationary
    ) -> npt.NDArray[np.float32]:
        """The block gated against the profile; as long as `x` (samples past the last hop: 0)."""
        n, hop, half = self.n_fft, self.hop, self.n_fft // 2
        padded = np.concatenate([np.zeros(half), x.astype(np.float64), np.zeros(half)])
        n_seg = (len(padded) - n) // hop + 1
        frames = np.lib.stride_tricks.sliding_window_view(padded, n)[::hop][:n_seg]
        spec = np.fft.rfft(frames * self.win, axis=1).T / self.win_sum  # (freq, time)
        db = 20 * np.log10(np.abs(spec) + np.finfo(np.float64).eps)
        db = np.maximum(db, db.max(axis=-1, keepdims=True) - 80.0)
        prop = gate._prop_decrease
        mask = (db > gate.noise_thresh[:, None]) * prop + (1.0 - prop)
        if gate.smooth_mask:
            mask = self._smooth(mask, gate._smoothing_filter)
        frames_out = np.fft.irfft((spec * mask).T, n=n, axis=1)[:, :n] * self.win_sum * self.win
        # Overlap-add as scipy's istft: hop is a quarter frame, so each hop-long block of the
        # output sums the matching quarters of four consecutive frames.
        quarters = frames_out.reshape(n_seg, 4, hop)
        win_sq = (self.win**2).reshape(4, hop)
        out = np.zeros((n_seg + 3, hop))
        norm = np.zeros((n_seg + 3, hop))
        for j in range(4):
            out[j : j + n_seg] += quarters[:, j]
            norm[j : j + n_seg] += win_sq[j]
        flat, flat_norm = out.reshape(-1)[half:-half], norm.reshape(-1)[half:-half]
        flat /= np.where(flat_norm > 1e-10, flat_norm, 1.0)
        y = np.zeros(len(x), dtype=np.float32)
        y[: len(flat)] = flat[: len(x)]
        return y
