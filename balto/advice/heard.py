"""Reading a dialogue window the way a counter conversation means it: denials and questions.

In: the turns' texts (oldest first). Out: `Heard`, which says where a pattern
(`balto.advice.lexicon`) is affirmed — not denied ("sem falta de ar", "febre não", "tenho não"),
not only asked about ("tá com febre?") unless the next turn confirms it. Raises nothing.

Turns are split into sentences and comma clauses. A question with nothing personal in it, short or
opening like a screening question or offering a choice, is an attendant's screening question, unless
it is a customer's ask for a product ("tem aquele…", "me vê…"); how one turn is read is
`balto.advice.heard_clauses`. A session keeps what its window's turns showed
(`balto.advice.heard_memo`), so each utterance reads only what it changed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import partial

from balto.advice import heard_words as said
from balto.advice.heard_clauses import CONTENT_WORD, clauses, denials, negated, span_negated
from balto.advice.heard_memo import HeardMemo, PairAnswers, TurnAnswers

# Words from the first to the last match of a word-group combination, at most: a body part and a
# complaint belong together in "as costas travaram aqui", not across a whole sentence.
_TOGETHER_SPAN = 7
# An answer's first clause this short with a "não" in it answers no ("tenho não").
_SHORT_ANSWER = 3
# Positions of confirmed questions' words are shifted this far left of the answer's own words.
_ANSWER_OFFSET = 1_000_000
ATTENDANT = "atendente"
"""The role of the counter's attendant (`Turn.speaker`), whose words are asked, not told."""


