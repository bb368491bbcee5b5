"""A session's memo (`balto.advice.heard_memo`) changes no reading: with it, as read afresh."""

from __future__ import annotations

import gc
import json
import re
import sys
import weakref
from collections import deque
from pathlib import Path

import pytest

from balto.advice import needs as needs_module
from balto.advice.heard import Heard
from balto.advice.heard_memo import HeardMemo
from balto.advice.lexicon import compile_patterns
from balto.advice.needs import NeedDetector
from balto.advice.reader import window_text
from balto.advice.session import MAX_TURNS
from balto.catalog import Catalog
from balto.providers import red_flags
from balto.providers.ports import Turn

CATALOG = Catalog.load()
DATA = Path(__file__).resolve().parents[2] / "bench" / "data"
# Every pattern the readers look up, to compare `Heard` look-up by look-up as well.
_PATTERNS = [pattern for _, pattern, _ in needs_module._TABLE]
_COMBOS = [combo for _, _, together in needs_module._TABLE for combo in together]
_EACH = tuple(_PATTERNS)  # one tuple for every window, as a reader keeps its own
_EACH_TOGETHER = tuple(tuple(combo) for combo in _COMBOS)


def _same_reading(window: list[Turn], memo: HeardMemo, detector: NeedDetector) -> tuple[int, int]:
    """Assert every reading of `window` with `memo` equals a fresh one; (needs, flags) seen."""
    texts = tuple(turn.text for turn in window)
    roles = tuple(turn.speaker for turn in window)
    # The memo first: the learned reader caches per window, so a fresh read after it would
    # only see the cached reading; its window text is compared on its own below.
    flags = red_flags.detect_all(window, memo)
    assert flags == red_flags.detect_all(window), texts
    got = detector.detect(window, memo).needs
    assert got == NeedDetector(CATALOG).detect(window).needs, texts
    for end in range(1, len(texts) + 1):  # the prefixes the need detector has the reader read
        assert window_text(texts[:end], roles[:end], memo) == window_text(
            texts[:end], roles[:end]
        ), texts[:end]
    remembered = Heard(texts, needs_module._IDIOMS, roles, memo)
    fresh = Heard(texts, needs_module._IDIOMS, roles)
    assert [remembered.find(p) for p in _PATTERNS] == [fresh.find(p) for p in _PATTERNS]
    assert remembered.find_each(_EACH) == [fresh.find(p) for p in _PATTERNS]
    assert remembered.find_each_together(_EACH_TOGETHER) == [
        fresh.find_together(c) for c in _COMBOS
    ]
    assert [remembered.find_together(c) for c in _COMBOS] == [
        fresh.find_together(c) for c in _COMBOS
    ]
    assert [remembered.nearby(c, 3) for c in _COMBOS] == [fresh.nearby(c, 3) for c in _COMBOS]
    return bool(got), bool(flags)


@pytest.mark.parametrize("with_roles", [False, True])  # a corpus each: the fresh reads are slow
def test_a_sliding_window_read_with_a_memo_shows_what_a_fresh_read_shows(with_roles: bool) -> None:
    """Dialogues back to back through the session's window (it fills, then slides turn by
    turn): needs, red flags and the reader's window text, read with one memo the way a session
    reads them, equal those read from scratch at every utterance."""
    split = "holdout17" if with_roles else "tune"
    # A third of a corpus: enough for the window to fill and slide many times over needs,
    # signs and screening questions; the whole corpus cost 20 s of fresh reads.
    dialogues = json.loads((DATA / f"advice_dialogues_{split}.json").read_text())[:24]
    said = [
        (turn["texto"], turn["falante"] if with_roles else None)
        for dialogue in dialogues
        for turn in dialogue["turns"]
    ]
    window: deque[Turn] = deque(maxlen=MAX_TURNS)
    memo, detector = HeardMemo(), NeedDetector(CATALOG)
    shown = flagged = 0
    for i, (text, speaker) in enumerate(said):
        window.append(Turn(text, speaker, 4.0 * i, 4.0 * i + 3.0))
        memo.next_window()
        got, flags = _same_reading(list(window), memo, detector)
        shown += got
        flagged += flags
    assert shown > 40 and flagged > 10  # the comparison saw needs and signs
    # What left the window was dropped: per reader (three), two generations of a window's
    # turns, each also read as the newest of a prefix.
    assert len(memo) <= 3 * 2 * 2 * MAX_TURNS


def test_an_answer_no_makes_the_turn_before_a_question_with_a_memo_too() -> None:
    """ "tem sangue nas fezes febre alta" (no "?") tells a bleeding while it is the newest turn;
    "não, nada disso" after it makes it a screening question answered no. The turn's reading
    remembered from the window before must not survive that, nor the window sliding on."""
    said = [
        "bom dia, minha mãe tá meio ruim",
        "tem sangue nas fezes febre alta",
        "não, nada disso",
        "tem sangue nas fezes febre alta",
        "tem sim, desde ontem",
        "e tá com dor no peito",
        "não",
    ]
    memo, detector = HeardMemo(), NeedDetector(CATALOG)
    window: deque[Turn] = deque(maxlen=3)  # short, so the window slides over the answers
    codes = []
    for i, text in enumerate(said):
        window.append(Turn(text, None, 4.0 * i, 4.0 * i + 3.0))
        memo.next_window()
        _same_reading(list(window), memo, detector)
        codes.append([flag.code for flag in red_flags.detect_all(list(window), memo)])
    assert codes[1] == ["sangramento"]  # told, while nothing answered it
    assert "sangramento" not in codes[2]  # answered no: it was asked
    assert "sangramento" in codes[4]  # the same question, answered yes


