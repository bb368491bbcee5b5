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
from functools import partial

from balto.advice.heard_memo import UNKNOWN, HeardMemo
from balto.advice.lexicon import spoken
from balto.catalog import normalize

# Words that deny what follows them within a few words ("não tô com febre", "sem falta de ar").
_NEGATIONS = frozenset({"nao", "sem", "nenhum", "nenhuma", "nunca", "nada", "nem"})
_NEGATION_REACH = 3
# First words of an answer that deny the question before it ("não, nada disso").
_DENIALS = frozenset({"nao", "nada", "nenhum", "nenhuma", "nunca", "negativo"})
# A question with one of these in it is the speaker telling about themselves or their family
# ("tô com dor no peito, o que eu faço?"); without them it is a screening question ("tá com
# febre?"), which shows nothing until it is answered.
_PERSONAL = frozenset(
    [
        "eu",
        "to",
        "tou",
        "estou",
        "tava",
        "estava",
        "meu",
        "minha",
        "meus",
        "minhas",
        "me",
        "mim",
        "comigo",
        "filho",
        "filha",
        "pai",
        "mae",
        "marido",
        "esposa",
        "mulher",
        "avo",
        "bebe",
        "nene",
        "irmao",
        "irma",
        "neto",
        "neta",
    ]
)
# How an attendant's screening question opens: what follows is asked, not told.
_OPENERS = (
    "o senhor",
    "a senhora",
    "senhor",
    "senhora",
    "voce",
    "vc",
    "ce",
    "tu",
    "ta com",
    "esta com",
    "ta sentindo",
    "teve",
    "tem tido",
    "sente",
    "sentiu",
    "ja teve",
)
# How a customer's ask for a product opens: the clauses before it are told, not asked.
_ASKS = (
    "tem aquele",
    "tem aquela",
    "tem um",
    "tem uma",
    "tem alguma coisa",
    "tem algum remedio",
    "tem alguma pastilha",
    "tem remedio",
    "voces tem",
    "vcs tem",
    "me da",
    "me ve",
    "quero",
    "queria",
    "o que eu",
    "qual eu",
    "qual que eu",
    "o que a senhora tem",
    "o que o senhor tem",
    "o que voces tem",
    "quanto",
)
# After "não", these words make an inability or a persistence, not a denial.
_NOT_DENIALS = ("consig", "consegu", "aguent")
_PERSISTING = frozenset(
    [
        "para",
        "paro",
        "parou",
        "passa",
        "passou",
        "melhora",
        "melhorou",
        "sara",
        "baixa",
        "baixou",
        "sai",
        "larga",
    ]
)
# After the symptom or product, "não" and one of these refuses it ("dipirona ele não pode").
_REFUSALS = frozenset(
    [
        "pode",
        "posso",
        "quer",
        "quero",
        "gosta",
        "gosto",
        "toma",
        "tomo",
        "tomar",
        "serve",
        "usa",
        "uso",
        "tenho",
        "tem",
        "sinto",
        "sente",
    ]
)
# A clause that ends in "não" with only these around it denies what it names ("febre também não").
_CLOSING_DENIAL = frozenset(
    {"nao", "tambem", "mesmo", "ainda", "nada", "nunca", "nenhum", "nenhuma"}
)
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
        memo: HeardMemo | None = None,
    ) -> None:
        """Read `texts` (oldest first), blanking `ignore`; `memo`: only the turns new to it."""
        split = partial(_clauses, ignore=ignore)
        memo = HeardMemo() if memo is None else memo  # without one, each answer is worked once
        self._turns = [memo.clauses(text, split) for text in texts]
        # Answers by pattern: per turn, per turn and the next one (a question and its answer).
        pairs = list(itertools.pairwise(texts))
        self._affirmed = [memo.answers("affirmed", text) for text in texts]
        self._asked = [memo.answers("asked", pair) for pair in pairs]
        self._together = [memo.answers("together", text) for text in texts]
        self._asked_together = [memo.answers("asked together", pair) for pair in pairs]

    def newest(self, pattern: re.Pattern[str]) -> int:
        """Index of the newest turn in which `pattern` is affirmed, or -1."""
        found = self.find(pattern)
        return -1 if found is None else found[0]

    def find(self, pattern: re.Pattern[str]) -> tuple[int, int] | None:
        """Where `pattern` is last affirmed: ``(turn, position in that turn)``, or None.

        A screening question confirmed by the next turn counts in that answering turn, before
        anything said in it (position -1): "é cólica?" — "é, tipo uma torção" is about cólica.
        """
        affirmed, asked = self._affirmed, self._asked
        for index in range(len(self._turns) - 1, -1, -1):
            position = affirmed[index].get(pattern, UNKNOWN)
            if position is UNKNOWN:
                position = affirmed[index][pattern] = self._affirmed_in(index, pattern)
            if position is not None:
                return index, position  # type: ignore[return-value]  # an int, stored here
            if index > 0:
                asked_at = asked[index - 1].get(pattern, UNKNOWN)
                if asked_at is UNKNOWN:
                    asked_at = asked[index - 1][pattern] = self._asked_in(index - 1, pattern)
                if isinstance(asked_at, int):
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
        key = tuple(patterns)
        for index in range(len(self._turns) - 1, -1, -1):
            if index > 0:
                known = self._asked_together[index - 1]
                if key not in known:
                    known[key] = self._asked_together_in(index - 1, patterns)
                if known[key]:
                    return index, -_ANSWER_OFFSET
            known = self._together[index]
            if key not in known:
                known[key] = self._together_in(index, patterns)
            position = known[key]
            if isinstance(position, int):
                return index, position
        return None

    def _together_in(self, index: int, patterns: Sequence[re.Pattern[str]]) -> int | None:
        offset = 0
        for text, question in self._turns[index]:
            found = [pattern.search(text) for pattern in patterns]
            if not question and all(found):
                start = min(m.start() for m in found if m is not None)
                end = max(m.end() for m in found if m is not None)
                near = len(text[start:end].split()) <= _TOGETHER_SPAN
                if near and not _span_negated(text, start, end):
                    return offset + start
            offset += len(text)
        return None

    def nearby(self, patterns: Sequence[re.Pattern[str]], reach: int) -> bool:
        """Whether every one of `patterns` is affirmed within `reach` consecutive turns.

        Wider than `together`: "um negócio no peito" — "que negócio?" — "um aperto" is a chest
        complaint said over three turns.
        """
        count = len(self._turns)
        hits = [[self._said_at(index, pattern) for index in range(count)] for pattern in patterns]
        return any(all(any(hit[start : start + reach]) for hit in hits) for start in range(count))

    def _asked_together_in(self, index: int, patterns: Sequence[re.Pattern[str]]) -> bool:
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

    def _said_at(self, index: int, pattern: re.Pattern[str]) -> bool:
        """Whether turn `index` affirms `pattern`, or confirms the previous turn's asking it."""
        known = self._affirmed[index]
        if pattern not in known:
            known[pattern] = self._affirmed_in(index, pattern)
        if known[pattern] is not None or index == 0:
            return known[pattern] is not None
        known = self._asked[index - 1]
        if pattern not in known:
            known[pattern] = self._asked_in(index - 1, pattern)
        return known[pattern] is not None

    def _affirmed_in(self, index: int, pattern: re.Pattern[str]) -> int | None:
        """Position of the first occurrence of `pattern` that counts in turn `index`, or None."""
        offset = 0
        for text, question in self._turns[index]:
            for found in pattern.finditer(text):
                if not question and not _negated(text, found):
                    return offset + found.start()
            offset += len(text)
        return None

    def _asked_in(self, index: int, pattern: re.Pattern[str]) -> int | None:
        """Where `pattern` is in a screening question of turn `index` the next turn confirmed."""
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
        if opening[:1] and opening[0] in _DENIALS:
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


