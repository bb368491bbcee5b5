"""Reading a dialogue window the way a counter conversation means it: denials and questions.

In: the turns' texts (oldest first). Out: `Heard`, which says where a pattern
(`balto.advice.lexicon`) is affirmed — not denied ("sem falta de ar", "febre não", "tenho não"),
not only asked about ("tá com febre?") unless the next turn confirms it. Raises nothing.

Turns are split into sentences and comma clauses. A question with nothing personal in it, short or
opening like a screening question or offering a choice, is an attendant's screening question, unless
it is a customer's ask for a product ("tem aquele…", "me vê…").
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence

from balto.advice import heard_words as said
from balto.advice.lexicon import spoken
from balto.catalog import normalize

# Words from the first to the last match of a word-group combination, at most: a body part and a
# complaint belong together in "as costas travaram aqui", not across a whole sentence.
_TOGETHER_SPAN = 7
# How a customer's ask for a product ends ("um rivotril, a senhora tem?").
_ASK_ENDINGS = ("tem", "tem ai", "voces tem", "vende", "vendem", "voces vendem", "tem ai moca")
# A screening question is short, or opens like one, or offers a choice.
_SHORT_QUESTION = 10
# An answer's first clause this short with a "não" in it answers no ("tenho não").
_SHORT_ANSWER = 3
# Words of a screening question this long or longer are what an answer can deny.
_CONTENT_WORD = 4
# Positions of confirmed questions' words are shifted this far left of the answer's own words.
_ANSWER_OFFSET = 1_000_000
ATTENDANT = "atendente"
"""The role of the counter's attendant (`Turn.speaker`), whose words are asked, not told."""
_SENTENCE = re.compile(r"[^.!?;]+[.!?;]*")


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
    ) -> None:
        """Split each turn of `texts` (oldest first) into clauses, blanking what `ignore` finds.

        `roles`, when known (speaker identification), say who spoke each turn: whatever the
        attendant says is asked, not told — it counts once the next turn confirms it ("tá com
        falta de ar, chiado no peito" — "não, respiro normal" shows nothing).
        """
        spoken_by = [*roles, *[None] * (len(texts) - len(roles))]
        asked = [role == ATTENDANT for role in spoken_by]
        # What each turn denies, to tell in the turn before it the questions STT wrote without
        # their "?": a sentence answered "não, nada disso", or whose words the answer denies.
        first = [_clauses(text, ignore, asked=a) for text, a in zip(texts, asked, strict=False)]
        answers = [_answer(clauses) for clauses in first[1:]] + [frozenset()]
        self._turns = [
            _clauses(text, ignore, asked=a, denied=denied) if denied else clauses
            for text, a, denied, clauses in zip(texts, asked, answers, first, strict=False)
        ]

    def told(self) -> list[str]:
        """Each turn as what it affirms: denied words and unconfirmed screening questions out.

        What the learned reader (`balto.advice.reader`) reads, so "dor no peito não, é azia"
        and "tá com falta de ar?" — "não" show it no chest pain and no breathlessness.
        """
        turns = []
        for index, clauses in enumerate(self._turns):
            kept = []
            denied = self._denied_in(index + 1)
            for text, question in clauses:
                if question and not self._answered_yes(index):
                    continue
                words = [
                    found.group()
                    for found in re.finditer(r"[a-z0-9]+", text)
                    if not _span_negated(text, found.start(), found.end())
                    and not (question and found.group() in denied)
                ]
                kept.append(" ".join(words))
            turns.append(" , ".join(part for part in kept if part))
        return turns

    def _denied_in(self, index: int) -> set[str]:
        """The words turn `index` denies ("febre não" denies "febre"); empty past the end."""
        if index >= len(self._turns):
            return set()
        return {
            found.group()
            for text, _ in self._turns[index]
            for found in re.finditer(r"[a-z0-9]+", text)
            if found.group() not in said.NEGATIONS
            and _span_negated(text, found.start(), found.end())
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
        for index in range(len(self._turns) - 1, -1, -1):
            position = self._affirmed(index, pattern)
            if position is not None:
                return index, position
            if index > 0:
                asked_at = self._asked_and_confirmed(index - 1, pattern)
                if asked_at is not None:
                    # Before anything said in the answer, in the order the question asked.
                    return index, asked_at - _ANSWER_OFFSET
        return None

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
        for index in range(len(self._turns) - 1, -1, -1):
            if index > 0 and self._asked_together(index - 1, patterns):
                return index, -_ANSWER_OFFSET
            offset = 0
            for text, question in self._turns[index]:
                found = [pattern.search(text) for pattern in patterns]
                if not question and all(found):
                    start = min(m.start() for m in found if m is not None)
                    end = max(m.end() for m in found if m is not None)
                    near = len(text[start:end].split()) <= _TOGETHER_SPAN
                    if near and not _span_negated(text, start, end):
                        return index, offset + start
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
                if not _negated(text, match)
            ]
            if not found:
                return False
            asked.append(found[0])
        return all(self._confirmed(index, match) for match in asked)

    def _affirmed(self, index: int, pattern: re.Pattern[str]) -> int | None:
        """Position of the first occurrence of `pattern` that counts in turn `index`, or None."""
        offset = 0
        for text, question in self._turns[index]:
            for found in pattern.finditer(text):
                if not question and not _negated(text, found):
                    return offset + found.start()
            offset += len(text)
        return None

    def _asked_and_confirmed(self, index: int, pattern: re.Pattern[str]) -> int | None:
        """Where `pattern` is in a screening question of turn `index` the next turn confirmed.

        Returns:
            Its position in the turn, or None.
        """
        offset = 0
        for text, question in self._turns[index]:
            for found in pattern.finditer(text):
                if question and not _negated(text, found) and self._confirmed(index, found):
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
        words = [w for w in asked.group().split() if len(w) >= _CONTENT_WORD]
        return not any(
            _negated(text, found)
            for word in words
            for text, _ in answer
            for found in re.finditer(f"(?<= ){re.escape(word)}(?= )", text)
        )


