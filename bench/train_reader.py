"""Train the advice reader (`balto.advice.reader`) on labelled dialogues; write its model.

    .venv/bin/python bench/train_reader.py [--splits tune,holdout,...,train_a.json] [--cv]
        [--out balto/advice/reader_model.npz] [--c 4.0]

Needs scikit-learn (``pip install -e .[train]``); the runtime does not. Each labelled dialogue of
the advice corpora (format: bench/data/advice_dialogues_*.json) gives examples as the advisor
sees them: where the writer marked the turn a need or sign becomes clear (``turno_necessidade``,
``turno_sinais``), every prefix of the dialogue is an example labelled with what it shows so far;
otherwise only the whole dialogue is. Labels: ``categoria:<catalog category>`` for each of a need
dialogue's categories, ``sinal:<code>`` for each red-flag sign, ``pedido:receita`` for a
prescription ask, ``conversa`` for small talk. Every dialogue is read twice, without roles (as
when nobody is enrolled) and with the writers' roles (as speaker identification gives them).

``--cv`` first runs leave-one-corpus-out: each corpus is scored by a model trained on the others,
per dialogue the way the advisor uses the reader (a label counts once any prefix passes its
threshold). The thresholds are chosen on those out-of-corpus scores (signs: recall first, F2;
needs: F1) and the per-corpus figures are printed, so the shipped thresholds were never chosen on
the data that made the weights they gate.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from balto.advice.reader import (  # noqa: E402
    MODEL,
    NEED_PREFIX,
    RX_ASK,
    SIGN_PREFIX,
    SMALL_TALK,
    terms,
    window_text,
)
from balto.catalog import Catalog  # noqa: E402
from balto.providers import red_flags  # noqa: E402
from balto.providers.ports import Turn  # noqa: E402

DATA = ROOT / "bench" / "data"
SIGN_BETA = 5.0  # a missed sign costs more than a needless referral
NEED_BETA = 1.0
FLOOR_QUANTILE = 0.005
ROLES_MARK = "@papeis"  # a dialogue read with its speakers' roles is another example
DEFAULT_SPLITS = (
    "tune,holdout,holdout2,holdout3,holdout4,holdout5,holdout6,holdout7,holdout8,holdout9,"
    "train_a,train_b,train_c,train_d,holdout10,holdout11,holdout12,holdout13,holdout14,holdout15,holdout16"
)


@dataclass
class Example:
    """One window as the advisor would read it."""

    corpus: str
    dialogue: str
    text: str
    labels: frozenset[str]
    ruled: frozenset[str]  # signs the rules find in this window or an earlier one


def corpus_path(split: str) -> Path:
    """Where corpus `split` is (a name under bench/data, or a path)."""
    if split.endswith(".json"):
        return Path(split)
    return DATA / f"advice_dialogues_{split}.json"


def labels_at(d: dict[str, Any], turn: int | None, otc: set[str]) -> frozenset[str]:
    """What dialogue `d` shows up to `turn` (None: all of it)."""
    found: set[str] = set()
    need_turn = d.get("turno_necessidade")
    if d["kind"] == "need" and (turn is None or need_turn is None or need_turn <= turn):
        found.update(NEED_PREFIX + c for c in d.get("categorias", []) if c in otc)
    if d["kind"] == "prescription":
        found.add(RX_ASK)
    if d["kind"] == "small_talk":
        found.add(SMALL_TALK)
    sign_turns = d.get("turno_sinais") or {}
    for code in d.get("sinais", []):
        at = sign_turns.get(code)
        if turn is None or at is None or at <= turn:
            found.add(SIGN_PREFIX + code)
    return frozenset(found)


def examples(split: str, otc: set[str], *, with_roles: bool) -> list[Example]:
    """The examples of one corpus, read without roles or (`with_roles`) with the writers'."""
    out = []
    for d in json.loads(corpus_path(split).read_text(encoding="utf-8")):
        texts = [t["texto"] for t in d["turns"]]
        roles = [t["falante"] if with_roles else None for t in d["turns"]]
        name = f"{d['id']}{ROLES_MARK if with_roles else ''}"
        ruled: set[str] = set()
        for k in range(len(texts)):
            turns = [Turn(texts[i], roles[i], 4.0 * i, 4.0 * i + 3.0) for i in range(k + 1)]
            ruled.update(SIGN_PREFIX + flag.code for flag in red_flags.ruled(turns))
        marked = d.get("turno_necessidade") is not None or bool(d.get("turno_sinais"))
        ends = range(len(texts)) if marked or d["kind"] in ("small_talk", "prescription") else ()
        for k in ends:
            text = window_text(texts[: k + 1], roles[: k + 1])
            out.append(Example(split, name, text, labels_at(d, k, otc), frozenset(ruled)))
        if not ends:
            text = window_text(texts, roles)
            out.append(Example(split, name, text, labels_at(d, None, otc), frozenset(ruled)))
    return out