class Heard:
    """A dialogue window prepared for pattern look-ups that respect negation and questions.

    An occurrence does not count when a negation comes up to three words before it in its clause
    (``"sem falta de ar"``) or a lone "não" closes the clause after it (``"febre não"``). An
    occurrence in a screening question (a question with nothing personal in it) counts only once
    the next turn answers it without denying it.
    """

    def __init__(
        self,
        texts: Sequence[str],
        ignore: re.Pattern[str] | None = None,
        roles: Sequence[str | None] = (),
        memo: HeardMemo | None = None,
    ) -> None:
        """Split each turn of `texts` (oldest first) into clauses, blanking what `ignore` finds.

        `roles`, when known (speaker identification), say who spoke each turn: whatever the
        attendant says is asked, not told — it counts once the next turn confirms it ("tá com
        falta de ar, chiado no peito" — "não, respiro normal" shows nothing). `memo`: what the
        session's earlier windows showed (`balto.advice.heard_memo`); the same answers, sooner.
        """
        spoken_by = [*roles, *[None] * (len(texts) - len(roles))]
        asked = [role == ATTENDANT for role in spoken_by][: len(texts)]
        # Without a memo each answer is still worked out once, on this window's turns.
        table = (HeardMemo() if memo is None else memo).table(ignore)
        # What each turn denies, to tell in the turn before it the questions STT wrote without
        # their "?": a sentence answered "não, nada disso", or whose words the answer denies.
        # Clause texts do not depend on the turn's role or its answer: its text decides it.
        answers = [
            table.denials.get(text, partial(denials, text, ignore)) for text in texts[1:]
        ] + [frozenset()]
        self._texts = list(texts)
        self._asked = asked
        self._turns = [
            table.clauses.get(
                (text, a, denied), partial(clauses, text, ignore, asked=a, denied=denied)
            )
            for text, a, denied in zip(texts, asked, answers, strict=False)
        ]
        # A turn's own look-ups depend on its clauses alone; a question's confirmation on the
        # question's turn and the answer's text (which also decides what the answer denies).
        self._alone = [
            table.turns.get((text, a, denied), TurnAnswers)
            for text, a, denied in zip(texts, asked, answers, strict=False)
        ]
        self._pairs = [
            table.pairs.get((text, a, answer), PairAnswers)
            for text, a, answer in zip(texts, asked, texts[1:], strict=False)
        ]
        self._table = table

    def told(self) -> list[str]:
        """Each turn as what it affirms: denied words and unconfirmed screening questions out.

        What the learned reader (`balto.advice.reader`) reads, so "dor no peito não, é azia"
        and "tá com falta de ar?" — "não" show it no chest pain and no breathlessness.
        """
        texts, count = self._texts, len(self._turns)
        return [
            self._table.told.get(
                (texts[index], self._asked[index], texts[index + 1] if index + 1 < count else None),
                partial(self._told_in, index),
            )
            for index in range(count)
        ]

    def _told_in(self, index: int) -> str:
        """Turn `index` as what it affirms (see `told`)."""
        kept = []
        denied = self._denied_in(index + 1)
        for text, question in self._turns[index]:
            if question and not self._answered_yes(index):
                continue
            words = [
                found.group()
                for found in re.finditer(r"[a-z0-9]+", text)
                if not span_negated(text, found.start(), found.end())
                and not (question and found.group() in denied)
            ]
            kept.append(" ".join(words))
        return " , ".join(part for part in kept if part)

    def _denied_in(self, index: int) -> set[str]:
        """The words turn `index` denies ("febre não" denies "febre"); empty past the end."""
        if index >= len(self._turns):
            return set()
        return {
            found.group()
            for text, _ in self._turns[index]
            for found in re.finditer(r"[a-z0-9]+", text)
            if found.group() not in said.NEGATIONS
            and span_negated(text, found.start(), found.end())
        }

    def _answered_yes(self, index: int) -> bool:
        """Whether the turn after `index` opens without denying (a question's answer)."""
        if index + 1 >= len(self._turns) or not self._turns[index + 1]:
            return False
        opening = self._turns[index + 1][0][0].split()
        if opening[:1] and opening[0] in said.DENIALS:
            return False
        return not (len(opening) <= _SHORT_ANSWER and "nao" in opening)

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
        key, alone, pairs = id(pattern), self._alone, self._pairs
        for index in range(len(alone) - 1, -1, -1):
            known = alone[index].affirmed
            found = known.get(key)
            if found is None or found[0] is not pattern:
                found = known[key] = (pattern, self._affirmed_in(index, pattern))
            if found[1] is not None:
                return index, found[1]
            if index > 0:
                asked = pairs[index - 1].asked
                found = asked.get(key)
                if found is None or found[0] is not pattern:
                    found = asked[key] = (pattern, self._asked_in(index - 1, pattern))
                if found[1] is not None:
                    # Before anything said in the answer, in the order the question asked.
                    return index, found[1] - _ANSWER_OFFSET
        return None

    def find_each(self, patterns: tuple[re.Pattern[str], ...]) -> list[tuple[int, int] | None]:
        """`find` of each of `patterns`, in their order: the same answers, sooner for a fixed set.

        Pass the same tuple at every utterance (a reader's whole list of patterns): each turn
        then keeps where it affirms any of them, so the window is merged from those few
        places instead of every pattern being looked up in every turn.
        """
        # A turn's hits are kept under the tuple's id, holding the tuple (as `find` holds a
        # pattern): while it is held no other tuple can have its id. Merged oldest turn first,
        # the newest place wins, and in a turn its own words win over a question it answers
        # (the order in which `find` looks).
        key = id(patterns)
        found: list[tuple[int, int] | None] = [None] * len(patterns)
        for index, alone in enumerate(self._alone):
            if index > 0:
                pair = self._pairs[index - 1].asked_each
                hits = pair.get(key)
                if hits is None or hits[0] is not patterns:
                    hits = pair[key] = (patterns, self._asked_each(index - 1, patterns))
                for at, position in hits[1]:
                    found[at] = (index, position - _ANSWER_OFFSET)
            hits = alone.affirmed_each.get(key)
            if hits is None or hits[0] is not patterns:
                hits = alone.affirmed_each[key] = (patterns, self._affirmed_each(index, patterns))
            for at, position in hits[1]:
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

        The matches must be near each other (`_TOGETHER_SPAN` words from the first to the last),
        and the stretch is read as one: a negation before it, or a "não" closing the clause,
        denies it ("sem falta de ar", "falta de ar não").

        Returns:
            ``(turn, position in that turn)``, or None.
        """
        # By ids, holding the patterns: a pattern's hash reads its whole program, and while
        # the patterns are held no others can have their ids (equal patterns answer alike).
        patterns = tuple(patterns)
        key = tuple(map(id, patterns))
        for index in range(len(self._turns) - 1, -1, -1):
            if index > 0:
                pair = self._pairs[index - 1].asked_together
                both = pair.get(key)
                if both is None or both[0] != patterns:
                    both = pair[key] = (patterns, self._asked_together(index - 1, patterns))
                if both[1]:
                    return index, -_ANSWER_OFFSET
            alone = self._alone[index].together
            found = alone.get(key)
            if found is None or found[0] != patterns:
                found = alone[key] = (patterns, self._together_in(index, patterns))
            if found[1] is not None:
                return index, found[1]
        return None

    def _together_in(self, index: int, patterns: Sequence[re.Pattern[str]]) -> int | None:
        """Where a clause of turn `index`, not a question, affirms every one of `patterns`."""
        offset = 0
        for text, question in self._turns[index]:
            found = [pattern.search(text) for pattern in patterns]
            if not question and all(found):
                start = min(m.start() for m in found if m is not None)
                end = max(m.end() for m in found if m is not None)
                near = len(text[start:end].split()) <= _TOGETHER_SPAN
                if near and not span_negated(text, start, end):
                    return offset + start
            offset += len(text)
        return None

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

    def _asked_together(self, index: int, patterns: Sequence[re.Pattern[str]]) -> bool:
        """Whether turn `index` asks about every one of `patterns` and the next turn confirms."""
        asked: list[re.Match[str]] = []
        for pattern in patterns:
            found = [
                match
                for text, question in self._turns[index]
                if question
                for match in pattern.finditer(text)
                if not negated(text, match)
            ]
            if not found:
                return False
            asked.append(found[0])
        return all(self._confirmed(index, match) for match in asked)

    def _affirmed(self, index: int, pattern: re.Pattern[str]) -> int | None:
        """Position of the first occurrence of `pattern` that counts in turn `index`, or None."""
        # By id, holding the pattern: while it is held no other pattern can have its id.
        known = self._alone[index].affirmed
        found = known.get(id(pattern))
        if found is None or found[0] is not pattern:
            found = known[id(pattern)] = (pattern, self._affirmed_in(index, pattern))
        return found[1]

    def _affirmed_in(self, index: int, pattern: re.Pattern[str]) -> int | None:
        """`_affirmed`, worked out."""
        offset = 0
        for text, question in self._turns[index]:
            for found in pattern.finditer(text):
                if not question and not negated(text, found):
                    return offset + found.start()
            offset += len(text)
        return None

    def _asked_and_confirmed(self, index: int, pattern: re.Pattern[str]) -> int | None:
        """Where `pattern` is in a screening question of turn `index` the next turn confirmed.

        Returns:
            Its position in the turn, or None.
        """
        known = self._pairs[index].asked
        found = known.get(id(pattern))
        if found is None or found[0] is not pattern:
            found = known[id(pattern)] = (pattern, self._asked_in(index, pattern))
        return found[1]

    def _asked_in(self, index: int, pattern: re.Pattern[str]) -> int | None:
        """`_asked_and_confirmed`, worked out."""
        offset = 0
        for text, question in self._turns[index]:
            for found in pattern.finditer(text):
                if question and not negated(text, found) and self._confirmed(index, found):
                    return offset + found.start()
            offset += len(text)
        return None

    def _confirmed(self, index: int, asked: re.Match[str]) -> bool:
        """Whether the turn after `index` answers the question `asked` came from, undenied.

        The answer denies it when it opens with a denial ("não, nada disso") or denies one of
        the asked words ("sangue não, febre também não" to "tem sangue nas fezes?").
        """
        if index + 1 >= len(self._turns):
            return False
        answer = self._turns[index + 1]
        opening = answer[0][0].split() if answer else []
        if opening[:1] and opening[0] in said.DENIALS:
            return False
        if len(opening) <= _SHORT_ANSWER and "nao" in opening:
            return False  # "tenho não", "senti não": the Brazilian way to answer no
        words = [w for w in asked.group().split() if len(w) >= CONTENT_WORD]
        return not any(
            negated(text, found)
            for word in words
            for text, _ in answer
            for found in re.finditer(f"(?<= ){re.escape(word)}(?= )", text)
        )
