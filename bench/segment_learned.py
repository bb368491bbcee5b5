"""Probe: segment edges placed by a learned frame classifier inside the segmenter's cuts.

Why: issue 17's boundary bar (start and end p90 <= 150 ms on held-out voices at 20/10/5 dB, no
clipped word) fails because the frame energy cannot see speech under the noise: where the stream
is faint the trimming keeps the untrimmed margins (300 ms pre-roll), and Silero VAD (tenth
session, `bench/segment_silero.py`) calls far babble speech. This asks whether a classifier trained
on this corpus's own tuning sets, reading each 30 ms frame's 16 mel-band levels over their own
noise floors (the 10th percentile of the previous 3 s, causal) with three frames of context each
side, places the edges better. Truth per frame: clean speech of its utterance no more than 10 dB
under the noise (what `bench/segment_eval.py` counts as audible).

The segmenter still finds the segments (untrimmed margins). Edge rules:
- first / last frame the classifier calls speech (p >= ``--threshold``) anywhere in what the cut
  may hold, minus ``--pre`` / plus ``--pad`` (the default);
- ``--walk``: from the VAD's first / last voiced frame, walked outwards over the frames >= the
  threshold (``--dip`` quiet frames stepped over), or inwards to the first / last such frame when
  the VAD's own edge is not speech; ``--reach`` lets the end grow up to the moment the cut was
  handed out;
- ``--starts-only``: the shipped (trimmed) cuts with only their starts walked.

    .venv/bin/python bench/segment_learned.py features   # design matrices (~1 min; the extra
                                                         # corpus is generated first, ~3 min)
    .venv/bin/python bench/segment_learned.py train [--model hgb|logreg] [--more]
    .venv/bin/python bench/segment_learned.py sweep [--walk] [--reach] [--pads 0.06,0.12]
    .venv/bin/python bench/segment_learned.py table [--set all] [--walk|--starts-only] [--reach]
        [--threshold 0.5] [--pre 0.06] [--pad 0.15]

``train`` scores tune with a model fitted on tune2 and tune2 with one fitted on tune (so ``sweep``
chooses the rule on tuning clips no model saw), the held-out sets with one fitted on both;
``--more`` adds the extra corpus's training sets (`bench/segment_extra_corpus.py`: train3 with
tune's dialogues beside tune2 for tune, train4 with tune2's beside tune for tune2, both for the
final model). ``sweep-starts`` sweeps the starts-only rules. Needs
scikit-learn (the ``train`` extra). Nothing here is shipped (docs/BENCHMARKS.md, segment
boundaries, twelfth session).
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import pickle
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._segment_edges import Rule, refine, starts_only  # noqa: E402
from bench._segment_frames import WORK, clips, cuts, features  # noqa: E402

TUNE = ("tune", "tune2")
TREES = 200
LEAVES = 15
FOLDS = {"tune": ("tune2",), "tune2": ("tune",)}
"""Each tuning set's out-of-fold model is fitted on these; `MORE` adds to them."""
MORE = {"tune": ("train4",), "tune2": ("train3",)}
"""train3 speaks tune's dialogues and train4 tune2's: each fold gets the one whose words it
does not score."""


def _model(model: str) -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if model == "logreg":
        return make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=2000))
    return HistGradientBoostingClassifier(
        max_iter=TREES, learning_rate=0.1, max_leaf_nodes=LEAVES, random_state=0
    )


def _probs_name(model: str, more: bool) -> str:
    return f"probs_{model}{'_more' if more else ''}.pkl"


def train(model: str, more: bool) -> None:
    """Out-of-fold probabilities on the tuning sets, the final model's on every other clip.

    Prints the frame AUC per set and SNR.
    """
    from sklearn.metrics import roc_auc_score

    data = pickle.loads((WORK / "features.pkl").read_bytes())
    meta = {c: m for c, (_, m) in clips().items()}

    def fit(sets: tuple[str, ...]) -> Any:
        tr = [c for c in data if meta[c]["set"] in sets]
        clf = _model(model)
        clf.fit(np.concatenate([data[c][0] for c in tr]), np.concatenate([data[c][1] for c in tr]))
        return clf

    extra = MORE if more else {"tune": (), "tune2": ()}
    folds = {s: fit(FOLDS[s] + extra[s]) for s in TUNE}
    final = fit(TUNE + (("train3", "train4") if more else ()))
    probs = {c: folds.get(meta[c]["set"], final).predict_proba(data[c][0])[:, 1] for c in data}
    (WORK / _probs_name(model, more)).write_bytes(pickle.dumps(probs))
    groups: dict[tuple[str, int], list[str]] = {}
    for c in data:
        groups.setdefault((meta[c]["set"], meta[c]["snr_db"]), []).append(c)
    for (s, snr), cs in sorted(groups.items()):
        yy = np.concatenate([data[c][1] for c in cs])
        pp = np.concatenate([probs[c] for c in cs])
        print(f"{s:9s} {snr:2d} dB  frame AUC {roc_auc_score(yy, pp):.3f}")