def fit(train: Sequence[Example], labels: Sequence[str], c: float) -> tuple[Any, Any]:
    """A TF-IDF vectorizer and one logistic regression per label, fitted on `train`."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vectorizer = TfidfVectorizer(analyzer=terms, sublinear_tf=True, min_df=2, dtype=np.float32)
    x = vectorizer.fit_transform([e.text for e in train])
    models = []
    for label in labels:
        y = np.array([label in e.labels for e in train])
        model = LogisticRegression(C=c, class_weight="balanced", max_iter=3000, solver="liblinear")
        models.append(model.fit(x, y) if y.any() else None)
    return vectorizer, models


def predict(vectorizer: Any, models: Sequence[Any], texts: Sequence[str]) -> npt.NDArray[Any]:
    """Probabilities, one row per text, one column per label."""
    x = vectorizer.transform(texts)
    cols = [m.predict_proba(x)[:, 1] if m is not None else np.zeros(x.shape[0]) for m in models]
    return np.stack(cols, axis=1)


def per_dialogue(exs: Sequence[Example], probs: npt.NDArray[Any]) -> dict[str, Any]:
    """Each dialogue's highest probability per label over its prefixes, and its final labels."""
    best: dict[str, npt.NDArray[Any]] = {}
    truth: dict[str, frozenset[str]] = {}
    ruled: dict[str, frozenset[str]] = {}
    for e, row in zip(exs, probs, strict=True):
        best[e.dialogue] = np.maximum(best.get(e.dialogue, row), row)
        truth[e.dialogue] = truth.get(e.dialogue, frozenset()) | e.labels
        ruled[e.dialogue] = ruled.get(e.dialogue, frozenset()) | e.ruled
    return {"best": best, "truth": truth, "ruled": ruled}


def choose(
    scores: npt.NDArray[Any], truth: npt.NDArray[Any], ruled: npt.NDArray[Any], beta: float
) -> float:
    """The threshold maximising F-beta of `scores` (or the rules) against boolean `truth`."""
    best_t, best_f = 0.5, -1.0
    for t in np.arange(0.05, 0.96, 0.01):
        pred = (scores >= t) | ruled
        tp = float((pred & truth).sum())
        fp = float((pred & ~truth).sum())
        fn = float((~pred & truth).sum())
        denom = (1 + beta**2) * tp + beta**2 * fn + fp
        f = (1 + beta**2) * tp / denom if denom else 0.0
        if f > best_f:
            best_t, best_f = float(t), f
    return best_t


def cross_validate(
    exs: Sequence[Example], labels: Sequence[str], c: float
) -> tuple[npt.NDArray[Any], float]:
    """Leave-one-corpus-out scores; the thresholds and the need floor on them."""
    corpora = sorted({e.corpus for e in exs})
    held: dict[str, Any] = {}
    needs = [j for j, lab in enumerate(labels) if _asks(lab)]
    windows: list[tuple[bool, float]] = []
    for corpus in corpora:
        train = [e for e in exs if e.corpus != corpus]
        test = [e for e in exs if e.corpus == corpus]
        vectorizer, models = fit(train, labels, c)
        probs = predict(vectorizer, models, [e.text for e in test])
        held[corpus] = per_dialogue(test, probs)
        for e, best in zip(test, probs[:, needs].max(axis=1), strict=True):
            windows.append((any(_asks(lab) for lab in e.labels), float(best)))
        print(f"  cv: {corpus} scored ({len(test)} windows)", flush=True)
    rows = [(corpus, d) for corpus in corpora for d in held[corpus]["best"]]
    scores = np.stack([held[corpus]["best"][d] for corpus, d in rows])
    truth = np.array([[lab in held[corpus]["truth"][d] for lab in labels] for corpus, d in rows])
    ruled = np.array([[lab in held[corpus]["ruled"][d] for lab in labels] for corpus, d in rows])
    thresholds = np.array(
        [
            choose(scores[:, j], truth[:, j], ruled[:, j], SIGN_BETA)
            if lab.startswith(SIGN_PREFIX)
            else choose(scores[:, j], truth[:, j], np.zeros_like(ruled[:, j]), NEED_BETA)
            for j, lab in enumerate(labels)
        ]
    )
    report(labels, thresholds, held)
    return thresholds, need_floor(windows)


def _asks(label: str) -> bool:
    """Whether `label` is something asked for: a need's category, or a prescription drug."""
    return label.startswith(NEED_PREFIX) or label == RX_ASK


