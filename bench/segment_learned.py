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

    .venv/bin/python bench/segment_learned.py features   # every clip's design matrix (~30 s)
    .venv/bin/python bench/segment_learned.py train [--model hgb|logreg]
    .venv/bin/python bench/segment_learned.py sweep [--walk] [--reach] [--pads 0.06,0.12]
    .venv/bin/python bench/segment_learned.py table [--set all] [--walk|--starts-only] [--reach]
        [--threshold 0.5] [--pre 0.06] [--pad 0.15]

``train`` scores tune with a model fitted on tune2 and tune2 with one fitted on tune (so ``sweep``
chooses the rule on tuning clips no model saw), the held-out sets with one fitted on both. Needs
scikit-learn (the ``train`` extra). Nothing here is shipped (docs/BENCHMARKS.md, segment
boundaries, twelfth session).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import pickle
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SR = 16_000
FRAME = 480  # the segmenter's 30 ms frame
FRAME_S = FRAME / SR
N_BANDS = 16
FLOOR_FRAMES = 100  # 3 s of history for each band's floor
FLOOR_Q = 10.0
CONTEXT = 3  # frames each side
WORK = ROOT / "var" / "cache" / "segment_learned"
TUNE = ("tune", "tune2")
TREES = 200
LEAVES = 15


def band_matrix() -> np.ndarray:
    """Mel-spaced triangular bands over the 480-point FFT's bins, 100-7600 Hz."""
    freqs = np.fft.rfftfreq(FRAME, 1 / SR)
    mel = lambda f: 2595 * np.log10(1 + f / 700)  # noqa: E731
    edges_mel = np.linspace(mel(100), mel(7600), N_BANDS + 2)
    edges = 700 * (10 ** (edges_mel / 2595) - 1)
    m = np.zeros((len(freqs), N_BANDS))
    for b in range(N_BANDS):
        lo, mid, hi = edges[b], edges[b + 1], edges[b + 2]
        up = (freqs - lo) / (mid - lo)
        down = (hi - freqs) / (hi - mid)
        m[:, b] = np.clip(np.minimum(up, down), 0, None)
    return m


def band_levels(pcm: bytes) -> np.ndarray:
    """Each 30 ms frame's band powers in dB, (frames, N_BANDS)."""
    x = np.frombuffer(pcm, "<i2").astype(np.float64) / 32768
    n = len(x) // FRAME
    frames = x[: n * FRAME].reshape(n, FRAME) * np.hanning(FRAME)
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
    return 10 * np.log10(power @ band_matrix() + 1e-10)


def floors(levels: np.ndarray) -> np.ndarray:
    """Each frame's causal band floors: the `FLOOR_Q` percentile of the previous 3 s."""
    pad = np.concatenate([np.repeat(levels[:1], FLOOR_FRAMES - 1, axis=0), levels])
    win = np.lib.stride_tricks.sliding_window_view(pad, FLOOR_FRAMES, axis=0)
    return np.percentile(win, FLOOR_Q, axis=2)


def design(levels: np.ndarray) -> np.ndarray:
    """Per frame: band SNRs of the frame and `CONTEXT` frames each side, and their mean."""
    snr = levels - floors(levels)
    full = np.concatenate([snr, snr.mean(axis=1, keepdims=True)], axis=1)
    n = len(full)
    padded = np.pad(full, ((CONTEXT, CONTEXT), (0, 0)), mode="edge")
    return np.concatenate([padded[k : k + n] for k in range(2 * CONTEXT + 1)], axis=1)


def labels(meta: dict[str, Any], n: int) -> np.ndarray:
    """1 where a 30 ms frame holds speech heard in the mix (10 ms level >= noise - 10 dB)."""
    y = np.zeros(n, dtype=np.int8)
    heard = -meta["snr_db"] - 10.0
    for (a, _b), levels in zip(meta["utterances"], meta["levels"], strict=True):
        for i, lv in enumerate(levels):
            if lv >= heard:
                k = int((a + (i + 0.5) * 0.01) / FRAME_S)
                if k < n:
                    y[k] = 1
    return y


def features() -> None:
    """Design matrices and labels of every clip."""
    from tests.fixtures.make_voice_corpus import ensure, read_pcm

    where = ensure()
    clips = json.loads((where / "corpus.json").read_text())["clips"]
    out = {}
    for clip, meta in clips.items():
        x = design(band_levels(read_pcm(where / f"{clip}.wav")))
        out[clip] = (x.astype(np.float32), labels(meta, len(x)))
    WORK.mkdir(parents=True, exist_ok=True)
    (WORK / "features.pkl").write_bytes(pickle.dumps(out))
    print(f"{len(out)} clips, {out[clip][0].shape[1]} features per frame")


