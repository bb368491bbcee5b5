"""Where the learned reader's needs first showed (`balto.advice.needs.FirstReads`).

While a session's window grows, remembering gives exactly the prefix scan's answer; once the
window is full and moves, a category keeps the turn it first showed at while that turn is in the
window (then the scan finds it again), so the reader does not read a moving window's prefixes at
every utterance.
"""

from __future__ import annotations

import json
from collections import deque
from pathlib import Path

from balto.advice import reader
from balto.advice.heard_memo import HeardMemo
from balto.advice.needs import READ_CODE, FirstReads, NeedDetector
from balto.advice.session import MAX_TURNS
from balto.catalog import Catalog
from balto.providers.ports import Turn

CATALOG = Catalog.load()
DATA = Path(__file__).resolve().parents[2] / "bench" / "data"


def _dialogues(split: str) -> list[list[Turn]]:
    """A corpus's dialogues as turns (4 s apart, as `bench/advice_eval.py` feeds them)."""
    dialogues = json.loads((DATA / f"advice_dialogues_{split}.json").read_text())
    return [
        [Turn(t["texto"], t["falante"], 4.0 * i, 4.0 * i + 3.0) for i, t in enumerate(d["turns"])]
        for d in dialogues
    ]


def _read_turns(needs: tuple[object, ...]) -> dict[str, int]:
    """The reader's needs of a detection: category code → the window turn it first showed at."""
    return {n.code: n.turn for n in needs if n.code.startswith(READ_CODE)}  # type: ignore[attr-defined]


def test_while_the_window_grows_the_remembered_turn_is_the_scans() -> None:
    detector, read = NeedDetector(CATALOG), 0
    for dialogue in _dialogues("holdout13")[:40]:
        memo, firsts = HeardMemo(), FirstReads()
        for end in range(1, len(dialogue) + 1):
            window = dialogue[:end]
            memo.next_window()
            firsts.heard += 1
            remembered = detector.detect(window, memo, firsts).needs
            assert remembered == NeedDetector(CATALOG).detect(window).needs, window[-1].text
            read += len(_read_turns(remembered))
    assert read > 40  # the reader read needs in these dialogues: the check compared something


def test_once_the_window_moves_a_category_keeps_its_turn_while_the_turn_is_in_it() -> None:
    detector, memo, firsts = NeedDetector(CATALOG), HeardMemo(), FirstReads()
    model = reader.shared()
    assert model is not None
    window: deque[Turn] = deque(maxlen=MAX_TURNS)
    first_heard: dict[str, int] = {}  # category → the session's number of the turn it showed at
    kept = slid_out = 0
    for turn in (t for d in _dialogues("holdout14")[:30] for t in d):
        window.append(turn)
        memo.next_window()
        firsts.heard += 1
        oldest = firsts.heard - len(window)  # the session's number of the window's turn 0
        turns = _read_turns(detector.detect(list(window), memo, firsts).needs)
        texts, roles = tuple(t.text for t in window), tuple(t.speaker for t in window)
        read = {READ_CODE + c for c, _ in model.read(texts, roles).needs}
        # Forgotten once no longer read; not followed while a named product stands for it.
        first_heard = {c: n for c, n in first_heard.items() if c in turns}
        for code, at in turns.items():
            if code not in first_heard:
                first_heard[code] = oldest + at
            elif first_heard[code] >= oldest:
                assert at == first_heard[code] - oldest, (code, turn.text)
                kept += oldest > 0
            else:  # its turn has left the window: found again, as the scan finds it
                scanned = _read_turns(NeedDetector(CATALOG).detect(list(window)).needs)
                assert at == scanned[code], (code, turn.text)
                first_heard[code] = oldest + at
                slid_out += 1
        assert {READ_CODE + c for c in firsts.turns} == read >= set(turns)
    assert kept > 0 and slid_out > 0  # both cases happened in a moving window
