"""The universal background model (UBM): a diagonal GMM of voiced frames of many voices. Numpy.

In: a segment's frames (`balto.speaker.frames.frame_features`). Out: its `Stats`, the zeroth and
first-order statistics of its frames against the UBM (each frame shared among its `TOP` most
likely Gaussians), which is all identification needs: an attendant's model is the UBM with
MAP-adapted means (`adapt`), and the log-likelihood ratio of a segment, attendant model against
the UBM, frame by frame with the UBM's alignment, is a dot product of the stats with the
attendant's mean offsets (`Model.llr`). So the front end computes the stats where the audio is
(one C × D product per frame), and scoring against any number of voiceprints is microseconds.

The UBM (``ubm.npz``, package data) is trained offline by ``bench/speaker_eval.py --fit-ubm`` on
the benchmark's background voices (in no split) at every SNR, so it has heard speech in the shop
noises; nothing is downloaded or trained at run time.
"""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass, field
from importlib import resources

import numpy as np
import numpy.typing as npt

from balto.speaker.frames import FRAME_DIM

F64 = npt.NDArray[np.float64]
TOP = 5
"""Gaussians each frame is shared among (the rest hold a negligible share of it)."""
RELEVANCE = 16.0
"""MAP relevance factor: frames a Gaussian must see before its adapted mean moves halfway."""


@dataclass(frozen=True, slots=True)
class Ubm:
    """The background model: per Gaussian its weight, mean and inverse variance (diagonal)."""

    weights: F64
    means: F64
    precisions: F64
    _const: F64 = field(init=False, repr=False)
    _scaled_means: F64 = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # Per Gaussian: log weight + the normalisation terms that do not depend on the frame.
        const = (
            np.log(self.weights)
            + 0.5 * np.sum(np.log(self.precisions / (2 * np.pi)), axis=1)
            - 0.5 * np.sum(self.means**2 * self.precisions, axis=1)
        )
        object.__setattr__(self, "_const", np.asarray(const))
        object.__setattr__(self, "_scaled_means", np.asarray(self.means * self.precisions))

    @property
    def size(self) -> int:
        """Gaussians in the model."""
        return len(self.weights)

    def stats(self, frames: npt.NDArray[np.float32]) -> Stats:
        """The statistics of `frames` (module docstring)."""
        f = frames.astype(np.float64)
        ll = self._const + f @ self._scaled_means.T - 0.5 * (f * f) @ self.precisions.T
        top = np.argpartition(-ll, TOP - 1, axis=1)[:, :TOP]
        best = np.take_along_axis(ll, top, axis=1)
        share = np.exp(best - best.max(axis=1, keepdims=True))
        share /= share.sum(axis=1, keepdims=True)
        post = np.zeros_like(ll)
        np.put_along_axis(post, top, share, axis=1)
        n = post.sum(axis=0)
        return Stats(len(f), n, post.T @ f - n[:, None] * self.means)


@dataclass(frozen=True, slots=True)
class Stats:
    """A segment's frames against the UBM.

    How many frames, and per Gaussian its share of them and the sum of their offsets from the
    Gaussian's mean (weighted by the shares).
    """

    frames: int
    n: F64
    f: F64

    def to_bytes(self) -> bytes:
        """Little-endian float32: the frame count, then n, then f (row by row)."""
        values = np.concatenate([[float(self.frames)], self.n, self.f.ravel()])
        return values.astype("<f4").tobytes()

    @classmethod
    def from_bytes(cls, data: bytes) -> Stats | None:
        """Read `to_bytes`'s form; None when it is not one of the shipped UBM's."""
        c = ubm().size
        if len(data) != 4 * (1 + c + c * FRAME_DIM):
            return None
        v = np.frombuffer(data, dtype="<f4").astype(np.float64)
        if not np.all(np.isfinite(v)) or v[0] < 1:
            return None
        return cls(int(v[0]), v[1 : 1 + c], v[1 + c :].reshape(c, FRAME_DIM))


def adapt(stats: list[Stats], relevance: float = RELEVANCE) -> F64:
    """MAP-adapted means of the UBM from a speaker's stats, as offsets from the UBM's means."""
    n = np.sum([s.n for s in stats], axis=0)
    f = np.sum([s.f for s in stats], axis=0)
    alpha = n / (n + relevance)
    return np.asarray(alpha[:, None] * f / np.maximum(n, 1e-9)[:, None])


@dataclass(frozen=True, slots=True)
class Model:
    """An adapted speaker model, ready to score stats against."""

    linear: F64  # offset × precision, per Gaussian and value
    quadratic: F64  # ½ offset² × precision summed over the values, per Gaussian

    @classmethod
    def of(cls, offsets: F64, background: Ubm | None = None) -> Model:
        """Precompute from adapted means' offsets (`adapt`) of `background` (default: shipped)."""
        prec = (background or ubm()).precisions
        return cls(offsets * prec, 0.5 * np.sum(offsets * offsets * prec, axis=1))

    def llr(self, stats: Stats) -> float:
        """Average per-frame log-likelihood ratio, this speaker against the UBM (0: no telling)."""
        return float((np.vdot(self.linear, stats.f) - self.quadratic @ stats.n) / stats.frames)


@dataclass(frozen=True, slots=True)
class Cohort:
    """Background voices' models, scored together (one matrix product per segment)."""

    linear: F64  # voices × (C · D)
    quadratic: F64  # voices × C

    @classmethod
    def of(cls, offsets: F64, background: Ubm | None = None) -> Cohort:
        """From the voices' adapted offsets (voices × C × D)."""
        prec = (background or ubm()).precisions
        v = len(offsets)
        return cls((offsets * prec).reshape(v, -1), 0.5 * np.sum(offsets**2 * prec, axis=2))

    def normalise(self, stats: Stats) -> tuple[float, float]:
        """Mean and standard deviation of the `COHORT_TOP` highest cohort ratios of `stats`."""
        llr = (self.linear @ stats.f.ravel() - self.quadratic @ stats.n) / stats.frames
        top = np.sort(llr)[-COHORT_TOP:]
        return float(top.mean()), float(max(top.std(), 1e-6))


COHORT_TOP = 20
"""Cohort voices nearest the segment that normalise its scores (chosen on the tune split)."""


def load_ubm(data: bytes) -> tuple[Ubm, Cohort]:
    """A UBM and its cohort from .npz bytes (``weights``, ``means``, ``variances``, ``cohort``)."""
    with np.load(io.BytesIO(data)) as z:
        weights = np.asarray(z["weights"], np.float64)
        means = np.asarray(z["means"], np.float64)
        precisions = 1.0 / np.asarray(z["variances"], np.float64)
        offsets = np.asarray(z["cohort"], np.float64)
    if means.shape != (len(weights), FRAME_DIM) or precisions.shape != means.shape:
        raise ValueError("ubm.npz does not match the frame features")
    if offsets.shape[1:] != means.shape or len(offsets) < COHORT_TOP:
        raise ValueError("ubm.npz's cohort does not match its UBM")
    background = Ubm(weights, means, precisions)
    return background, Cohort.of(offsets, background)


@functools.cache
def _shipped() -> tuple[Ubm, Cohort]:
    return load_ubm(resources.files("balto.speaker").joinpath("ubm.npz").read_bytes())


def ubm() -> Ubm:
    """The shipped UBM."""
    return _shipped()[0]


def cohort() -> Cohort:
    """The shipped cohort."""
    return _shipped()[1]
