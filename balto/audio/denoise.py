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

Each block goes through `balto.audio.stft_gate.StftGate`, noisereduce's
`spectral_gating_stationary` rearranged (outputs equal to float rounding:
`tests/audio/test_denoise.py`): ~0.9 → ~0.5 ms CPU per 250 ms block (3.5 → 2.1 ms per
audio-second) with the window work done once and the mask smoothed by 1-D passes, then ~0.3 ms
(single precision, the mask compared in power instead of decibels, the smoothing as running sums).

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

from balto.audio.stft_gate import StftGate

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
        self._noise: npt.NDArray[np.float32] | None = None  # the current profile's noise
        self._thresh: npt.NDArray[np.float64] | None = None  # and its per-bin thresholds
        self._reference: SpectralGateStationary | None = None  # see `_gate`
        # noisereduce's smoothing kernel for these settings, from a gate built once on silence.
        template = self._noisereduce(np.zeros(self._p.n_fft, dtype=np.float32))
        kernel = template._smoothing_filter if template.smooth_mask else None
        self._stft = StftGate(self._p.n_fft, kernel, self._p.prop_decrease)
        self.profiles = 0
        """How many noise profiles have been built."""

    @property
    def has_profile(self) -> bool:
        """True once a noise profile has been learned."""
        return self._thresh is not None

    @property
    def _gate(self) -> SpectralGateStationary | None:
        """The current profile as noisereduce's own gate (built on demand, to check against)."""
        if self._noise is None:
            return None
        if self._reference is None:
            self._reference = self._noisereduce(self._noise)
        return self._reference

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
        if self._thresh is None or len(x) < self._p.n_fft:
            return pcm
        y = self._stft.gate(x, self._thresh)
        return np.clip(np.rint(y), -32768, 32767).astype("<i2").tobytes()

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
        self._noise, self._reference = noise, None
        self._thresh = self._stft.thresholds(noise, self._p.n_std)
        self.profiles += 1

    def _noisereduce(self, noise: npt.NDArray[np.float32]) -> SpectralGateStationary:
        """A noisereduce stationary gate learnt from `noise`, as this denoiser sets it up."""
        p = self._p
        return SpectralGateStationary(
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