def _find_each_as_find(
    texts: list[str], memo: HeardMemo, patterns: tuple[re.Pattern[str], ...]
) -> None:
    """Assert `find_each` with `memo` answers what `find` answers on a fresh reading."""
    fresh = Heard(texts, needs_module._IDIOMS)
    expected = [fresh.find(pattern) for pattern in patterns]
    assert Heard(texts, needs_module._IDIOMS, memo=memo).find_each(patterns) == expected, texts


def test_find_each_follows_the_window_as_it_changes() -> None:
    """What each turn keeps for a tuple of patterns is kept under what decides that turn: an
    old turn's affirmation still counts once newer turns arrive, a later "não" takes back what
    the turn before told (it was a screening question), and a turn that left the window counts
    nowhere."""
    fever, cough, blood = (
        compile_patterns(["febre"]),
        compile_patterns(["tosse"]),
        compile_patterns(["sangue nas fezes"]),
    )
    patterns = (fever, cough, blood, fever)  # a pattern twice: each place answers
    memo = HeardMemo()
    said = [
        "meu filho tá com febre desde ontem",
        "e tosse?",
        "tosse sim, bastante",
        "tem sangue nas fezes febre alta",
        "não, nada disso",
        "ok, vou ver aqui",
    ]
    window: deque[str] = deque(maxlen=4)
    places = []
    for text in said:
        window.append(text)
        memo.next_window()
        _find_each_as_find(list(window), memo, patterns)
        places.append(Heard(list(window), needs_module._IDIOMS, memo=memo).find_each(patterns))
    assert [place and place[0] for place in places[2]] == [0, 2, None, 0]  # the fever still
    assert [place and place[0] for place in places[3]] == [3, 2, 3, 3]  # told while newest
    assert places[4] == [None, places[4][1], None, None]  # answered no; the first fever left
    assert places[5][1] is not None and places[5][1][0] == 0  # the cough, now the oldest turn


def test_the_memo_holds_what_it_keeps_answers_under() -> None:
    """Answers are kept under ids: the memo holds those objects, so none gives its id away."""
    texts = ["minha filha tá com febre", "e tosse também, tem falta de ar?", "tem sim"]
    memo = HeardMemo()
    febre, tosse = re.compile(r"(?<= )febre(?= )"), re.compile(r"(?<= )tosse(?= )")
    each, combos = (febre, tosse), ((febre, tosse),)
    held = [weakref.ref(febre), weakref.ref(tosse)]
    counts = sys.getrefcount(each), sys.getrefcount(combos)
    heard = Heard(texts, needs_module._IDIOMS, memo=memo)
    assert heard.find(febre) is not None
    assert heard.find_together([febre, tosse]) is None
    assert heard.find_each(each)[1] is not None
    assert heard.find_each_together(combos) == [None]
    del heard, febre, tosse
    gc.collect()
    assert all(ref() is not None for ref in held)  # the memo holds the patterns
    assert (sys.getrefcount(each), sys.getrefcount(combos)) == (counts[0] + 1, counts[1] + 1)
    del memo
    gc.collect()
    assert (sys.getrefcount(each), sys.getrefcount(combos)) == counts
    del each, combos
    re.purge()  # the module's cache of compiled patterns
    gc.collect()
    assert all(ref() is None for ref in held)  # and only the memo held them


def test_a_turn_read_again_in_a_later_window_stays_under_its_first_key() -> None:
    """Each read builds new key tuples; the memo keeps the first, so nothing is re-keyed per read.

    Re-keying every window made thousands of key tuples a second that lived for seconds: most
    of what the collector's young collections walked at 200 sessions (capacity bench).
    """
    texts = ["minha filha tá com febre", "e tosse também?", "tem sim"]
    memo = HeardMemo()
    Heard(texts[:2], needs_module._IDIOMS, memo=memo).find(re.compile(r"(?<= )febre(?= )"))
    table = memo.table(needs_module._IDIOMS)
    probe = ("e tosse também?", False, frozenset())
    first = table.turns.key_of(probe)
    assert first is not None and first is not probe
    for end in (3, 3, 3):  # later windows: the same turns read again, generation after generation
        memo.next_window()
        Heard(texts[:end], needs_module._IDIOMS, memo=memo).find(re.compile(r"(?<= )tosse(?= )"))
    table = memo.table(needs_module._IDIOMS)
    assert table.turns.key_of(probe) is first
    first_pair = table.pairs.key_of(("minha filha tá com febre", False, "e tosse também?"))
    memo.next_window()
    Heard(texts, needs_module._IDIOMS, memo=memo).find(re.compile(r"(?<= )febre(?= )"))
    assert first_pair is not None
    assert memo.table(needs_module._IDIOMS).pairs.key_of(first_pair) is first_pair
