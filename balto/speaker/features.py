"""A segment's voice embedding: what its speech sounds like, in 42 numbers. Pure numpy.

In: mono s16le PCM at 16 kHz (a cut segment, or a window of enrollment speech). Out: a float32
vector (`DIM` values), or None when the audio holds too little voiced speech to say anything.

What it is (no model, nothing trained or downloaded): 25 ms frames every 10 ms; the segment's own
noise is estimated from its quietest frames (a cut segment carries 300 ms of pre-roll and pauses
between words) and subtracted from every frame's power spectrum, so a steady background bends the
spectral envelope less; a 26-band mel filterbank, log, DCT → cepstral coefficients 1-19 (c0, the
loudness, is left out). Only the frames that are both loud (within `_LOUD_DB` of the loudest and
`_OVER_NOISE_DB` over the noise) and periodic (a pitch is found) count: vowels, where a voice's
formants and pitch show and the background matters least. The vector: the mean and the spread of
those cepstra (the vocal tract, the timbre), the median and spread of their log pitch (the voice's
height and its melody), and the speaking rate proxy (share of voiced frames).
How it fails: a voice in loud babble (another talker is another voice), music, or whispered or
shouted speech is further from its enrollment; short segments (< `MIN_VOICED_S` of vowels) get no
embedding at all.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

RATE = 16_000
_FRAME = 400  # 25 ms
_HOP = 160  # 10 ms
_NFFT = 512
_MELS = 26
_CEPS = 19  # c1..c19
DIM = 2 * _CEPS + 4
"""Length of an embedding."""
MIN_VOICED_S = 0.3
"""Least vowel time (loud, periodic frames) an embedding is computed from."""
_LOUD_DB = 30.0  # frames within this of the loudest frame may count
_OVER_NOISE_DB = 3.0  # and at least this over the segment's own noise estimate
_NOISE_SHARE = 0.15  # the quietest share of frames estimates the segment's noise
_F0_MIN, _F0_MAX = 60.0, 420.0  # adult and child voices
_PERIODIC = 0.35  # normalised autocorrelation peak that makes a frame voiced
_OCTAVE_SHARE = 0.85  # a shorter lag this close to the best peak is the period


@dataclass(frozen=True, slots=True)
class Recipe:
    """How frames are chosen and summarised (the benchmark compares recipes; `RECIPE` ships).

    Attributes:
        level: What a frame's loudness is measured against: ``"max"`` (the loudest frame) or
            ``"p90"`` (the segment's 90th-percentile frame energy, its own speech level).
        loud_db: Frames within this many dB under that level may count.
        centre: ``"mean"`` or ``"median"`` of the cepstra.
        spread: ``"std"``, ``"iqr"`` (interquartile range / 1.349) or ``"mad"`` (median absolute
            deviation × 1.4826) of the cepstra.
        track_st: Keep only the frames whose pitch is within this many semitones of the
            segment's median pitch (the dominant voice's track) for the cepstra; None: all.
    """

    level: str = "max"
    loud_db: float = _LOUD_DB
    centre: str = "mean"
    spread: str = "std"
    track_st: float | None = None


RECIPE = Recipe()
"""The recipe the shipped model uses."""


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


def _summary(ceps: FloatArray, recipe: Recipe) -> tuple[FloatArray, FloatArray]:
    """The centre and spread of the cepstra per coefficient, as `recipe` says."""
    if recipe.centre == "mean" and recipe.spread == "std":
        return np.asarray(ceps.mean(axis=0)), np.asarray(ceps.std(axis=0))
    med = np.median(ceps, axis=0)
    centre = med if recipe.centre == "median" else ceps.mean(axis=0)
    if recipe.spread == "iqr":
        q25, q75 = np.quantile(ceps, [0.25, 0.75], axis=0)
        spread = (q75 - q25) / 1.349
    elif recipe.spread == "mad":
        spread = 1.4826 * np.median(np.abs(ceps - med), axis=0)
    else:
        spread = ceps.std(axis=0)
    return np.asarray(centre), np.asarray(spread)


def embed(pcm: bytes, rate: int = RATE, recipe: Recipe = RECIPE) -> npt.NDArray[np.float32] | None:
    """The voice embedding of `pcm` (module docstring); None with too little voiced speech."""
    if rate != RATE or len(pcm) < 2 * RATE * MIN_VOICED_S:
        return None
    x = np.frombuffer(pcm, dtype="<i2").astype(np.float64) / 32768.0
    x = np.append(x[0], x[1:] - 0.97 * x[:-1])  # pre-emphasis: the formants, not the mains hum
    frames = _frames(x) * _window()
    energy = 10.0 * np.log10(np.einsum("ij,ij->i", frames, frames) + 1e-12)
    quiet = energy <= np.quantile(energy, _NOISE_SHARE)
    noise_db = float(10.0 * np.log10(np.mean(10.0 ** (energy[quiet] / 10.0)) + 1e-12))
    top = energy.max() if recipe.level == "max" else float(np.quantile(energy, 0.9))
    loud = (energy > top - recipe.loud_db) & (energy > noise_db + _OVER_NOISE_DB)
    if loud.sum() * _HOP / RATE < MIN_VOICED_S:
        return None
    # The spectra only of what is used: the loud frames and the noise estimate's.
    noise = (np.abs(np.fft.rfft(frames[quiet], _NFFT)) ** 2).mean(axis=0) * _NFFT
    power = np.abs(np.fft.rfft(frames[loud], _NFFT)) ** 2 * _NFFT
    f0, periodic = _pitch(frames[loud])
    keep = periodic > _PERIODIC
    if keep.sum() * _HOP / RATE < MIN_VOICED_S:
        return None
    logf0 = np.log(f0[keep])
    q25, q50, q75 = np.quantile(logf0, [0.25, 0.5, 0.75])
    voiced_share = keep.sum() / max(int(loud.sum()), 1)
    use = power[keep]
    if recipe.track_st is not None:
        # The dominant voice's frames: another talker under it is mostly at another pitch.
        near = np.abs(logf0 - q50) <= recipe.track_st * np.log(2.0) / 12.0
        if near.sum() * _HOP / RATE >= MIN_VOICED_S:
            use = use[near]
    clean = np.maximum(use - noise, 0.05 * use)
    ceps = np.log(clean @ _mel_bank().T + 1e-10) @ _dct().T
    centre, spread = _summary(ceps, recipe)
    out = np.concatenate([centre, spread, [q50, q75 - q25, voiced_share, logf0.std()]])
    return out.astype(np.float32)
