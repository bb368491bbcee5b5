"""Edge rules for `bench/segment_learned.py`: a cut's start and end moved by frame probabilities.

In: a clip's cuts (`CutSegment`, handed-out time) and the classifier's speech probability per
30 ms frame. Out: the cuts with their starts (and ends) moved. Pure.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from bench._segment_frames import FRAME_S


@dataclasses.dataclass(frozen=True)
class Rule:
    """How the classifier's probabilities move a cut's edges (see the module docstring)."""

    threshold: float = 0.5
    pre: float = 0.06
    pad: float = 0.15
    walk: bool = False
    reach: bool = False
    dip: int = 2
    outward: bool = False


def refine(cuts: list[Any], p: np.ndarray, rule: Rule) -> list[Any]:
    """Each cut's edges moved to the classifier's first / last speech frame in what it may hold.

    What it may hold: from the untrimmed start (300 ms before the first voiced frame, never
    before the previous cut's end) to the untrimmed end (150 ms after the last voiced frame),
    or with `rule.reach` up to the moment the cut was handed out (that audio has arrived).
    """
    out: list[Any] = []
    for c, at in cuts:
        lo = max(c.start, out[-1][0].end if out else 0.0)
        hi = max(c.end, at) if rule.reach else c.end
        threshold, pre, pad = rule.threshold, rule.pre, rule.pad
        k0, k1 = int(np.ceil(lo / FRAME_S - 1e-6)), int(hi / FRAME_S + 1e-6)
        if rule.walk:
            a, b = walk(p, k0, k1, *_voiced(c), rule)
            start = max(lo, a * FRAME_S - pre)
            end = min(hi, (b + 1) * FRAME_S + pad)
            out.append((dataclasses.replace(c, start=start, end=end), at))
            continue
        speech = np.flatnonzero(p[k0:k1] >= threshold)
        if not len(speech):
            out.append((c, at))
            continue
        start = max(lo, (k0 + speech[0]) * FRAME_S - pre)
        end = min(hi, (k0 + speech[-1] + 1) * FRAME_S + pad)
        out.append((dataclasses.replace(c, start=start, end=end), at))
    return out


def _voiced(c: Any) -> tuple[int, int]:
    """A cut's first and last voiced frame (the VAD's own edges), as frame indices."""
    return round(c.speech_start / FRAME_S), round(c.speech_end / FRAME_S) - 1


def _extend(p: np.ndarray, k: int, step: int, bound: int, rule: Rule) -> int:
    """From speech frame `k`, the furthest frame >= the threshold in direction `step` (+1 / -1).

    Stops after `rule.dip` quiet frames in a row or at `bound` (excluded).
    """
    edge, quiet, j = k, 0, k + step
    while j != bound and quiet <= rule.dip:
        if p[j] >= rule.threshold:
            edge, quiet = j, 0
        else:
            quiet += 1
        j += step
    return edge


def walk(p: np.ndarray, k0: int, k1: int, first: int, last: int, rule: Rule) -> tuple[int, int]:
    """The speech's first and last frame: from the VAD's, walked over the frames >= t.

    Back from the first voiced frame while the classifier says speech (stepping over
    `rule.dip` quiet frames), or on to its first speech frame when the VAD started early; the same
    forwards from the last voiced frame. Bounded by [k0, k1).
    """
    t = rule.threshold
    first, last = max(k0, min(first, k1 - 1)), max(k0, min(last, k1 - 1))
    a, b = first, last
    if p[first] >= t:
        a = _extend(p, first, -1, k0 - 1, rule)
    elif len(nxt := np.flatnonzero(p[first : last + 1] >= t)):
        a = first + int(nxt[0])
    if p[last] >= t:
        b = _extend(p, last, +1, k1, rule)
    elif len(prev := np.flatnonzero(p[a : last + 1] >= t)):
        b = a + int(prev[-1])
    return a, b


def starts_only(
    cuts: list[Any], p: np.ndarray, rule: Rule, energy: list[Any] | None = None
) -> list[Any]:
    """The shipped cuts with only their starts placed by the classifier's walk.

    The start may lie anywhere the untrimmed start could (from 300 ms before the first voiced
    frame, never before the previous cut's end); the end stays the shipped rule's. With
    `rule.outward` it is never after the first voiced frame; with `energy` (the same cuts by the
    shipped rule without its faint fallback: the energy onset and its 90 ms pre-roll) it is the
    earlier of the two.
    """
    out: list[Any] = []
    for i, (c, at) in enumerate(cuts):
        lo = max(c.speech_start - 0.3, out[-1][0].end if out else 0.0, 0.0)
        k0, k1 = int(np.ceil(lo / FRAME_S - 1e-6)), int(c.end / FRAME_S + 1e-6)
        first, last = _voiced(c)
        a, _ = walk(p, k0, k1, first, last, rule)
        if rule.outward:
            a = min(a, max(k0, first))
        start = max(lo, a * FRAME_S - rule.pre)
        if energy is not None:
            twin = energy[i][0]
            assert abs(twin.speech_start - c.speech_start) < 1e-9, "the two runs' cuts differ"
            start = min(start, twin.start)
        out.append((dataclasses.replace(c, start=start), at))
    return out