_ANY = frozenset({"*"})  # an answer that denies whatever was asked ("não, nada disso")


def _answer(clauses: Sequence[tuple[str, bool]]) -> frozenset[str]:
    """The words a turn denies as an answer would; `_ANY` when it opens saying no."""
    if not clauses:
        return frozenset()
    opening = clauses[0][0].split()
    if opening[:1] and opening[0] in said.DENIALS:
        return _ANY
    return frozenset(
        found.group()
        for text, _ in clauses
        for found in re.finditer(r"[a-z0-9]+", text)
        if len(found.group()) >= _CONTENT_WORD
        and found.group() not in said.NEGATIONS
        and _span_negated(text, found.start(), found.end())
    )


def _clauses(
    text: str,
    ignore: re.Pattern[str] | None,
    *,
    asked: bool = False,
    denied: frozenset[str] = frozenset(),
) -> list[tuple[str, bool]]:
    """``(padded clause, is screening question)`` for each comma-separated clause of `text`.

    Every clause of a question with nothing personal in it is a screening question ("inchou
    lábio, língua ou olho?", "o senhor tá com falta de ar, a boca inchando?"), unless the
    question is a customer's ask for a product, which tells ("a garganta tá arranhando, tem
    alguma pastilha?"). Every clause is one when the turn is `asked` (the attendant's). When the
    next turn answers no (`denied`: it opens with a denial, or denies words of the sentence), a
    sentence with nothing personal in it was asked, question mark or not ("tem sangue nas fezes
    febre alta" — "não, nada disso"; "sente falta de ar" — "tosse sim, falta de ar não").
    """
    clauses = []
    for sentence in _SENTENCE.findall(normalize(text)):
        words = spoken(sentence)
        asking = sentence.rstrip().endswith("?") and not set(words.split()) & said.PERSONAL
        parts = [f" {spoken(part)} " for part in sentence.split(",")]
        parts = [part for part in parts if part.strip()]
        ask = any(part.startswith(f" {o} ") for part in parts for o in said.ASKS) or any(
            f" {words} ".endswith(f" {e} ") for e in _ASK_ENDINGS
        )
        # A long question that neither opens like a screening question nor offers a choice is
        # someone telling with a question mark ("agora o rosto tá inchando e parece que a
        # garganta tá fechando, tem um antialérgico?").
        opens = any(f" {_unlinked(words)} ".startswith(f" {o} ") for o in said.OPENERS)
        shaped = len(words.split()) <= _SHORT_QUESTION or " ou " in f" {words} " or opens
        # Speech-to-text rarely writes the question mark: a sentence with nothing personal in
        # it that opens like a screening question ("tá sentindo falta de ar, chiado no peito")
        # is one.
        impersonal = not set(words.split()) & said.PERSONAL
        answered_no = denied is _ANY or bool(denied & set(words.split()))
        asking = (asking and shaped) or (impersonal and (opens or answered_no))
        for clause in parts:
            if ignore is not None:
                clause = ignore.sub(" ", clause)
            clauses.append((clause, asked or (asking and not ask)))
    return clauses


def _unlinked(words: str) -> str:
    """`words` without the linking word a follow-up question opens with ("e tem algum…")."""
    first, _, rest = words.partition(" ")
    return rest if first in said.LINKS and rest else words


def _negated(text: str, found: re.Match[str]) -> bool:
    """Whether the clause `text` denies what `found` matched in it."""
    return _span_negated(text, found.start(), found.end())


def _span_negated(text: str, start: int, end: int) -> bool:
    """Whether the clause `text` denies what was found between `start` and `end`."""
    matched = text[start:end].split()
    words = text[:start].split()
    before = words[-said.NEGATION_REACH :]
    following = [*words[len(words) - len(before) + 1 :], *matched[:1]]
    for word, then in zip(before, following, strict=False):
        # "não consigo respirar", "não para de sangrar": an inability or a persistence, not a
        # denial.
        if word in said.NEGATIONS and not (
            then.startswith(said.NOT_DENIALS) or then in said.PERSISTING
        ):
            return True
    after = text[end:].split()
    if "nao" in matched:
        return False  # already negative; a "não" after it only doubles it ("não quero viver não")
    # A "não" closing the clause denies it ("febre não"), and so does a "não" before a
    # verb of refusal ("dipirona ele não pode").
    if set(after) & said.DENIALS and set(after) <= said.CLOSING_DENIAL:
        return True
    if after[-1:] == ["nao"] and not set(after) & (said.REFUSALS | said.PERSISTING):
        return True  # a clause closed by "não" denies what it names ("falta de ar não")
    # Not across an "e": in "febre e não quer mamar" the "não" starts another clause (while in
    # "dipirona, mas ele não pode" it is still about the dipirona).
    linked = after.index("e") if "e" in after else len(after)
    return any(
        w == "nao" and then in said.REFUSALS
        for w, then in itertools.pairwise(after[: min(4, linked)])
    )
