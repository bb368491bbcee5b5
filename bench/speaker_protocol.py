"""Leave-voices-out protocol for the speaker model: choices made on 64 voices, no held-out split.

Why: every choice made on the tune split's 8 voices overfitted (docs/BENCHMARKS.md, Speaker,
rounds 2-3). Here the 56 background voices of ``bench/speaker_corpus.py`` (28 espeak-ng variants
at two pitches and rates) are split into `FOLDS` folds by variant (a variant's two voices stay
together). For each fold, the within-speaker covariance (and any shipped background table) is
fitted on the other folds' voices only; the fold's voices are enrolled (their enrollment speech,
through the sessions' front end, as `balto.speaker.enroll` does) and their dialogue-line segments
at 20/10/5 dB are scored. A "counter" is `DRAWS` random draws of 3 of the fold's voices as
attendants, every other voice of the fold a customer; the figures are averaged over draws and
folds. The tune split is a last fold of its own (its 3 attendants, its 5 customers, its
dialogues; covariance from all 56 background voices).

A customer who is a drawn attendant's twin (the same espeak-ng variant at the other pitch and
rate: the same synthetic vocal tract) is left out of that draw: no split has such a pair by
design (holdout3 and holdout4 have a few by accident: a variant name espeak-ng does not know
falls back to its default voice). Segments without an embedding are left out (unknown for every
variant alike).

Figures per SNR: role accuracy as the mean of the attendants' and the customers' right-role
shares (so the 3-of-14 mix weighs like a counter's ~50/50), customers taken for an attendant,
attendant named right. `table` compares the `VARIANTS` at the same risk: each one's thresholds
are the best background role accuracy at 10 dB taking no more customers for attendants (at 10
and at 20 dB) than the round-2 model does at its shipped thresholds on the same folds.

    python bench/speaker_protocol.py extract     # embeddings cache (under flock, ~5 min)
    python bench/speaker_protocol.py             # the table (under flock, ~1 min)
"""

from __future__ import annotations

import json
import pickle
import sys
import wave
from collections import defaultdict
from dataclasses import dataclass
from multiprocessing import Pool
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from balto.audio.frontend import FrontEnd  # noqa: E402
from balto.speaker import embedding_of, voiceprint  # noqa: E402
from balto.speaker.enroll import speech_of  # noqa: E402
from balto.speaker.features import DIM, embed  # noqa: E402
from balto.speaker.voiceprint import Scorer, Voiceprint, Within, augment  # noqa: E402
from bench.speaker_corpus import (  # noqa: E402
    BACKGROUND,
    CACHE,
    SNRS,
    SPLITS,
    build,
    build_background,
)
from bench.speaker_eval import fit_within, overlapped  # noqa: E402

FOLDS = 4
DRAWS = 150
CACHE_FILE = CACHE / "protocol.pkl"
_VARIANT = {v.name: v.variant for v in BACKGROUND}


def _pcm(path: Path) -> bytes:
    with wave.open(str(path)) as w:
        return w.readframes(w.getnframes())


def _clip_rows(args: tuple[str, dict]) -> list[dict]:
    """Every cut of one clip: its truth voice, SNR, noise and embedding."""
    folder, clip = args
    front = FrontEnd(16_000, 0.5, 15.0)
    pcm = _pcm(Path(folder) / clip["file"])
    cuts = []
    for at in range(0, len(pcm), 8000):
        cuts += front.feed(pcm[at : at + 8000])
    cuts += front.flush()
    rows = []
    for cut in cuts:
        best = overlapped(clip["turns"], cut.start, cut.end)
        rows.append(
            {
                "split": clip["split"],
                "snr": clip["snr"],
                "noise": clip["noise"],
                "voice": best["voice"] if best else None,
                "role": best["role"] if best else None,
                "embedding": embedding_of(cut.voice),
            }
        )
    return rows


def _enrollment(args: tuple[str, str]) -> tuple[str, dict]:
    """One voice's enrollment as `balto.speaker.voiceprint.build` sees it, every copy embedded."""
    name, path = args
    cuts, _, _ = speech_of(_pcm(Path(path)))
    usable = [c for c in cuts if embed(c) is not None]
    clean, noisy = [], []
    for k, pcm in enumerate(usable):
        clean.append(embed(pcm))
        noisy.append([embed(p) for p in augment(pcm, seed=k)])
    return name, {"clean": clean, "noisy": noisy, "cuts": usable}