def sweep_starts(probs_file: str, rule: Rule) -> None:
    """The starts-only rules on the tuning sets (out-of-fold), per SNR."""
    from bench.segment_eval import SNRS, Tally, score

    shipped, nofaint = cuts("shipped"), cuts("nofaint")
    probs = pickle.loads((WORK / probs_file).read_bytes())
    base: dict[int, Tally] = {}
    for clip, (meta, cs) in cuts("untrimmed").items():
        if meta["set"] in TUNE:
            score(clip, meta, cs, base.setdefault(meta["snr_db"], Tally()))
    grid = itertools.product((0.4, 0.5, 0.6, 0.7), (0.03, 0.06, 0.09), (2, 4), (False, True))
    for (t, pre, dip, outward), joined in itertools.product(grid, (False, True)):
        r = dataclasses.replace(rule, threshold=t, pre=pre, dip=dip, outward=outward)
        got: dict[int, Tally] = {}
        for clip, (meta, cs) in shipped.items():
            if meta["set"] in TUNE:
                new = starts_only(cs, probs[clip], r, nofaint[clip][1] if joined else None)
                score(clip, meta, new, got.setdefault(meta["snr_db"], Tally()))
        cells = []
        for snr in SNRS:
            g, b = got[snr], base[snr]
            lead = np.percentile(np.abs(g.leads), 90) * 1000
            lost = len(g.heard_keys - b.heard_keys)
            cells.append(f"{lead:4.0f} {g.heard_clipped_words:3d} {lost:2d}")
        print(
            f"t {t} pre {pre} dip {dip} outward {outward:d} joined {joined:d} | "
            + " | ".join(cells),
            flush=True,
        )


def sweep(probs_file: str, rule: Rule, pads: tuple[float, ...]) -> None:
    """Threshold x pre-roll x pad on the tuning sets (out-of-fold probabilities), per SNR."""
    from bench.segment_eval import SNRS, Tally, score

    doc = {c: v for c, v in cuts("untrimmed").items() if v[0]["set"] in TUNE}
    probs = pickle.loads((WORK / probs_file).read_bytes())
    base: dict[int, Tally] = {}
    for clip, (meta, cs) in doc.items():
        score(clip, meta, cs, base.setdefault(meta["snr_db"], Tally()))
    for t in (0.3, 0.4, 0.5, 0.6, 0.7):
        for pre in (0.06, 0.09, 0.12):
            for pad in pads:
                r = dataclasses.replace(rule, threshold=t, pre=pre, pad=pad)
                got: dict[int, Tally] = {}
                for clip, (meta, cs) in doc.items():
                    new = refine(cs, probs[clip], r)
                    score(clip, meta, new, got.setdefault(meta["snr_db"], Tally()))
                cells = []
                for snr in SNRS:
                    g, b = got[snr], base[snr]
                    lead = np.percentile(np.abs(g.leads), 90) * 1000
                    lag = np.percentile(np.abs(g.lags), 90) * 1000
                    lost = len(g.heard_keys - b.heard_keys)
                    cells.append(f"{lead:4.0f} {lag:4.0f} {g.heard_clipped_words:3d} {lost:2d}")
                print(f"t {t} pre {pre} pad {pad} | " + " | ".join(cells), flush=True)


def table(sets: list[str], probs_file: str, rule: Rule, starts: bool, shipped_only: bool) -> None:
    """The segment_eval table for the refined cuts (the untrimmed cuts as its baseline).

    `shipped_only`: the shipped rule's own cuts, unchanged (its table on the same clips).
    """
    from bench.segment_eval import HEADER, SNRS, Tally, row, score

    doc = cuts("untrimmed")
    shipped = cuts("shipped") if starts or shipped_only else {}
    probs = pickle.loads((WORK / probs_file).read_bytes())
    got: dict[tuple[str, int | None], Tally] = {}
    base: dict[tuple[str, int | None], Tally] = {}
    for clip, (meta, cs) in doc.items():
        if meta["set"] not in sets:
            continue
        if shipped_only:
            new = shipped[clip][1]
        elif starts:
            new = starts_only(shipped[clip][1], probs[clip], rule)
        else:
            new = refine(cs, probs[clip], rule)
        for key in ((meta["set"], meta["snr_db"]), (meta["set"], None)):
            score(clip, meta, new, got.setdefault(key, Tally()))
            score(clip, meta, cs, base.setdefault(key, Tally()))
    print("the shipped rule" if shipped_only else f"{probs_file}: {rule}, starts only: {starts}")
    print(HEADER)
    for s in sets:
        for snr in SNRS:
            print(row(f"{s} {snr} dB", got[(s, snr)], base[(s, snr)]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("step", choices=("features", "train", "sweep", "sweep-starts", "table"))
    parser.add_argument("--model", default="hgb", choices=("hgb", "logreg"))
    parser.add_argument("--set", default="tune,tune2")
    parser.add_argument("--threshold", type=float, default=0.5)
    parser.add_argument("--pre", type=float, default=0.06)
    parser.add_argument("--pad", type=float, default=0.15)
    parser.add_argument("--pads", default="0.06,0.09,0.12,0.15")
    parser.add_argument("--walk", action="store_true")
    parser.add_argument("--reach", action="store_true")
    parser.add_argument("--dip", type=int, default=2)
    parser.add_argument("--starts-only", action="store_true")
    parser.add_argument("--more", action="store_true", help="train3 and train4 in training")
    parser.add_argument("--shipped", action="store_true", help="the shipped rule's table")
    args = parser.parse_args()
    probs = _probs_name(args.model, args.more)
    rule = Rule(
        args.threshold, args.pre, args.pad, args.walk or args.starts_only, args.reach, args.dip
    )
    if args.step == "features":
        return features()
    if args.step == "train":
        return train(args.model, args.more)
    if args.step == "sweep-starts":
        return sweep_starts(probs, rule)
    if args.step == "sweep":
        return sweep(probs, rule, tuple(float(x) for x in args.pads.split(",")))
    from bench.segment_extra_corpus import EXTRA_SETS
    from tests.fixtures.make_voice_corpus import SETS

    sets = [*SETS, *EXTRA_SETS] if args.set == "all" else args.set.split(",")
    return table(sets, probs, rule, args.starts_only, args.shipped)


if __name__ == "__main__":
    main()
