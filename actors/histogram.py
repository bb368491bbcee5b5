"""A fixed-bucket latency histogram: cheap to update on every message, exported as it is.

The buckets follow Prometheus' defaults (seconds), so `/metrics` can expose the counts unchanged.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

BUCKETS: tuple[float, ...] = (
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)
# The exported bucket names, made once: `str` of 13 floats at every call was a third of the cost
# of a session's snapshot (six histograms).
_LABELS: tuple[str, ...] = (*map(str, BUCKETS), "+Inf")


@dataclass(slots=True)
class Histogram:
    """Counts per upper bound (the last slot is +Inf), their sum and the largest value seen."""

    counts: list[int] = field(default_factory=lambda: [0] * (len(BUCKETS) + 1))
    total: float = 0.0
    count: int = 0
    maximum: float = 0.0

    def observe(self, value: float) -> None:
        """Count one observation of `value` seconds."""
        self.counts[bisect.bisect_left(BUCKETS, value)] += 1
        self.total += value
        self.count += 1
        self.maximum = max(self.maximum, value)

    def quantile(self, q: float) -> float | None:
        """The upper bound of the bucket holding quantile `q` (None before any observation)."""
        if not self.count:
            return None
        rank = q * self.count
        seen = 0
        for bound, n in zip((*BUCKETS, self.maximum), self.counts, strict=True):
            seen += n
            if seen >= rank and n:
                return min(bound, self.maximum)
        return self.maximum

    def snapshot(self) -> dict[str, object]:
        """A JSON-ready summary with the raw buckets."""
        return {
            "count": self.count,
            "sum_s": round(self.total, 6),
            "max_s": round(self.maximum, 6),
            "p50_s": self.quantile(0.5),
            "p99_s": self.quantile(0.99),
            "buckets": dict(zip(_LABELS, self.counts, strict=True)),
        }
