"""Who spoke a segment: one of the cliente's enrolled attendants, a customer, or unknown.

In: a segment's embedding and the cliente's enrolled voices (`Enrolled`). Out: an
`Identification`. Pure and cheap (a 24 × 42 projection and a 24 × 24 product per attendant:
microseconds).

The rule (thresholds chosen on the leave-voices-out protocol over the benchmark's 56 background
voices and its tune split, ``bench/speaker_protocol.py``; docs/BENCHMARKS.md, Speaker):
the nearest enrolled voice by `Scorer.distance`; at most `ATTENDANT_MAX_DISTANCE` → that attendant;
at least `CUSTOMER_MIN_DISTANCE` → a customer (no enrolled voice is near); in between, or a segment
without an embedding (too little voiced speech) → unknown (`falante` None): a label that is not
sure is left out rather than wrong. With nobody enrolled nothing is said (`falante` None, no score).
The score is ``exp(-d²/2)`` of the nearest distance (1: the voiceprint itself; the attendant
threshold is ≈ 0.52, the customer one ≈ 0.49).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from balto.speaker.voiceprint import Scorer

ATTENDANT_MAX_DISTANCE = 1.14
"""Nearest distance at or under which the segment is that attendant's."""
CUSTOMER_MIN_DISTANCE = 1.19
"""Nearest distance at or over which the segment is a customer's."""


@dataclass(frozen=True, slots=True)
class Enrolled:
    """One attendant with a voiceprint, ready to score."""

    atendente_id: str
    nome: str
    scorer: Scorer


@dataclass(frozen=True, slots=True)
class Identification:
    """The label of one segment.

    Attributes:
        falante: ``"atendente"``, ``"cliente"``, or None (unknown, or nobody enrolled).
        atendente_id: The attendant's id when `falante` is ``"atendente"``.
        nome: The attendant's name then.
        score: ``exp(-d²/2)`` of the nearest enrolled voice (None when nothing was scored).
    """

    falante: str | None = None
    atendente_id: str | None = None
    nome: str | None = None
    score: float | None = None


def score_of(distance: float) -> float:
    """The 0-1 score of a distance."""
    return math.exp(-distance * distance / 2.0)


def identify(
    embedding: npt.NDArray[np.float32] | None, enrolled: Sequence[Enrolled]
) -> Identification:
    """Label one segment (module docstring)."""
    if not enrolled or embedding is None:
        return Identification()
    distance, best = min(((e.scorer.distance(embedding), e) for e in enrolled), key=lambda p: p[0])
    score = round(score_of(distance), 4)
    if distance <= ATTENDANT_MAX_DISTANCE:
        return Identification("atendente", best.atendente_id, best.nome, score)
    if distance >= CUSTOMER_MIN_DISTANCE:
        return Identification("cliente", score=score)
    return Identification(score=score)