def extract() -> None:
    """Embed every background and tune clip and every enrollment; cache them (pickle)."""
    bg, corpus = build_background(), build()
    jobs = []
    for index in (bg, corpus):
        meta = json.loads(index.read_text())
        jobs += [
            (str(index.parent), c) for c in meta["clips"] if c["split"] in ("background", "tune")
        ]
    enrolls = []
    for index in (bg, corpus):
        meta = json.loads(index.read_text())
        for name, info in meta["enroll"].items():
            if info["split"] in ("background", "tune"):
                enrolls.append((name, str(index.parent / info["file"])))
    with Pool(2) as pool:
        rows = [r for part in pool.map(_clip_rows, jobs, chunksize=4) for r in part]
        enrolled = dict(pool.map(_enrollment, enrolls))
    CACHE_FILE.write_bytes(pickle.dumps({"rows": rows, "enroll": enrolled}))
    print(f"{len(rows)} segments, {len(enrolled)} enrollments -> {CACHE_FILE}")


def load() -> dict:
    """The cache `extract` wrote."""
    return pickle.loads(CACHE_FILE.read_bytes())


def folds() -> list[list[str]]:
    """The background voices in `FOLDS` folds by variant (fixed, interleaved)."""
    variants = sorted({v.variant for v in BACKGROUND})
    out: list[list[str]] = [[] for _ in range(FOLDS)]
    for i, var in enumerate(variants):
        out[i % FOLDS] += [v.name for v in BACKGROUND if v.variant == var]
    return out


def within_of(rows: list[dict], voices: set[str], shrink: float = 0.3) -> np.ndarray:
    """The within-speaker covariance of `voices`' dialogue segments, as `--fit` makes it."""
    groups = defaultdict(list)
    for r in rows:
        if r["split"] == "background" and r["voice"] in voices and r["embedding"] is not None:
            groups[r["voice"]].append(r["embedding"].astype(np.float64))
    centred = np.concatenate([np.stack(g) - np.mean(g, axis=0) for g in groups.values()])
    cov = np.cov(centred.T)
    return (1 - shrink) * cov + shrink * np.diag(np.diag(cov))


@dataclass
class Fold:
    """One fold's material: who is scored, their enrollments, segments, and the training side."""

    scored: list[str]  # voices that are enrolled / heard
    enrollable: list[str]  # of those, who may be drawn as attendant
    segments: list[dict]  # segments of the scored voices (truth voice, snr, embedding)
    train: set[str]  # background voices the model may learn from


def make_folds(data: dict) -> list[Fold]:
    """The `FOLDS` background folds and the tune fold."""
    rows = data["rows"]
    out = []
    every = {v.name for v in BACKGROUND}
    for f in folds():
        segs = [r for r in rows if r["split"] == "background" and r["voice"] in set(f)]
        out.append(Fold(f, f, segs, every - set(f)))
    tune = SPLITS["tune"]
    names = [v.name for v in tune["attendants"]] + [v.name for v in tune["customers"]]
    segs = [r for r in rows if r["split"] == "tune" and r["voice"] is not None]
    out.append(Fold(names, [v.name for v in tune["attendants"]], segs, every))
    return out


