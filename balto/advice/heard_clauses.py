"""How one turn is read: its clauses, which of them are questions, and what denies what.

In: a turn's text (and its role, and what the next turn denies). Out: its clauses, each padded
with spaces and marked when it is a screening question, for `balto.advice.heard.Heard`; whether a
clause denies a stretch of it. Raises nothing. Kept apart from `Heard` (which reads a window of
turns) because a turn's reading depends only on these inputs, which is what lets a session
remember it (`balto.advice.heard_memo`).
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Sequence

from balto.advice import heard_words as said
from balto.advice.lexicon import spoken
from balto.catalog import normalize

# How a customer's ask for a product ends ("um rivotril, a senhora tem?").
_ASK_ENDINGS = ("tem", "tem ai", "voces tem", "vende", "vendem", "voces vendem", "tem ai moca")
# A screening question is short, or opens like one, or offers a choice.
_SHORT_QUESTION = 10
CONTENT_WORD = 4
"""Words of a screening question this long or longer are what an answer can deny."""
_TEXTS = 8_192  # turns whose sentences are kept read: a few hundred sessions' windows
_SENTENCE = re.compile(r"[^.!?;]+[.!?;]*")

ANY = frozenset({"*"})  # an answer that denies whatever was asked ("não, nada disso")


def answer(turn: Sequence[tuple[str, bool]]) -> frozenset[str]:
    """The words a turn (its clauses) denies as an answer would; `ANY` when it opens saying no."""
    if not turn:
        return frozenset()
    opening = turn[0][0].split()
    if opening[:1] and opening[0] in said.DENIALS:
        return ANY
    return frozenset(
        found.group()
        for text, _ in turn
        for found in re.finditer(r"[a-z0-9]+", text)
        if len(found.group()) >= CONTENT_WORD
        and found.group() not in said.NEGATIONS
        and span_negated(text, found.start(), found.end())
    )


def denials(text: str, ignore: re.Pattern[str] | None) -> frozenset[str]:
    """What turn `text` denies as an answer (`answer`); its clauses' texts alone decide it."""
    return answer(clauses(text, ignore))


def clauses(
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
    parsed = []
    for parts, words, shaped_question, opens, impersonal, ask in _sentences(text):
        answered_no = denied is ANY or bool(denied & words)
        asking = shaped_question or (impersonal and (opens or answered_no))
        for clause in parts:
            if ignore is not None:
                clause = ignore.sub(" ", clause)
            parsed.append((clause, asked or (asking and not ask)))
    return parsed


@functools.lru_cache(maxsize=_TEXTS)
def _sentences(
    text: str,
) -> tuple[tuple[tuple[str, ...], frozenset[str], bool, bool, bool, bool], ...]:
    """What `clauses` reads in each sentence of `text` whatever the reader, role and answer.

    ``(padded clauses, words, a question shaped as a screening one, opens like one, nothing
    personal in it, a customer's ask)``: a turn is read by three readers (their ``ignore``),
    as the newest and again once answered, so this was worked out many times per turn.
    """
    parsed = []
    for sentence in _SENTENCE.findall(normalize(text)):
        words = spoken(sentence)
        said_words = frozenset(words.split())
        asking = sentence.rstrip().endswith("?") and not said_words & said.PERSONAL
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
        # is one (`clauses` adds one its answer denies).
        impersonal = not said_words & said.PERSONAL
        parsed.append((tuple(parts), said_words, asking and shaped, opens, impersonal, ask))
    return tuple(parsed)


def _unlinked(words: str) -> str:
    """`words` without the linking word a follow-up question opens with ("e tem algum…")."""
    first, _, rest = words.partition(" ")
    return rest if first in said.LINKS and rest else words


def negated(text: str, found: re.Match[str]) -> bool:
    """Whether the clause `text` denies what `found` matched in it."""
    return span_negated(text, found.start(), found.end())


def span_negated(text: str, start: int, end: int) -> bool:
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
