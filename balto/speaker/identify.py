"""Who spoke a segment: one of the cliente's enrolled attendants, a customer, or unknown.

In: a segment's statistics against the UBM (`balto.speaker.gmm.Stats`) and the cliente's enrolled
voices (`Enrolled`). Out: an `Identification`. Pure and cheap (the cohort's matrix product once,
then one dot product per attendant: tens of microseconds).

The rule (thresholds chosen on the benchmark's tuning voices, docs/BENCHMARKS.md, Speaker): the
enrolled voice with the highest cohort-normalised likelihood ratio (`Scorer.score`); at least
`ATTENDANT_MIN_SCORE` → that attendant; at most `CUSTOMER_MAX_SCORE` → a customer (no enrolled
voice is near); in between, or a segment without statistics (too little voiced speech) → unknown
(`falante` None): a label that is not sure is left out rather than wrong. With nobody enrolled
nothing is said (`falante` None, no score). The 0-1 score is a logistic of the normalised ratio
centred between the thresholds (`score_of`: above 0.5 is the attendant side).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from balto.speaker.gmm import Stats, cohort
from balto.speaker.voiceprint import Scorer

ATTENDANT_MIN_SCORE = 8.2
"""Best normalised ratio at or over which the segment is that attendant's."""
CUSTOMER_MAX_SCORE = 7.7
"""Best normalised ratio at or under which the segment is a customer's."""
_SCORE_SCALE = 2.0  # normalised-ratio units per e-fold of the 0-1 score's odds


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
        score: `score_of` the best enrolled voice's ratio (None when nothing was scored).
    """

    falante: str | None = None
    atendente_id: str | None = None
    nome: str | None = None
    score: float | None = None


def score_of(ratio: float) -> float:
    """The 0-1 score of a normalised ratio (0.5 midway between the thresholds)."""
    middle = (ATTENDANT_MIN_SCORE + CUSTOMER_MAX_SCORE) / 2.0
    x = max(min((ratio - middle) / _SCORE_SCALE, 50.0), -50.0)
    return 1.0 / (1.0 + math.exp(-x))


def identify(stats: Stats | None, enrolled: Sequence[Enrolled]) -> Identification:
    """Label one segment (module docstring)."""
    if not enrolled or stats is None:
        return Identification()
    norm = cohort().normalise(stats)
    ratio, best = max(((e.scorer.score(stats, norm), e) for e in enrolled), key=lambda p: p[0])
    score = round(score_of(ratio), 4)
    if ratio >= ATTENDANT_MIN_SCORE:
        return Identification("atendente", best.atendente_id, best.nome, score)
    if ratio <= CUSTOMER_MAX_SCORE:
        return Identification("cliente", score=score)
    return Identification(score=score)
