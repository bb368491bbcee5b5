"""What the long-running benches print at the end: each series' growth, fitted by least squares.

`bench/soak.py` fits against sessions served, `bench/long_session.py` against audio hours: a leak
is a slope that stays over both halves of the steady part; a cache filling up, one that flattens.
"""

from __future__ import annotations

import numpy as np


def slope(rows: list[dict], x: str, key: str, per: float = 1.0) -> float:
    """Growth of `key` per `per` units of `x` (least squares over `rows`; nan under two)."""
    if len(rows) < 2:
        return float("nan")
    xs = np.array([r[x] for r in rows], dtype=float)
    ys = np.array([r[key] for r in rows], dtype=float)
    return float(np.polyfit(xs, ys, 1)[0] * per)


def print_growth(steady: list[dict], x: str, series: tuple[str, ...], per: float = 1.0) -> None:
    """One line per series: its slope over `steady`, over its first half, over its second."""
    half = len(steady) // 2
    for key in series:
        print(
            f"  {key}: {slope(steady, x, key, per):+.2f} / {slope(steady[:half], x, key, per):+.2f}"
            f" / {slope(steady[half:], x, key, per):+.2f}"
        )