def evaluate(
    fold: Fold,
    scores: np.ndarray,
    truth: np.ndarray,
    att: np.ndarray,
    cus: np.ndarray,
    twins: bool = False,
) -> dict[int, dict[str, np.ndarray]]:
    """Figures per SNR for each threshold pair (score ≤ att → attendant, ≥ cus → customer).

    Background folds: `DRAWS` draws of 3 attendants (seeded); the tune fold: its own 3. Each
    figure is an array over the threshold pairs, averaged over the draws. Unless `twins`, a
    customer who is a drawn attendant's twin (the same espeak-ng variant at another pitch and
    rate: the same vocal tract) is left out of that draw.
    """
    rng = np.random.default_rng(0)
    n = len(fold.enrollable)
    draws = (
        np.arange(3)[None, :]
        if fold.scored != fold.enrollable
        else np.stack([rng.choice(n, 3, replace=False) for _ in range(DRAWS)])
    )
    snr = np.array([r["snr"] for r in fold.segments])
    att, cus = np.asarray(att)[:, None, None], np.asarray(cus)[:, None, None]
    out: dict[int, dict[str, np.ndarray]] = {}
    for level in SNRS:
        sel = snr == level
        s = scores[sel][:, draws]  # segments × draws × 3
        t = truth[sel][:, None]
        best = np.argmin(s, axis=2)
        low = np.take_along_axis(s, best[..., None], axis=2)[..., 0][None]  # 1 × seg × draws
        is_att = (draws[None, :, :] == t[..., None]).any(axis=2)[None]
        if not twins and fold.scored == fold.enrollable:
            variant = np.array([_VARIANT[v] for v in fold.enrollable] + [""])
            twin = (variant[draws][None, :, :] == variant[t][..., None]).any(axis=2)[None]
            keep = is_att | ~twin
        else:
            keep = np.ones_like(is_att)
        right = (
            np.take_along_axis(np.broadcast_to(draws, s.shape), best[..., None], 2)[..., 0] == t
        )[None]
        lab_att, lab_cus = low <= att, low >= cus
        is_cus = ~is_att & keep
        n_att, n_cus = is_att.sum(axis=1), is_cus.sum(axis=1)
        a_role = (lab_att & is_att).sum(axis=1) / np.maximum(n_att, 1)
        c_role = (lab_cus & is_cus).sum(axis=1) / np.maximum(n_cus, 1)
        out[level] = {
            "role": ((a_role + c_role) / 2).mean(axis=1),
            "cus_att": ((lab_att & is_cus).sum(axis=1) / np.maximum(n_cus, 1)).mean(axis=1),
            "named": ((lab_att & right & is_att).sum(axis=1) / np.maximum(n_att, 1)).mean(axis=1),
            "unknown": ((~lab_att & ~lab_cus & keep).sum(axis=1) / keep.sum(axis=1)).mean(axis=1),
        }
    return out


def voiceprint_of(name: str, data: dict) -> Voiceprint:
    """The voiceprint `balto.speaker.voiceprint.build` makes of the cached enrollment."""
    e = data["enroll"][name]
    every = list(e["clean"]) + [a for copies in e["noisy"] for a in copies if a is not None]
    centre = np.mean(e["clean"], axis=0)
    spread = np.mean((np.stack(every) - centre) ** 2, axis=0)
    return Voiceprint(centre.astype(np.float32), spread.astype(np.float32))


@dataclass(frozen=True)
class Variant:
    """A way of scoring: discriminant directions, own-spread weight, shrinkage, calibration."""

    label: str
    dims: int = DIM  # DIM: no projection (the round-2 model)
    own: float = 0.3
    shrink: float = 0.3
    norm: str | None = None  # "z" or "ratio": per voiceprint, against background segments
    drop: tuple[int, ...] = ()  # embedding numbers left out (round 5: the c11-c19 spreads)


def scores(fold: Fold, data: dict, v: Variant) -> tuple[np.ndarray, np.ndarray, Fold]:
    """Distance of every segment (with an embedding) to every enrollable voice of the fold.

    The model is fitted on the fold's training voices only, and applied through `Scorer.of`.
    """
    rows = data["rows"]
    groups: dict[str, list[np.ndarray]] = defaultdict(list)
    for r in rows:
        if r["split"] == "background" and r["voice"] in fold.train and r["embedding"] is not None:
            groups[r["voice"]].append(r["embedding"].astype(np.float64))
    model = fit_within([np.stack(g) for g in groups.values()], v.shrink, v.dims, v.drop)
    if v.dims == DIM:
        model = Within(model.covariance, np.eye(DIM))
    segs = [r for r in fold.segments if r["embedding"] is not None]
    emb = np.stack([r["embedding"] for r in segs]).astype(np.float64)
    impostors = np.concatenate([np.stack(g) for g in groups.values()])
    idx = {n: i for i, n in enumerate(fold.enrollable)}
    truth = np.array([idx.get(r["voice"], -1) for r in segs])
    out = np.zeros((len(segs), len(fold.enrollable)))
    saved, voiceprint.OWN_SPREAD = voiceprint.OWN_SPREAD, v.own
    try:
        for j, name in enumerate(fold.enrollable):
            scorer = Scorer.of(voiceprint_of(name, data), model)
            out[:, j] = _distances(scorer, emb)
            if v.norm:
                imp = _distances(scorer, impostors)
                mu, sd = imp.mean(), imp.std()
                out[:, j] = (out[:, j] - mu) / sd if v.norm == "z" else out[:, j] / mu
    finally:
        voiceprint.OWN_SPREAD = saved
    return out, truth, Fold(fold.scored, fold.enrollable, segs, fold.train)