def _clips() -> dict[str, Any]:
    from tests.fixtures.make_voice_corpus import ensure

    return json.loads((ensure() / "corpus.json").read_text())["clips"]  # type: ignore[no-any-return]


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


def train(model: str) -> None:
    """Out-of-fold probabilities on the tuning sets, the final model's on the held-out ones.

    tune's clips are scored by a model fitted on tune2 and the other way round, so the edge
    rule's threshold and margins can be chosen on tuning clips no model saw; the held-out sets
    are scored by the model fitted on both. Prints the frame AUC per set and SNR.
    """
    from sklearn.metrics import roc_auc_score

    data = pickle.loads((WORK / "features.pkl").read_bytes())
    clips = _clips()

    def fit(sets: tuple[str, ...]) -> Any:
        tr = [c for c in data if clips[c]["set"] in sets]
        clf = _model(model)
        clf.fit(np.concatenate([data[c][0] for c in tr]), np.concatenate([data[c][1] for c in tr]))
        return clf

    folds = {"tune": fit(("tune2",)), "tune2": fit(("tune",))}
    final = fit(TUNE)
    (WORK / f"model_{model}.pkl").write_bytes(pickle.dumps(final))
    probs = {c: folds.get(clips[c]["set"], final).predict_proba(data[c][0])[:, 1] for c in data}
    (WORK / f"probs_{model}.pkl").write_bytes(pickle.dumps(probs))
    groups: dict[tuple[str, int], list[str]] = {}
    for c, m in clips.items():
        groups.setdefault((m["set"], m["snr_db"]), []).append(c)
    for (s, snr), cs in sorted(groups.items()):
        yy = np.concatenate([data[c][1] for c in cs])
        pp = np.concatenate([probs[c] for c in cs])
        print(f"{s:9s} {snr:2d} dB  frame AUC {roc_auc_score(yy, pp):.3f}")


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


@dataclasses.dataclass(frozen=True)
class Rule:
    """How the classifier's probabilities move a cut's edges (see the module docstring)."""

    threshold: float = 0.5
    pre: float = 0.06
    pad: float = 0.15
    walk: bool = False
    reach: bool = False
    dip: int = 2


def _voiced(c: Any) -> tuple[int, int]:
    """A cut's first and last voiced frame (the VAD's own edges), as frame indices."""
    return round(c.speech_start / FRAME_S), round(c.speech_end / FRAME_S) - 1


def walk(p: np.ndarray, k0: int, k1: int, first: int, last: int, rule: Rule) -> tuple[int, int]:
    """The speech's first and last frame: from the VAD's, walked over the frames >= t.

    Back from the first voiced frame while the classifier says speech (stepping over
    `rule.dip` quiet frames), or on to its first speech frame when the VAD started early; the same
    forwards from the last voiced frame. Bounded by [k0, k1).
    """
    t = rule.threshold
    first, last = max(k0, min(first, k1 - 1)), max(k0, min(last, k1 - 1))
    a = first
    if p[first] >= t:
        quiet, j = 0, first
        while j - 1 >= k0:
            j -= 1
            if p[j] >= t:
                a, quiet = j, 0
            else:
                quiet += 1
                if quiet > rule.dip:
                    break
    else:
        nxt = np.flatnonzero(p[first : last + 1] >= t)
        if len(nxt):
            a = first + int(nxt[0])
    b = last
    if p[last] >= t:
        quiet, j = 0, last
        while j + 1 < k1:
            j += 1
            if p[j] >= t:
                b, quiet = j, 0
            else:
                quiet += 1
                if quiet > rule.dip:
                    break
    else:
        prev = np.flatnonzero(p[a : last + 1] >= t)
        if len(prev):
            b = a + int(prev[-1])
    return a, b


def shipped_cuts() -> dict[str, Any]:
    """The shipped segmenter's (trimmed) cuts of every clip, cached."""
    from balto.audio.segmenter import SegmenterParams
    from bench.segment_eval import run
    from tests.fixtures.make_voice_corpus import ensure, read_pcm

    where = ensure()
    cache = WORK / f"shipped_{where.name}.pkl"
    if cache.exists():
        return pickle.loads(cache.read_bytes())  # type: ignore[no-any-return]
    clips = json.loads((where / "corpus.json").read_text())["clips"]
    doc = {c: (m, run(read_pcm(where / f"{c}.wav"), SegmenterParams())) for c, m in clips.items()}
    cache.write_bytes(pickle.dumps(doc))
    return doc


