"""What the turns of a session's window showed, kept while the window is read again.

`balto.advice.heard.Heard` reads a turn the same way whenever the same things decide it: the
turn's text, whether the attendant said it, and what the next turn denies (a sentence the next
turn answers "não, nada disso" was a question). Whether a screening question was confirmed
depends on the question's turn and the answer's text. A session reads its whole window again at
every utterance and the window moves by one turn; with a `HeardMemo` only what the new turn
changed is worked out again: the new turn, and the pair of it and the turn before.
Why: need detection, red flags and the learned reader's prefix reads re-parsed every turn of the
window, several times per utterance, on the server's one thread.

Exact by construction: every answer is kept under the texts (and roles, and denials) it was
worked out from, never under a position in the window, so a turn whose next turn changed (a
"não" appended after it) is read again, and one that slid out is simply never asked for. What is
kept is bounded by age: `next_window` starts a generation, and a reader (one per ``ignore``
pattern) drops what it did not use in its last generation when it next reads.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

Clauses = list[tuple[str, bool]]
"""A turn's ``(padded clause, is a question)`` pairs (`balto.advice.heard_clauses.clauses`)."""
TurnKey = tuple[str, bool, frozenset[str]]
"""What decides a turn's clauses: its text, whether it is asked (the attendant's), the next
turn's denials."""
PairKey = tuple[str, bool, str]
"""A question turn (text, asked) and its answer's text: what decides a confirmation."""
ToldKey = tuple[str, bool, str | None]
"""A turn (text, asked) and the next turn's text (None when it is the newest)."""
Combos = tuple[tuple[re.Pattern[str], ...], ...]
"""Combinations of patterns (`balto.advice.heard.Heard.find_each_together`)."""
Hits = tuple[tuple[int, int], ...]
"""``(place in a tuple of patterns, position in the turn)`` of the patterns a turn shows."""

_K = TypeVar("_K", bound=Hashable)
_V = TypeVar("_V")


UNSEEN = -(1 << 62)
"""What `TurnAnswers.affirmed` and the like give for a pattern not looked up yet (`dict.get`'s
default: None there means looked up and not found)."""


@dataclass(slots=True)
class TurnAnswers:
    """One turn's look-ups, by the `id` of a pattern (or of a tuple of them) its table pins.

    Why ids and bare values: a pattern's hash reads its whole program, and a turn keeps some 200
    answers; as ``(pattern, answer)`` tuples they were most of the objects the garbage collector
    walked under load (a turn's answers live as long as it is in the window, so they reached the
    old generations; capacity bench). A `HeardTable` pins every object whose id keys its answers,
    so no other object can take that id while they are kept, and these dicts hold no container.

    Attributes:
        affirmed: Where the pattern is first affirmed in the turn, or None.
        together: By the patterns' ids, where a clause affirms every one of them, or None.
        affirmed_each: By a tuple of patterns: ``(place in the tuple, position)`` of those the
            turn affirms (`Heard.find_each`).
        together_each: By a tuple of combinations, the same for `together`
            (`Heard.find_each_together`).
    """

    affirmed: dict[int, int | None] = field(default_factory=dict)
    together: dict[tuple[int, ...], int | None] = field(default_factory=dict)
    affirmed_each: dict[int, Hits] = field(default_factory=dict)
    together_each: dict[int, Hits] = field(default_factory=dict)


@dataclass(slots=True)
class PairAnswers:
    """A question turn's look-ups that its answer (the next turn) decides, as `TurnAnswers`.

    Attributes:
        asked: Where the pattern is in a screening question the answer confirmed, or None.
        asked_together: Whether every one of the patterns was asked and confirmed.
        asked_each: By a tuple of patterns (as `TurnAnswers.affirmed_each`): those asked and
            confirmed.
        asked_together_each: By a tuple of combinations: the places of those asked and
            confirmed.
    """

    asked: dict[int, int | None] = field(default_factory=dict)
    asked_together: dict[tuple[int, ...], bool] = field(default_factory=dict)
    asked_each: dict[int, Hits] = field(default_factory=dict)
    asked_together_each: dict[int, tuple[int, ...]] = field(default_factory=dict)


class _Aging(Generic[_K, _V]):
    """A dict that forgets what went unused for a whole generation (two generations kept).

    An entry stays under the key it was made with: callers build a new key tuple at every read,
    and storing that one again in each generation made a few thousand tuples per second that
    lived for seconds: half the tuples a middle collection walked at 200 sessions (capacity
    bench, `BENCH_GC_DEBUG=young`).
    """

    __slots__ = ("_current", "_previous")

    def __init__(self) -> None:
        self._current: dict[_K, tuple[_K, _V]] = {}
        self._previous: dict[_K, tuple[_K, _V]] = {}

    def get(self, key: _K, make: Callable[[], _V]) -> _V:
        found = self._current.get(key)
        if found is None:
            found = self._previous.get(key)
            if found is None:
                found = (key, make())
            self._current[found[0]] = found
        return found[1]

    def key_of(self, key: _K) -> _K | None:
        """The key object an entry equal to `key` is kept under (None: not kept)."""
        found = self._current.get(key) or self._previous.get(key)
        return None if found is None else found[0]

    def rotate(self) -> None:
        self._previous, self._current = self._current, {}

    def __len__(self) -> int:
        return len(self._current.keys() | self._previous.keys())


class HeardTable:
    """What one reader (one ``ignore`` pattern of `Heard`) worked out, by turn."""

    def __init__(self, generation: int) -> None:
        """Empty, in `generation`."""
        self.generation = generation
        self.clauses: _Aging[TurnKey, Clauses] = _Aging()
        self.denials: _Aging[str, frozenset[str]] = _Aging()
        self.turns: _Aging[TurnKey, TurnAnswers] = _Aging()
        self.pairs: _Aging[PairKey, PairAnswers] = _Aging()
        self.told: _Aging[ToldKey, str] = _Aging()
        self._pinned: dict[int, object] = {}

    def pin(self, *keys: object) -> None:
        """Keep `keys` alive as long as this table: answers are kept under their ids."""
        for key in keys:
            self._pinned[id(key)] = key

    def rotate(self, generation: int) -> None:
        """Start `generation`: what the last one did not use goes at the next rotation."""
        self.generation = generation
        for kept in (self.clauses, self.denials, self.turns, self.pairs, self.told):
            kept.rotate()

    def __len__(self) -> int:
        """Turns kept (by their clauses)."""
        return len(self.clauses)


class HeardMemo:
    """One session's memo for every reader of its window (see the module docstring)."""

    def __init__(self) -> None:
        """Nothing read yet."""
        self._generation = 0
        self._tables: dict[re.Pattern[str] | None, HeardTable] = {}

    def next_window(self) -> None:
        """The window moved (a new utterance): a new generation starts."""
        self._generation += 1

    def table(self, ignore: re.Pattern[str] | None) -> HeardTable:
        """The answers kept for the reader that blanks `ignore`."""
        table = self._tables.get(ignore)
        if table is None:
            table = self._tables[ignore] = HeardTable(self._generation)
        elif table.generation != self._generation:
            table.rotate(self._generation)
        return table

    def __len__(self) -> int:
        """Turns kept, over every reader."""
        return sum(len(table) for table in self._tables.values())
