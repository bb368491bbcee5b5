"""Frame-level voice features: one row per loud, voiced 10 ms frame of a segment. Pure numpy.

In: mono s16le PCM at 16 kHz. Out: a float32 array (frames × `FRAME_DIM`), or None when the audio
holds less than `MIN_VOICED_S` of loud voiced frames.

Per frame (25 ms every 10 ms, pre-emphasised, Hamming window): the segment's own
noise (its quietest frames) is subtracted from the power spectrum, 26 mel bands, log, DCT →
cepstra c1..c19, then their deltas (a ±2-frame regression, over the whole segment so the
neighbours of a vowel count); only loud, periodic frames are kept (vowels, where a voice shows and
the background matters least), each with its log pitch (centred on 150 Hz). The cepstra are not
normalised per segment: on the benchmark, mean (or mean and variance) normalisation removed more
of the voice than of the noise (docs/BENCHMARKS.md, Speaker, third round). So a microphone that
colours the sound differently from the enrollment's shifts every frame: enroll with the counter's
own microphone.
"""

from __future__ import annotations

import functools

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

RATE = 16_000
_FRAME = 400  # 25 ms
_HOP = 160  # 10 ms
_NFFT = 512
_MELS = 26
_CEPS = 19  # c1..c19
MIN_VOICED_S = 0.3
"""Least vowel time (loud, periodic frames) a segment is scored on."""
_LOUD_DB = 30.0  # frames within this of the loudest frame may count
_OVER_NOISE_DB = 3.0  # and at least this over the segment's own noise estimate
_NOISE_SHARE = 0.15  # the quietest share of frames estimates the segment's noise
_F0_MIN, _F0_MAX = 60.0, 420.0  # adult and child voices
_PERIODIC = 0.35  # normalised autocorrelation peak that makes a frame voiced
_OCTAVE_SHARE = 0.85  # a shorter lag this close to the best peak is the period


@functools.cache
def _mel_bank() -> FloatArray:
    """Triangular mel filters over the rfft bins, 80 Hz - 7.6 kHz."""

    def mel(f: FloatArray | float) -> FloatArray:
        return np.asarray(2595.0 * np.log10(1.0 + np.asarray(f) / 700.0))

    edges_mel = np.linspace(mel(80.0), mel(7600.0), _MELS + 2)
    edges = 700.0 * (10.0 ** (edges_mel / 2595.0) - 1.0)
    bins = np.fft.rfftfreq(_NFFT, 1.0 / RATE)
    bank = np.zeros((_MELS, len(bins)))
    for m in range(_MELS):
        lo, mid, hi = edges[m], edges[m + 1], edges[m + 2]
        up = (bins - lo) / (mid - lo)
        down = (hi - bins) / (hi - mid)
        bank[m] = np.clip(np.minimum(up, down), 0.0, None)
    return bank


@functools.cache
def _dct() -> FloatArray:
    """DCT-II rows 1..`_CEPS` (orthonormal) over the mel bands."""
    n = np.arange(_MELS)
    k = np.arange(1, _CEPS + 1)[:, None]
    return np.asarray(np.sqrt(2.0 / _MELS) * np.cos(np.pi * k * (2 * n + 1) / (2 * _MELS)))


@functools.cache
def _window() -> FloatArray:
    return np.hamming(_FRAME)


def _frames(x: FloatArray) -> FloatArray:
    n = 1 + (len(x) - _FRAME) // _HOP
    idx = np.arange(_FRAME)[None, :] + _HOP * np.arange(n)[:, None]
    return np.asarray(x[idx])


def _pitch(frames: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Per frame: the F0 (Hz) and how periodic it is (normalised autocorrelation peak)."""
    spec = np.fft.rfft(frames, 2 * _FRAME)
    ac = np.fft.irfft(np.abs(spec) ** 2)[:, :_FRAME]
    lo, hi = int(RATE / _F0_MAX), int(RATE / _F0_MIN)
    # Unbiased by the window's own decay, so longer lags are not penalised.
    wac = np.correlate(_window(), _window(), "full")[_FRAME - 1 :][:_FRAME]
    norm = ac / (ac[:, :1] + 1e-12) / (wac / wac[0] + 1e-3)
    band = norm[:, lo:hi]
    peak = band.max(axis=1)
    # The shortest lag nearly as periodic as the best: a multiple of the period correlates about
    # as well as the period itself, and taking it would halve the pitch (an octave error).
    local = (band[:, 1:-1] >= band[:, :-2]) & (band[:, 1:-1] >= band[:, 2:])
    near = local & (band[:, 1:-1] >= _OCTAVE_SHARE * peak[:, None])
    first = np.where(near.any(axis=1), np.argmax(near, axis=1) + 1, np.argmax(band, axis=1))
    return RATE / (lo + first), peak


FRAME_DIM = 2 * _CEPS + 1
"""Values per frame: cepstra, their deltas, log pitch."""
_DELTA = np.array([-2.0, -1.0, 0.0, 1.0, 2.0]) / 10.0
_PITCH_SCALE = 4.0  # log-pitch units → about a cepstrum's normalised spread


def frame_features(pcm: bytes, rate: int = RATE) -> npt.NDArray[np.float32] | None:
    """The frames of `pcm` (module docstring); None with too little voiced speech."""
    if rate != RATE or len(pcm) < 2 * RATE * MIN_VOICED_S:
        return None
    x = np.frombuffer(pcm, dtype="<i2").astype(np.float64) / 32768.0
    x = np.append(x[0], x[1:] - 0.97 * x[:-1])
    frames = _frames(x) * _window()
    energy = 10.0 * np.log10(np.einsum("ij,ij->i", frames, frames) + 1e-12)
    quiet = energy <= np.quantile(energy, _NOISE_SHARE)
    noise_db = float(10.0 * np.log10(np.mean(10.0 ** (energy[quiet] / 10.0)) + 1e-12))
    loud = (energy > energy.max() - _LOUD_DB) & (energy > noise_db + _OVER_NOISE_DB)
    if loud.sum() * _HOP / RATE < MIN_VOICED_S:
        return None
    power = np.abs(np.fft.rfft(frames, _NFFT)) ** 2 * _NFFT
    noise = power[quiet].mean(axis=0)
    clean = np.maximum(power - noise, 0.05 * power)
    ceps = np.log(clean @ _mel_bank().T + 1e-10) @ _dct().T
    padded = np.pad(ceps, ((2, 2), (0, 0)), mode="edge")
    delta = sum(_DELTA[k] * padded[k : k + len(ceps)] for k in range(5))
    f0, periodic = _pitch(frames[loud])
    keep = periodic > _PERIODIC
    if keep.sum() * _HOP / RATE < MIN_VOICED_S:
        return None
    c = ceps[loud][keep]  # not mean-normalised: on the benchmark that lost more voice than noise
    d = np.asarray(delta)[loud][keep]
    pitch = _PITCH_SCALE * np.log(f0[keep] / 150.0)
    return np.column_stack([c, d, pitch]).astype(np.float32)
