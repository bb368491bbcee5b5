"""A voiceprint: one attendant's voice as a GMM adapted from the UBM, and the score against it.

In: an attendant's enrollment speech (cut segments), each used clean and mixed with synthetic
noises (`augment`), so the model has also heard the voice in a noisy shop. Out: a `Voiceprint`,
the UBM's means MAP-adapted to those frames (`balto.speaker.gmm.adapt`), stored as their offsets
from the UBM's (C × D float32, ~10 kB: no audio, nothing the voice can be rebuilt from), and a
`Scorer`: a segment's log-likelihood ratio against the UBM (`balto.speaker.gmm`), normalised
against the shipped cohort of background voices (0: as like the voice as the background voices
nearest the segment are; the attendant threshold is several of their standard deviations).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from balto.speaker import gmm
from balto.speaker.frames import FRAME_DIM, RATE, frame_features
from balto.speaker.gmm import Stats

MODEL = "gmm-ubm-v1"
"""Which frames, UBM and scoring a stored voiceprint was made with; others are not used (the first
two rounds' ``mfcc-f0-v1`` asks for re-enrollment: `balto.speaker.source`)."""
_AUGMENT_SNRS = (15.0, 8.0, 4.0)
F32 = npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class Voiceprint:
    """An attendant's voice: the adapted means' offsets from the UBM's (C × `FRAME_DIM`)."""

    offsets: F32

    def to_bytes(self) -> bytes:
        """The stored form (little-endian float32, row by row)."""
        return self.offsets.astype("<f4").tobytes()

    @classmethod
    def from_bytes(cls, data: bytes) -> Voiceprint:
        """Read the stored form; raises `ValueError` when it is not one of the shipped UBM's."""
        shape = (gmm.ubm().size, FRAME_DIM)
        values = np.frombuffer(data, dtype="<f4")
        if values.size != shape[0] * shape[1] or not np.all(np.isfinite(values)):
            raise ValueError("not a voiceprint of this model")
        return cls(values.reshape(shape).astype(np.float32))


@dataclass(frozen=True, slots=True)
class Scorer:
    """A voiceprint ready to score segments' stats against."""

    model: gmm.Model

    @classmethod
    def of(cls, print_: Voiceprint) -> Scorer:
        """Precompute (once per voiceprint load)."""
        return cls(gmm.Model.of(print_.offsets.astype(np.float64)))

    def score(self, stats: Stats, norm: tuple[float, float] | None = None) -> float:
        """The segment's cohort-normalised ratio.

        `norm`: `gmm.Cohort.normalise` of `stats`, computed once per segment when scoring it
        against several voiceprints (None: computed here).
        """
        mean, sd = gmm.cohort().normalise(stats) if norm is None else norm
        return (self.model.llr(stats) - mean) / sd


def _coloured(rng: np.random.Generator, n: int, slope: float) -> npt.NDArray[np.float64]:
    """White noise shaped to a power spectrum falling `slope` dB per octave."""
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.maximum(np.fft.rfftfreq(n, 1.0 / RATE), 20.0)
    return np.asarray(np.fft.irfft(spec * (f / 20.0) ** (-slope / 6.02 / 2.0), n))


def _noises(n: int, seed: int) -> list[npt.NDArray[np.float64]]:
    """Synthetic shop-like noises (none of the benchmark's): pink, mains hum, modulated rumble."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / RATE
    pink = _coloured(rng, n, 3.0)
    hum = sum(np.sin(2 * np.pi * 60 * k * t) / k for k in range(1, 6)) + 0.3 * rng.standard_normal(
        n
    )
    rumble = _coloured(rng, n, 6.0) * (1.0 + 0.8 * np.sin(2 * np.pi * 4 * t + rng.uniform(0, 6.28)))
    return [pink, np.asarray(hum), np.asarray(rumble)]


def augment(pcm: bytes, seed: int = 0) -> list[bytes]:
    """`pcm` mixed with each synthetic noise at each of `_AUGMENT_SNRS` (s16le)."""
    x = np.frombuffer(pcm, dtype="<i2").astype(np.float64) / 32768.0
    power = 2.0 * float(np.mean(x**2))  # ~ the speech's power: a cut is about half pauses
    out = []
    for noise in _noises(len(x), seed):
        for snr in _AUGMENT_SNRS:
            scale = np.sqrt(power / 10 ** (snr / 10) / (np.mean(noise**2) + 1e-20))
            y = np.clip(x + noise * scale, -1.0, 1.0)
            out.append((y * 32767).astype("<i2").tobytes())
    return out


def build(
    speech: Iterable[bytes], background: gmm.Ubm | None = None
) -> tuple[Voiceprint, int] | None:
    """The voiceprint of enrollment speech (cut segments); None when none had voiced frames.

    Returns the voiceprint and how many segments were usable (clean). `background`: the UBM to
    adapt (the shipped one; another only while training the shipped one's cohort).
    """
    background = background or gmm.ubm()
    stats: list[Stats] = []
    clean = 0
    for k, pcm in enumerate(speech):
        frames = frame_features(pcm)
        if frames is None:
            continue
        clean += 1
        stats.append(background.stats(frames))
        for noisy in augment(pcm, seed=k):
            f = frame_features(noisy)
            if f is not None:
                stats.append(background.stats(f))
    if not clean:
        return None
    return Voiceprint(gmm.adapt(stats).astype(np.float32)), clean
