"""A voiceprint: one attendant's voice as statistics of segment embeddings, and the distance to it.

In: the embeddings (`balto.speaker.features.embed`) of an attendant's enrollment speech, each
computed clean and mixed with synthetic noises (`augment`), so the voiceprint also covers how the
voice's features drift in a noisy shop. Out: a `Voiceprint` (mean and spread, 2 × `DIM` float32,
stored as 336 bytes: no audio, nothing the voice can be rebuilt from) and `Scorer.distance`.

The distance is a Mahalanobis distance per dimension (RMS) in a discriminant subspace, under the
attendant's own spread plus the within-speaker covariance, both shipped in `within.json`
(`Within`): the covariance says how one voice's 42 numbers move from one utterance, noise and SNR
to another; the projection keeps the `Within.dims` directions along which voices differ most
against that (linear discriminant analysis), so directions where voices barely differ, and that
only carry noise, no longer count. Both are estimated by ``bench/speaker_eval.py --fit`` on the
corpus's 56 background voices (in no benchmark split), and the choice of the subspace's size was
made by the leave-voices-out protocol (``bench/speaker_protocol.py``). A segment of the same voice
lands near 1; another voice further. The stored voiceprint is unchanged by the projection (it is
applied when a voiceprint is loaded, `Scorer.of`), so `MODEL` is unchanged.
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
# Weight of the attendant's own enrollment spread beside the shipped covariance (0.6 was no
# better on the leave-voices-out protocol, with or without the projection).
OWN_SPREAD = 0.3
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


@dataclass(frozen=True, slots=True)
class Within:
    """The shipped scoring model: within-speaker covariance and discriminant projection."""

    covariance: npt.NDArray[np.float64]
    """`DIM` × `DIM`: how one voice's embedding moves between utterances, noises and SNRs."""
    projection: npt.NDArray[np.float64]
    """`dims` × `DIM`: the directions scored (rows; whitened against `covariance`)."""

    @property
    def dims(self) -> int:
        """How many directions are scored."""
        return int(self.projection.shape[0])


@functools.cache
def within() -> Within:
    """The shipped model (`within.json`); a file without a projection scores all `DIM` numbers."""
    doc = json.loads(resources.files("balto.speaker").joinpath("within.json").read_text())
    cov = np.asarray(doc["covariance"], dtype=np.float64)
    projection = np.asarray(doc.get("projection", np.eye(DIM)), dtype=np.float64)
    if cov.shape != (DIM, DIM) or projection.ndim != 2 or projection.shape[1] != DIM:
        raise ValueError("within.json does not match the embedding")
    return Within(cov, projection)


@dataclass(frozen=True, slots=True)
class Scorer:
    """A voiceprint ready to score against: its mean, and what the distance needs precomputed.

    Attributes:
        mean: The voiceprint's mean embedding (`DIM`).
        projection: The scored directions (`Within.projection`).
        centre: The mean in those directions.
        precision: The inverse of the voice's covariance in those directions.
    """

    mean: npt.NDArray[np.float64]
    projection: npt.NDArray[np.float64]
    centre: npt.NDArray[np.float64]
    precision: npt.NDArray[np.float64]

    @classmethod
    def of(cls, print_: Voiceprint, model: Within | None = None) -> Scorer:
        """Precompute (one small inverse, once per voiceprint load); `model`: the shipped one."""
        model = model or within()
        t = model.projection
        cov = model.covariance + OWN_SPREAD * np.diag(print_.var.astype(np.float64))
        mean = print_.mean.astype(np.float64)
        precision = np.asarray(np.linalg.inv(t @ cov @ t.T), np.float64)
        return cls(mean, t, t @ mean, precision)

    def distance(self, embedding: F32) -> float:
        """RMS Mahalanobis distance of one segment's embedding to the voice (~1: the same)."""
        d = self.projection @ embedding.astype(np.float64) - self.centre
        return float(np.sqrt(max(float(d @ self.precision @ d), 0.0) / len(d)))


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
