"""Reading a dialogue window the way a counter conversation means it: denials and questions.

In: the turns' texts (oldest first). Out: `Heard`, which says where a pattern
(`balto.advice.lexicon`) is affirmed — not denied ("sem falta de ar", "febre não", "tenho não"),
not only asked about ("tá com febre?") unless the next turn confirms it. Raises nothing.

Turns are split into sentences and comma clauses. A question with nothing personal in it, short or
opening like a screening question or offering a choice, is an attendant's screening question, unless
it is a customer's ask for a product ("tem aquele…", "me vê…"); how one turn is read is
`balto.advice.heard_clauses`. A session keeps what its window's turns showed
(`balto.advice.heard_memo`), so each utterance reads only what it changed. How one turn (and a
question with its answer) is read and kept: `balto.advice.heard_turns`; here, the window's
look-ups over those readings.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from balto.advice.heard_memo import UNSEEN
from balto.advice.heard_turns import ATTENDANT, TurnReadings

__all__ = ["ATTENDANT", "Heard"]

# Positions of confirmed questions' words are shifted this far left of the answer's own words.
_ANSWER_OFFSET = 1_000_000


class Heard(TurnReadings):
    """A dialogue window prepared for pattern look-ups that respect negation and questions.

    An occurrence does not count when a negation comes up to three words before it in its clause
    (``"sem falta de ar"``) or a lone "não" closes the clause after it (``"febre não"``). An
    occurrence in a screening question (a question with nothing personal in it) counts only once
    the next turn answers it without denying it.
    """

    def newest(self, pattern: re.Pattern[str]) -> int:
        """Index of the newest turn in which `pattern` is affirmed, or -1."""
        found = self.find(pattern)
        return -1 if found is None else found[0]

    def find(self, pattern: re.Pattern[str]) -> tuple[int, int] | None:
        """Where `pattern` is last affirmed: ``(turn, position in that turn)``, or None.

        A screening question confirmed by the next turn counts in that answering turn, before
        anything said in it (position -1): "é cólica?" — "é, tipo uma torção" is about cólica.
        """
        # `_affirmed` and `_asked_and_confirmed` inlined: every need, indication, product name
        # and red-flag rule is looked up in every turn of the window at each utterance (~3,500
        # look-ups), nearly all answered by the memo's tables, so the calls were the cost.
        # Answers are kept under the pattern's id, the table pinning the pattern.
        key, alone, pairs = id(pattern), self._alone, self._pairs
        for index in range(len(alone) - 1, -1, -1):
            known = alone[index].affirmed
            found = known.get(key, UNSEEN)
            if found == UNSEEN:
                self._table.pin(pattern)
                found = known[key] = self._affirmed_in(index, pattern)
            if found is not None:
                return index, found
            if index > 0:
                asked = pairs[index - 1].asked
                found = asked.get(key, UNSEEN)
                if found == UNSEEN:
                    self._table.pin(pattern)
                    found = asked[key] = self._asked_in(index - 1, pattern)
                if found is not None:
                    # Before anything said in the answer, in the order the question asked.
                    return index, found - _ANSWER_OFFSET
        return None

    def find_each(self, patterns: tuple[re.Pattern[str], ...]) -> list[tuple[int, int] | None]:
        """`find` of each of `patterns`, in their order: the same answers, sooner for a fixed set.

        Pass the same tuple at every utterance (a reader's whole list of patterns): each turn
        then keeps where it affirms any of them, so the window is merged from those few
        places instead of every pattern being looked up in every turn.
        """
        # A turn's hits are kept under the tuple's id, the table pinning the tuple (as `find`
        # pins a pattern). Merged oldest turn first, the newest place wins, and in a turn its
        # own words win over a question it answers (the order in which `find` looks).
        key = id(patterns)
        self._table.pin(patterns)
        found: list[tuple[int, int] | None] = [None] * len(patterns)
        for index, alone in enumerate(self._alone):
            if index > 0:
                pair = self._pairs[index - 1].asked_each
                hits = pair.get(key)
                if hits is None:
                    hits = pair[key] = self._asked_each(index - 1, patterns)
                for at, position in hits:
                    found[at] = (index, position - _ANSWER_OFFSET)
            hits = alone.affirmed_each.get(key)
            if hits is None:
                hits = alone.affirmed_each[key] = self._affirmed_each(index, patterns)
            for at, position in hits:
                found[at] = (index, position)
        return found

    def _affirmed_each(
        self, index: int, patterns: Sequence[re.Pattern[str]]
    ) -> tuple[tuple[int, int], ...]:
        """``(place in patterns, position)`` of those of `patterns` turn `index` affirms."""
        if all(question for _, question in self._turns[index]):
            return ()  # a turn all asked affirms nothing by itself
        return tuple(
            (at, position)
            for at, pattern in enumerate(patterns)
            if (position := self._affirmed(index, pattern)) is not None
        )

    def _asked_each(
        self, index: int, patterns: Sequence[re.Pattern[str]]
    ) -> tuple[tuple[int, int], ...]:
        """``(place in patterns, position)`` of those turn `index` asked and the next confirmed."""
        if not any(question for _, question in self._turns[index]):
            return ()  # nothing asked: nothing to confirm
        return tuple(
            (at, position)
            for at, pattern in enumerate(patterns)
            if (position := self._asked_and_confirmed(index, pattern)) is not None
        )

    def together(self, patterns: Sequence[re.Pattern[str]]) -> bool:
        """Whether one clause, not a question, affirms every one of `patterns`."""
        return self.find_together(patterns) is not None

    def find_together(self, patterns: Sequence[re.Pattern[str]]) -> tuple[int, int] | None:
        """Where a clause, not a question, last affirms every one of `patterns`, in any order.

        The matches must be near each other (a few words from the first to the last,
        `balto.advice.heard_turns`), and the stretch is read as one: a negation before it, or a
        "não" closing the clause, denies it ("sem falta de ar", "falta de ar não").

        Returns:
            ``(turn, position in that turn)``, or None.
        """
        # By ids, the table pinning the patterns: a pattern's hash reads its whole program.
        patterns = tuple(patterns)
        key = tuple(map(id, patterns))
        for index in range(len(self._turns) - 1, -1, -1):
            if index > 0:
                pair = self._pairs[index - 1].asked_together
                both = pair.get(key)
                if both is None:
                    self._table.pin(*patterns)
                    both = pair[key] = self._asked_together(index - 1, patterns)
                if both:
                    return index, -_ANSWER_OFFSET
            alone = self._alone[index].together
            found = alone.get(key, UNSEEN)
            if found == UNSEEN:
                self._table.pin(*patterns)
                found = alone[key] = self._together_in(index, patterns)
            if found is not None:
                return index, found
        return None

    def find_each_together(
        self, combos: tuple[tuple[re.Pattern[str], ...], ...]
    ) -> list[tuple[int, int] | None]:
        """`find_together` of each of `combos`, in their order (as `find_each` is to `find`)."""
        key = id(combos)
        self._table.pin(combos)
        found: list[tuple[int, int] | None] = [None] * len(combos)
        # In a turn a confirmed question comes first (the order in which `find_together` looks),
        # so it is merged last.
        for index, alone in enumerate(self._alone):
            hits = alone.together_each.get(key)
            if hits is None:
                hits = alone.together_each[key] = self._together_each(index, combos)
            for at, position in hits:
                found[at] = (index, position)
            if index > 0:
                pair = self._pairs[index - 1].asked_together_each
                asked = pair.get(key)
                if asked is None:
                    asked = pair[key] = self._asked_together_each(index - 1, combos)
                for at in asked:
                    found[at] = (index, -_ANSWER_OFFSET)
        return found

    def _together_each(
        self, index: int, combos: tuple[tuple[re.Pattern[str], ...], ...]
    ) -> tuple[tuple[int, int], ...]:
        """``(place in combos, position)`` of the combinations a clause of turn `index` tells."""
        if all(question for _, question in self._turns[index]):
            return ()  # a turn all asked tells nothing by itself
        return tuple(
            (at, position)
            for at, patterns in enumerate(combos)
            if (position := self._together(index, patterns)) is not None
        )

    def _asked_together_each(
        self, index: int, combos: tuple[tuple[re.Pattern[str], ...], ...]
    ) -> tuple[int, ...]:
        """Places in `combos` of those turn `index` asked about and the next turn confirmed."""
        if all(combos) and not any(question for _, question in self._turns[index]):
            return ()  # nothing asked (an empty combination is asked by any turn)
        return tuple(
            at for at, patterns in enumerate(combos) if self._asked_together_kept(index, patterns)
        )

    def nearby(self, patterns: Sequence[re.Pattern[str]], reach: int) -> bool:
        """Whether every one of `patterns` is affirmed within `reach` consecutive turns.

        Wider than `together`: "um negócio no peito" — "que negócio?" — "um aperto" is a chest
        complaint said over three turns.
        """
        count = len(self._turns)
        hits = [
            [
                self._affirmed(index, pattern) is not None
                or (index > 0 and self._asked_and_confirmed(index - 1, pattern) is not None)
                for index in range(count)
            ]
            for pattern in patterns
        ]
        return any(all(any(hit[start : start + reach]) for hit in hits) for start in range(count))
