"""One dialogue window's turns read one at a time, each reading kept in the session's memo.

In: the turns' texts (oldest first), roles when known, and the session's `HeardMemo`. Out:
`TurnReadings`, the base of `balto.advice.heard.Heard`: where in one turn a pattern is affirmed,
asked and confirmed by the next turn, or affirmed together with others, and what each turn tells
(`told`). Raises nothing. Every reading is kept under what decides it
(`balto.advice.heard_memo`), so a window read again costs look-ups for the turns it read before;
`Heard` puts the window's answers together from these.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import partial

from balto.advice import heard_words as said
from balto.advice.heard_clauses import CONTENT_WORD, clauses, denials, negated, span_negated
from balto.advice.heard_memo import UNSEEN, HeardMemo, PairAnswers, TurnAnswers

# Words from the first to the last match of a word-group combination, at most: a body part and a
# complaint belong together in "as costas travaram aqui", not across a whole sentence.
_TOGETHER_SPAN = 7
# An answer's first clause this short with a "não" in it answers no ("tenho não").
_SHORT_ANSWER = 3
ATTENDANT = "atendente"
"""The role of the counter's attendant (`Turn.speaker`), whose words are asked, not told."""


class TurnReadings:
    """A window's turns, each read (and kept) on its own or with its answer (the next turn)."""

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

    def _together(self, index: int, patterns: tuple[re.Pattern[str], ...]) -> int | None:
        """`_together_in`, kept as `find_together` keeps it."""
        key = tuple(map(id, patterns))
        alone = self._alone[index].together
        found = alone.get(key, UNSEEN)
        if found == UNSEEN:
            self._table.pin(*patterns)
            found = alone[key] = self._together_in(index, patterns)
        return found

    def _asked_together_kept(self, index: int, patterns: tuple[re.Pattern[str], ...]) -> bool:
        """`_asked_together`, kept as `find_together` keeps it."""
        key = tuple(map(id, patterns))
        pair = self._pairs[index].asked_together
        both = pair.get(key)
        if both is None:
            self._table.pin(*patterns)
            both = pair[key] = self._asked_together(index, patterns)
        return both

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
        # By id, the table pinning the pattern: no other pattern can have its id meanwhile.
        known = self._alone[index].affirmed
        found = known.get(id(pattern), UNSEEN)
        if found == UNSEEN:
            self._table.pin(pattern)
            found = known[id(pattern)] = self._affirmed_in(index, pattern)
        return found

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
        found = known.get(id(pattern), UNSEEN)
        if found == UNSEEN:
            self._table.pin(pattern)
            found = known[id(pattern)] = self._asked_in(index, pattern)
        return found

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
