"""Counter noises for segmenter tests: a scanner's tone and a door slam (float samples, 16 kHz)."""

from __future__ import annotations

import numpy as np

SR = 16000


def tone(freq: float, seconds: float, level_dbfs: float = -12.0) -> np.ndarray:
    """A sine of `freq` Hz at `level_dbfs` (a scanner's beep)."""
    t = np.arange(int(seconds * SR)) / SR
    return np.asarray(10 ** (level_dbfs / 20) * np.sin(2 * np.pi * freq * t))


def slam(seed: int, seconds: float, decay_s: float) -> np.ndarray:
    """A door slam: a broadband crack and a low thud, ringing down exponentially."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    crack = rng.standard_normal(n) * np.exp(-np.arange(n) / (decay_s * SR))
    thud = np.zeros(n)
    for i in range(1, n):  # one-pole low-pass
        thud[i] = 0.95 * thud[i - 1] + 0.05 * crack[i]
    return 0.5 * (0.5 * crack + 3.0 * thud)