def starts_only(cuts: list[Any], p: np.ndarray, rule: Rule) -> list[Any]:
    """The shipped cuts with only their starts placed by the classifier's walk.

    The start may lie anywhere the untrimmed start could (from 300 ms before the first voiced
    frame, never before the previous cut's end); the end stays the shipped rule's.
    """
    out: list[Any] = []
    for c, at in cuts:
        lo = max(c.speech_start - 0.3, out[-1][0].end if out else 0.0, 0.0)
        k0, k1 = int(np.ceil(lo / FRAME_S - 1e-6)), int(c.end / FRAME_S + 1e-6)
        a, _ = walk(p, k0, k1, *_voiced(c), rule)
        out.append((dataclasses.replace(c, start=max(lo, a * FRAME_S - rule.pre)), at))
    return out


def sweep(model: str, rule: Rule, pads: tuple[float, ...]) -> None:
    """Threshold x pre-roll x pad on the tuning sets (out-of-fold probabilities), per SNR."""
    from bench.segment_eval import SNRS, Tally, score
    from bench.segment_silero import _cuts

    doc = {c: v for c, v in _cuts().items() if v[0]["set"] in TUNE}
    probs = pickle.loads((WORK / f"probs_{model}.pkl").read_bytes())
    base: dict[int, Tally] = {}
    for clip, (meta, cuts) in doc.items():
        score(clip, meta, cuts, base.setdefault(meta["snr_db"], Tally()))
    for t in (0.3, 0.4, 0.5, 0.6, 0.7):
        for pre in (0.06, 0.09, 0.12):
            for pad in pads:
                r = dataclasses.replace(rule, threshold=t, pre=pre, pad=pad)
                got: dict[int, Tally] = {}
                for clip, (meta, cuts) in doc.items():
                    new = refine(cuts, probs[clip], r)
                    score(clip, meta, new, got.setdefault(meta["snr_db"], Tally()))
                cells = []
                for snr in SNRS:
                    g, b = got[snr], base[snr]
                    lead = np.percentile(np.abs(g.leads), 90) * 1000
                    lag = np.percentile(np.abs(g.lags), 90) * 1000
                    lost = len(g.heard_keys - b.heard_keys)
                    cells.append(f"{lead:4.0f} {lag:4.0f} {g.heard_clipped_words:3d} {lost:2d}")
                print(f"t {t} pre {pre} pad {pad} | " + " | ".join(cells), flush=True)


def table(sets: list[str], model: str, rule: Rule, starts: bool) -> None:
    """The segment_eval table for the refined cuts (the untrimmed cuts as its baseline)."""
    from bench.segment_eval import HEADER, SNRS, Tally, row, score
    from bench.segment_silero import _cuts

    doc = _cuts()
    shipped = shipped_cuts() if starts else {}
    probs = pickle.loads((WORK / f"probs_{model}.pkl").read_bytes())
    got: dict[tuple[str, int | None], Tally] = {}
    base: dict[tuple[str, int | None], Tally] = {}
    for clip, (meta, cuts) in doc.items():
        if meta["set"] not in sets:
            continue
        if starts:
            new = starts_only(shipped[clip][1], probs[clip], rule)
        else:
            new = refine(cuts, probs[clip], rule)
        for key in ((meta["set"], meta["snr_db"]), (meta["set"], None)):
            score(clip, meta, new, got.setdefault(key, Tally()))
            score(clip, meta, cuts, base.setdefault(key, Tally()))
    print(f"{model}: {rule}, starts only: {starts}")
    print(HEADER)
    for s in sets:
        for snr in SNRS:
            print(row(f"{s} {snr} dB", got[(s, snr)], base[(s, snr)]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("step", choices=("features", "train", "sweep", "table"))
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
    args = parser.parse_args()
    rule = Rule(
        args.threshold, args.pre, args.pad, args.walk or args.starts_only, args.reach, args.dip
    )
    if args.step == "features":
        return features()
    if args.step == "train":
        return train(args.model)
    if args.step == "sweep":
        return sweep(args.model, rule, tuple(float(x) for x in args.pads.split(",")))
    from tests.fixtures.make_voice_corpus import SETS

    sets = list(SETS) if args.set == "all" else args.set.split(",")
    return table(sets, args.model, rule, args.starts_only)


if __name__ == "__main__":
    main()