def need_floor(windows: Sequence[tuple[bool, float]]) -> float:
    """The probability under which a window shows no need, chosen out of corpus.

    Every window was scored by a model that never saw its corpus; the floor is the
    `FLOOR_QUANTILE` of the highest category probability of the windows that show a need, so
    about one need window in 200 falls under it.
    """
    shown = [p for is_need, p in windows if is_need]
    empty = [p for is_need, p in windows if not is_need]
    floor = float(np.quantile(shown, FLOOR_QUANTILE))
    under = sum(p < floor for p in empty)
    print(
        f"need floor {floor:.3f}: {sum(p < floor for p in shown)}/{len(shown)} need windows "
        f"under it, {under}/{len(empty)} windows without a need under it"
    )
    return floor


def report(labels: Sequence[str], thresholds: npt.NDArray[Any], held: dict[str, Any]) -> None:
    """Per corpus, out of corpus: signs found / missed / false, needs' top category right."""
    signs = [j for j, lab in enumerate(labels) if lab.startswith(SIGN_PREFIX)]
    needs = [j for j, lab in enumerate(labels) if lab.startswith(NEED_PREFIX)]
    print(
        "corpus | signs read | false signs read (dialogues) | signs by rules | signs read or "
        "ruled | false signs read or ruled | needs: a right category passes | needs: nothing "
        "passes | categories on dialogues without a need"
    )
    for corpus, h in held.items():
        found = total = false = need_ok = need_none = need_total = stray = 0
        found_any = false_any = by_rules = 0
        for d, row in h["best"].items():
            truth = h["truth"][d]
            passed = {labels[j] for j in range(len(labels)) if row[j] >= thresholds[j]}
            alerted = passed | h["ruled"][d]
            for j in signs:
                total += labels[j] in truth
                found += labels[j] in truth and labels[j] in passed
                found_any += labels[j] in truth and labels[j] in alerted
                by_rules += labels[j] in truth and labels[j] in h["ruled"][d]
            false += any(labels[j] in passed and labels[j] not in truth for j in signs)
            false_any += any(labels[j] in alerted and labels[j] not in truth for j in signs)
            cats = {labels[j] for j in needs} & passed
            if any(labels[j] in truth for j in needs):
                need_total += 1
                need_ok += bool(cats & truth)
                need_none += not cats
            else:
                stray += bool(cats)
        print(
            f"{corpus} | {found}/{total} | {false} | {by_rules}/{total} | {found_any}/{total} | "
            f"{false_any} | {need_ok}/{need_total} | {need_none} | {stray}"
        )


def borrowed(path: Path, labels: Sequence[str]) -> tuple[npt.NDArray[Any], float]:
    """The thresholds and need floor of the model at `path`, for `labels`."""
    with np.load(path, allow_pickle=False) as model:
        by_label = dict(zip((str(x) for x in model["labels"]), model["thresholds"], strict=True))
        return (
            np.array([by_label.get(lab, 0.5) for lab in labels]),
            float(model["need_floor"]),
        )


def main() -> None:
    """Train (after cross-validating when asked) and write the model."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--splits", default=DEFAULT_SPLITS)
    parser.add_argument("--out", default=str(MODEL))
    parser.add_argument("--c", type=float, default=4.0)
    parser.add_argument("--cv", action="store_true")
    parser.add_argument("--sign-beta", type=float, default=SIGN_BETA)
    parser.add_argument(
        "--thresholds-from",
        help="copy the thresholds and need floor from this model (to score a held-out corpus "
        "with weights that never saw it, without a cross-validation per corpus)",
    )
    args = parser.parse_args()
    globals()["SIGN_BETA"] = args.sign_beta
    catalog = Catalog.load()
    otc = {p.categoria for p in catalog.products if not p.prescription_only}
    exs = [
        e
        for split in args.splits.split(",")
        for with_roles in (False, True)
        for e in examples(split, otc, with_roles=with_roles)
    ]
    labels = sorted({lab for e in exs for lab in e.labels})
    print(f"{len(exs)} windows, {len({e.dialogue for e in exs})} dialogues, {len(labels)} labels")
    floor = 0.0
    if args.cv:
        thresholds, floor = cross_validate(exs, labels, args.c)
    elif args.thresholds_from:
        thresholds, floor = borrowed(Path(args.thresholds_from), labels)
    else:
        thresholds = np.full(len(labels), 0.5)
    vectorizer, models = fit(exs, labels, args.c)
    vocabulary = vectorizer.vocabulary_
    order = sorted(vocabulary, key=vocabulary.get)
    weights = np.stack(
        [m.coef_[0] if m is not None else np.zeros(len(order)) for m in models], axis=1
    )
    bias = np.array([m.intercept_[0] if m is not None else -20.0 for m in models])
    np.savez_compressed(
        args.out,
        terms=np.array(order),
        idf=vectorizer.idf_.astype(np.float32),
        weights=weights.astype(np.float32),
        bias=bias.astype(np.float32),
        labels=np.array(labels),
        thresholds=thresholds.astype(np.float32),
        need_floor=np.float32(floor),
    )
    size = Path(args.out).stat().st_size
    print(f"wrote {args.out}: {len(order)} terms x {len(labels)} labels, {size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
