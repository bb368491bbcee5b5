"""A need detector remembers the dialogues it read: the same needs, none mixed up."""

from __future__ import annotations

import json
from collections import deque
from pathlib import Path

from balto.advice.heard_memo import HeardMemo
from balto.advice.needs import NeedDetector, detector_for
from balto.catalog import Catalog
from balto.providers import red_flags
from balto.providers.ports import Turn

CATALOG = Catalog.load()
ROOT = Path(__file__).resolve().parents[2]


def turns(*texts: str) -> list[Turn]:
    return [Turn(text, None, 4.0 * i, 4.0 * i + 3.0) for i, text in enumerate(texts)]


def codes(detector: NeedDetector, *texts: str) -> list[str]:
    return [need.code for need in detector.detect(turns(*texts)).needs]


def test_windows_read_again_show_what_a_fresh_detector_shows() -> None:
    windows = [
        ("estou com dor de cabeça",),
        ("estou com dor de cabeça", "e o nariz escorrendo"),
        ("bom dia",),
        ("me vê um dorflex",),
    ]
    fresh = [codes(NeedDetector(CATALOG), *window) for window in windows]
    assert fresh[0] != fresh[1] and fresh[0] and not fresh[2]  # the windows differ
    shared = NeedDetector(CATALOG)
    for _ in range(2):  # the second round is remembered
        assert [codes(shared, *window) for window in windows] == fresh
    many = [(f"frase {i} sem queixa",) for i in range(100)]  # more than it remembers
    for window in many:
        assert codes(shared, *window) == []
    assert [codes(shared, *window) for window in windows] == fresh


def test_one_detector_per_catalog() -> None:
    assert detector_for(CATALOG) is detector_for(CATALOG)
    assert detector_for(Catalog(list(CATALOG.products))) is not detector_for(CATALOG)


def test_a_sliding_window_read_with_memos_shows_what_reading_it_afresh_shows() -> None:
    """Every dialogue of the advice corpus, one after the other through a 16-turn window (the
    session's): needs and red flags read with the session's memos, turn by turn, equal those read
    from scratch, also while turns leave the window and screening questions get answered."""
    dialogues = json.loads((ROOT / "bench" / "data" / "advice_dialogues_tune.json").read_text())
    texts = [turn["texto"] for dialogue in dialogues for turn in dialogue["turns"]]
    assert len(texts) > 100
    window: deque[Turn] = deque(maxlen=16)
    needs_memo, flags_memo = HeardMemo(), HeardMemo()
    with_memo, afresh = NeedDetector(CATALOG), NeedDetector(CATALOG)
    shown = flagged = 0
    for i, text in enumerate(texts):
        window.append(Turn(text, None, 4.0 * i, 4.0 * i + 3.0))
        said = [turn.text for turn in window]
        needs_memo.retain(said)
        flags_memo.retain(said)
        got = with_memo.detect(list(window), needs_memo).needs
        assert got == afresh.detect(list(window)).needs, said
        flags = red_flags.detect_all(list(window), flags_memo)
        assert flags == red_flags.detect_all(list(window)), said
        shown += bool(got)
        flagged += bool(flags)
    assert shown > 50 and flagged > 5  # the comparison saw needs and signs
    assert len(needs_memo) <= 4 * 16  # four kinds of answers per turn or pair, at most


def test_a_question_asked_again_is_read_with_its_new_answer() -> None:
    """A screening question's confirmation is kept per question and answer, not per question."""
    said = ["tá com febre?", "não, nada disso", "tá com febre?", "tenho sim, desde ontem"]
    memo, detector = HeardMemo(), NeedDetector(CATALOG)
    for n in range(1, len(said) + 1):
        got = detector.detect(turns(*said[:n]), memo)
        assert got.needs == NeedDetector(CATALOG).detect(turns(*said[:n])).needs
    assert got.needs  # the fever, confirmed by the last answer