def _distances(scorer: Scorer, emb: np.ndarray) -> np.ndarray:
    """`Scorer.distance` of many embeddings at once."""
    d = emb @ scorer.projection.T - scorer.centre
    return np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", d, scorer.precision, d), 0) / d.shape[1])


VARIANTS = (
    Variant("round 2 model (shipped form), covariance refitted per fold"),
    Variant("own spread 0.6", own=0.6),
    Variant("Z-norm per voiceprint (background segments)", norm="z"),
    Variant("distance / voiceprint's mean impostor distance", norm="ratio"),
    Variant("LDA 16 directions", dims=16),
    Variant("LDA 20 directions", dims=20),
    Variant("LDA 24 directions", dims=24),
    Variant("LDA 28 directions", dims=28),
    Variant("LDA 24, own spread 0.6", dims=24, own=0.6),
    Variant("LDA 24, shrink 0.1", dims=24, shrink=0.1),
    Variant("LDA 24 without the c11-c19 spreads (round 5)", dims=24, drop=tuple(range(29, 38))),
)


def figures(data: dict, v: Variant, att: np.ndarray, cus: np.ndarray) -> list[dict]:
    """Per fold (4 background, then tune), per SNR, per threshold pair."""
    out = []
    for fold in make_folds(data):
        s, truth, f = scores(fold, data, v)
        out.append(evaluate(f, s, truth, att, cus))
    return out


def _fmt(p: dict, i: int, snr: int) -> str:
    return " / ".join(f"{100 * p[snr][k][i]:.1f}" for k in ("role", "cus_att", "named"))


def table(data: dict) -> None:
    """Every variant at the shipped model's risk: its thresholds chosen on the protocol.

    The shipped form at its thresholds (1.15 / 1.20) sets the level: the share of customers the
    background folds take for attendants at 10 and at 20 dB. Each variant's thresholds are the
    best mean role accuracy at 10 dB over the background folds with customers taken at most that
    at both SNRs (grid step 0.01, unknown band 0.05 or 0.10, as the bench's sweep).
    """
    base = figures(data, VARIANTS[0], np.array([1.15]), np.array([1.20]))
    level = {snr: np.mean([p[snr]["cus_att"][0] for p in base[:4]]) for snr in (10, 20)}
    print(f"level: customers taken {100 * level[10]:.1f}% at 10 dB, {100 * level[20]:.1f}% at 20")
    print(
        "| variant | thresholds | background 20 dB | background 10 dB | background 5 dB"
        " | tune 20 dB | tune 10 dB | tune 5 dB | 10 dB per background fold (role) |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for v in VARIANTS:
        grid = np.arange(-5.0, 1.0, 0.02) if v.norm == "z" else np.arange(0.3, 2.5, 0.01)
        att = np.repeat(grid, 2)
        cus = att + np.tile([0.05, 0.10] if v.norm != "ratio" else [0.025, 0.05], len(grid))
        per = figures(data, v, att, cus)
        bg = {
            snr: {k: np.mean([p[snr][k] for p in per[:4]], axis=0) for k in per[0][snr]}
            for snr in SNRS
        }
        ok = (bg[10]["cus_att"] <= level[10] + 1e-9) & (bg[20]["cus_att"] <= level[20] + 1e-9)
        i = int(np.argmax(np.where(ok, bg[10]["role"], -1.0)))
        folds_ = ", ".join(f"{100 * p[10]['role'][i]:.1f}" for p in per[:4])
        print(
            f"| {v.label} | {att[i]:.2f} / {cus[i]:.2f} | {_fmt(bg, i, 20)} | {_fmt(bg, i, 10)}"
            f" | {_fmt(bg, i, 5)} | {_fmt(per[4], i, 20)} | {_fmt(per[4], i, 10)}"
            f" | {_fmt(per[4], i, 5)} | {folds_} |",
            flush=True,
        )


if __name__ == "__main__":
    if sys.argv[1:] == ["extract"]:
        extract()
    else:
        table(load())
