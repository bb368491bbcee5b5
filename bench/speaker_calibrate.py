"""Round 7, second probe: the attendant threshold calibrated on a counter's own traffic.

Why: the shipped threshold (1.14) was chosen on espeak-ng voices and is too loose for recorded
ones (round 5). A counter hears its few attendants all day and many customers once, so the
nearest-voiceprint distances of its segments should fall in two groups; a two-Gaussian mixture on
their logarithm (EM, numpy) places a threshold without labels: the far group's 2% lower tail
(``tail2%``), the point where the far group becomes the likelier (``post.5``), or the smaller of
the two (``min``). Here a "counter" is one split at one SNR (~170 segments, all its dialogues).
Needs ``bench/speaker_session.py rows`` first. Tuning splits only by default.

    python bench/speaker_calibrate.py [tune,mbrola_tune]
"""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.speaker_session import load  # noqa: E402

FIXED = 1.14


def mixture(x: np.ndarray, iters: int = 200) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weights, means and deviations of a two-Gaussian mixture fitted to `x` by EM."""
    mu = np.percentile(x, [25, 75]).astype(float)
    sd = np.full(2, x.std() / 2)
    w = np.full(2, 0.5)
    for _ in range(iters):
        p = w / sd * np.exp(-0.5 * ((x[:, None] - mu) / sd) ** 2)
        r = p / p.sum(1, keepdims=True)
        n = r.sum(0)
        w, mu = n / len(x), (r * x[:, None]).sum(0) / n
        sd = np.sqrt((r * (x[:, None] - mu) ** 2).sum(0) / n) + 1e-3
    order = np.argsort(mu)
    return w[order], mu[order], sd[order]


def thresholds(x: np.ndarray) -> dict[str, float]:
    """The candidate thresholds (module docstring) for log-distances `x`."""
    w, mu, sd = mixture(x)
    grid = np.linspace(x.min(), x.max(), 2000)
    dens = w / sd * np.exp(-0.5 * ((grid[:, None] - mu) / sd) ** 2)
    cross = float(grid[np.argmax((dens[:, 1] > dens[:, 0]) & (grid > mu[0]))])
    tail = float(mu[1] - 2.054 * sd[1])
    return {
        "fixed": FIXED,
        "tail2%": float(np.exp(tail)),
        "post.5": float(np.exp(cross)),
        "min": float(np.exp(min(tail, cross))),
    }


def main() -> None:
    rows, voices = load()
    splits = sys.argv[1].split(",") if len(sys.argv) > 1 else ["tune", "mbrola_tune"]
    for split in splits:
        for snr in (20, 10, 5):
            near = []
            for r in rows:
                if r["split"] != split or r["snr"] != snr or r["embedding"] is None:
                    continue
                d = {v.atendente_id: v.scorer.distance(r["embedding"]) for v in voices[split]}
                a = min(d, key=d.__getitem__)
                near.append((d[a], a, r))
            cands = thresholds(np.log([d for d, _, _ in near]))
            for name, t in cands.items():
                n: dict[str, int] = defaultdict(int)
                for d, a, r in near:
                    if r["role"] is None:
                        continue
                    label = "atendente" if d <= t else "cliente"
                    n["all"] += 1
                    n["ok"] += label == r["role"]
                    if r["role"] == "cliente":
                        n["cus"] += 1
                        n["taken"] += label == "atendente"
                    else:
                        n["att"] += 1
                        n["named"] += label == "atendente" and a == r["voice"]
                print(
                    f"{split:12s} {snr:2d} dB {name:7s} threshold {t:.2f}:"
                    f" role {100 * n['ok'] / n['all']:.1f}"
                    f" customers taken {100 * n['taken'] / n['cus']:.1f}"
                    f" named {100 * n['named'] / n['att']:.1f}"
                )


if __name__ == "__main__":
    main()