def _clauses(text: str, ignore: re.Pattern[str] | None) -> list[tuple[str, bool]]:
    """``(padded clause, is screening question)`` for each comma-separated clause of `text`.

    Every clause of a question with nothing personal in it is a screening question ("inchou
    lábio, língua ou olho?", "o senhor tá com falta de ar, a boca inchando?"), unless the
    question is a customer's ask for a product, which tells ("a garganta tá arranhando, tem
    alguma pastilha?").
    """
    clauses = []
    for sentence in _SENTENCE.findall(normalize(text)):
        words = spoken(sentence)
        asking = sentence.rstrip().endswith("?") and not set(words.split()) & _PERSONAL
        parts = [f" {spoken(part)} " for part in sentence.split(",")]
        parts = [part for part in parts if part.strip()]
        ask = any(part.startswith(f" {o} ") for part in parts for o in _ASKS) or any(
            f" {words} ".endswith(f" {e} ") for e in _ASK_ENDINGS
        )
        # A long question that neither opens like a screening question nor offers a choice is
        # someone telling with a question mark ("agora o rosto tá inchando e parece que a
        # garganta tá fechando, tem um antialérgico?").
        shaped = (
            len(words.split()) <= _SHORT_QUESTION
            or " ou " in f" {words} "
            or any(f" {words} ".startswith(f" {o} ") for o in _OPENERS)
        )
        asking = asking and shaped
        for clause in parts:
            if ignore is not None:
                clause = ignore.sub(" ", clause)
            clauses.append((clause, asking and not ask))
    return clauses


def _negated(text: str, found: re.Match[str]) -> bool:
    """Whether the clause `text` denies what `found` matched in it."""
    return _span_negated(text, found.start(), found.end())


def _span_negated(text: str, start: int, end: int) -> bool:
    """Whether the clause `text` denies what was found between `start` and `end`."""
    matched = text[start:end].split()
    words = text[:start].split()
    before = words[-_NEGATION_REACH:]
    following = [*words[len(words) - len(before) + 1 :], *matched[:1]]
    for word, then in zip(before, following, strict=False):
        # "não consigo respirar", "não para de sangrar": an inability or a persistence, not a
        # denial.
        if word in _NEGATIONS and not (then.startswith(_NOT_DENIALS) or then in _PERSISTING):
            return True
    after = text[end:].split()
    if "nao" in matched:
        return False  # already negative; a "não" after it only doubles it ("não quero viver não")
    # A "não" closing the clause denies it ("febre não"), and so does a "não" before a
    # verb of refusal ("dipirona ele não pode").
    if set(after) & _DENIALS and set(after) <= _CLOSING_DENIAL:
        return True
    if after[-1:] == ["nao"] and not set(after) & (_REFUSALS | _PERSISTING):
        return True  # a clause closed by "não" denies what it names ("falta de ar não")
    return any(w == "nao" and then in _REFUSALS for w, then in itertools.pairwise(after[:4]))
