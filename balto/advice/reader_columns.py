"""A window's feature columns for the learned reader, put together from its turns' columns.

In: what each turn of a window affirms (`balto.advice.heard.Heard.told`, oldest first). Out: the
vocabulary columns of the features of the joined window text (`balto.advice.reader.terms` of
``" . ".join(told)``), in the same order, and its word count. Raises nothing.

Why: a session's window moves by one turn per utterance and the need detector also reads its
prefixes, so the same turns were split into words, looked up and scored again many times per
utterance (about a third of the advice CPU). A turn's own columns depend on its words alone; what
crosses a turn boundary is worked out at every window: the word pair of one turn's last word and
the next one's first (the " . " that joins them is no word), and a negation whose reach runs into
the next turn ("... nao" . "tenho febre"). The order of the columns is the order the reader sums
the scores in (`balto.advice.reader.Reader.probabilities`), so it is kept exactly: every word,
then every word pair, then every negated word, then every word's character n-grams.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from balto.advice import heard_words as said
from balto.advice.lexicon import spoken

# Turns whose columns are kept: a few hundred sessions' windows. Full, it holds ~15 MB of objects
# (~30 MB of RSS with the allocator's share); a server's RSS grows by that much over its first
# ~4,000 short sessions, then stays (docs/BENCHMARKS.md, Soak).
_TURNS = 8_192


@dataclass(slots=True)
class _Turn:
    """One turn's columns, by kind (vocabulary columns only, in the turn's word order).

    Attributes:
        words: Its words (`balto.advice.lexicon.spoken`).
        words_columns: Of its words.
        pairs: Of its word pairs.
        grams: Of its words' character n-grams.
        negated: By how many of its first words a negation before the turn reaches: the
            columns of its negated words, and how many of the next turn's words its own last
            negation reaches.
    """

    words: list[str]
    words_columns: list[int]
    pairs: list[int]
    grams: list[int]
    negated: dict[int, tuple[list[int], int]] = field(default_factory=dict)


class WindowColumns:
    """The columns of windows of turns, for one vocabulary; turns are kept across windows."""

    def __init__(self, index: dict[str, int], grams: Callable[[str], list[int]]) -> None:
        """Look terms up in `index`; `grams`: a word's n-gram columns (in `_grams` order)."""
        self._index = index
        self._grams = grams
        self._turns: dict[str, _Turn] = {}

    def columns(self, told: Sequence[str]) -> tuple[list[int], int]:
        """The columns of ``" . ".join(told)``'s terms, in their order, and its word count."""
        index = self._index
        words: list[int] = []
        pairs: list[int] = []
        negated: list[int] = []
        grams: list[int] = []
        last: str | None = None  # the previous words' last (a turn with none joins nothing)
        reach = 0  # how many of the next words a negation before them reaches
        count = 0
        for text in told:
            turn = self._turn(text)
            if not turn.words:
                continue
            if last is not None:
                across = index.get(f"b:{last} {turn.words[0]}")
                if across is not None:
                    pairs.append(across)
            words += turn.words_columns
            pairs += turn.pairs
            grams += turn.grams
            found, reach = self._negated(turn, reach)
            negated += found
            last = turn.words[-1]
            count += len(turn.words)
        return words + pairs + negated + grams, count

    def _turn(self, text: str) -> _Turn:
        """The columns of turn `text`, worked out once."""
        turn = self._turns.get(text)
        if turn is None:
            if len(self._turns) >= _TURNS:
                self._turns.clear()  # what sessions said long ago is not said again
            index = self._index
            words = spoken(text).split()
            turn = self._turns[text] = _Turn(
                words,
                [i for i in map(index.get, [f"w:{w}" for w in words]) if i is not None],
                [
                    i
                    for i in map(index.get, [f"b:{a} {b}" for a, b in itertools.pairwise(words)])
                    if i is not None
                ],
                [i for word in words for i in self._grams(word)],
            )
        return turn

    def _negated(self, turn: _Turn, reach: int) -> tuple[list[int], int]:
        """The columns of `turn`'s negated words when a negation reaches its first `reach`."""
        known = turn.negated.get(reach)
        if known is None:
            # `balto.advice.reader._word_terms`' reading, started `reach` words into a negation.
            found = []
            until = reach - 1
            for i, word in enumerate(turn.words):
                if word in said.NEGATIONS:
                    until = i + said.NEGATION_REACH
                elif i <= until:
                    column = self._index.get(f"n:{word}")
                    if column is not None:
                        found.append(column)
            known = turn.negated[reach] = (found, max(0, until - len(turn.words) + 1))
        return known
