"""A voiceprint: one attendant's voice as statistics of segment embeddings, and the distance to it.

In: the embeddings (`balto.speaker.features.embed`) of an attendant's enrollment speech, each
computed clean and mixed with synthetic noises (`augment`), so the voiceprint also covers how the
voice's features drift in a noisy shop. Out: a `Voiceprint` (mean and spread, 2 × `DIM` float32,
stored as 336 bytes: no audio, nothing the voice can be rebuilt from) and `distance`.

The distance is a Mahalanobis distance per dimension (RMS), under the attendant's own spread plus
`within.json`: the within-speaker covariance of the embedding (how one voice's numbers move from
one utterance, noise and SNR to another), estimated by ``bench/speaker_eval.py --fit`` on the
corpus's 14 background voices (in no benchmark split). A segment of the same voice lands near 1;
another voice further.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources

import numpy as np
import numpy.typing as npt

from balto.speaker.features import DIM, RATE, embed

MODEL = "mfcc-f0-v1"
"""Which embedding and covariance a stored voiceprint was made with; others are not used."""
OWN_SPREAD = 0.3  # weight of the attendant's own enrollment spread beside the shipped covariance
_AUGMENT_SNRS = (15.0, 8.0, 4.0)
F32 = npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class Voiceprint:
    """An attendant's voice: the mean embedding and its per-dimension variance."""

    mean: F32
    var: F32

    def to_bytes(self) -> bytes:
        """The stored form (2 × `DIM` little-endian float32)."""
        return np.concatenate([self.mean, self.var]).astype("<f4").tobytes()

    @classmethod
    def from_bytes(cls, data: bytes) -> Voiceprint:
        """Read the stored form; raises `ValueError` when it is not one."""
        values = np.frombuffer(data, dtype="<f4")
        if values.shape != (2 * DIM,) or not np.all(np.isfinite(values)):
            raise ValueError("not a voiceprint of this model")
        return cls(values[:DIM].astype(np.float32), values[DIM:].astype(np.float32))


@functools.cache
def within_covariance() -> npt.NDArray[np.float64]:
    """The shipped within-speaker covariance (`DIM` × `DIM`)."""
    text = resources.files("balto.speaker").joinpath("within.json").read_text()
    cov = np.asarray(json.loads(text)["covariance"], dtype=np.float64)
    if cov.shape != (DIM, DIM):
        raise ValueError("within.json does not match the embedding")
    return cov


@dataclass(frozen=True, slots=True)
class Scorer:
    """A voiceprint ready to score against: its mean and the inverse of its covariance."""

    mean: npt.NDArray[np.float64]
    precision: npt.NDArray[np.float64]

    @classmethod
    def of(cls, print_: Voiceprint) -> Scorer:
        """Precompute (one 42 × 42 inverse, once per voiceprint load)."""
        cov = within_covariance() + OWN_SPREAD * np.diag(print_.var.astype(np.float64))
        return cls(print_.mean.astype(np.float64), np.asarray(np.linalg.inv(cov), np.float64))

    def distance(self, embedding: F32) -> float:
        """RMS Mahalanobis distance of one segment's embedding to the voice (~1: the same)."""
        d = embedding.astype(np.float64) - self.mean
        return float(np.sqrt(max(float(d @ self.precision @ d), 0.0) / DIM))


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


def build(speech: Iterable[bytes]) -> tuple[Voiceprint, int] | None:
    """The voiceprint of enrollment speech (cut segments); None when none gave an embedding.

    Returns the voiceprint and how many segments gave a clean embedding.
    """
    clean: list[F32] = []
    every: list[F32] = []
    for k, pcm in enumerate(speech):
        e = embed(pcm)
        if e is None:
            continue
        clean.append(e)
        every.append(e)
        every += [a for a in (embed(p) for p in augment(pcm, seed=k)) if a is not None]
    if not clean:
        return None
    # Centred on the clean voice; the spread around it includes how noise moves the features.
    centre = np.mean(clean, axis=0)
    spread = np.mean((np.stack(every) - centre) ** 2, axis=0)
    return Voiceprint(centre.astype(np.float32), spread.astype(np.float32)), len(clean)
