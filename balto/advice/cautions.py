"""Contraindications: what the customer tells the counter that rules products out.

In: the dialogue window (what each turn affirms, `balto.advice.reader.told_turns`, so "não estou
grávida" and "tá grávida?" answered "não" show nothing) and the session's catalog. Out:
`Cautions` — the conditions said (pregnancy, breastfeeding, high blood pressure, suspected
dengue, gastritis or ulcer, anticoagulants, a small child: ``cautions.toml``) and the allergies
("sou alérgica a dipirona", "não posso tomar AAS") — and, for a catalog, the products they rule
out with the reason the attendant reads (`avoid`). Raises nothing.

A product is ruled out by a condition its catalog row lists in ``contraindicacoes`` (a code or
one of its names, `condition_code`), and by an allergy whose word (or the active ingredient or
class a brand stands for: "novalgina" → dipirona, "aine" → anti-inflamatório) is a word of its
name or category. The advisor chain offers ruled-out products to no advisor and refuses an
answer naming one (`contraindicado`); see `balto.advice.chain`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from balto.advice.cautions_table import (
    CONDITIONS,
    IGNORED,
    JOINED,
    SYNONYMS,
    Condition,
    allergy_label,
    condition_code,
    label,
)
from balto.advice.heard_memo import HeardMemo
from balto.advice.lexicon import spoken
from balto.advice.reader import told_turns
from balto.catalog import Catalog, Product, normalize
from balto.providers.ports import Turn

# "sou alérgica a dipirona", "alergia ao ácido acetilsalicílico", "alérgico com anti-inflamatório":
# the cue, then up to three words (the substance). Read on the turn as said, once what it
# affirms still holds the cue (a denied allergy, or a question answered no, has lost it), and
# not after a "não" (`_NEGATED`).
_ALLERGIC = re.compile(
    r"(?<![a-z0-9])alergi[a-z]* (?:a|ao|aos|as|de|da|do|das|dos|com|pela|pelo|por) "
    r"(?:(?:o|a|os|as|um|uma) )?([a-z0-9]+(?: [a-z0-9]+){0,2})"
)
# "dipirona me dá alergia", "a novalgina me deu alergia"
_GIVES = re.compile(r"([a-z0-9]+(?: [a-z0-9]+)?) (?:me |que )?(?:da|deu|dao|davam?) alergia")
# Said with its negation, which is its meaning: read on the turn as said, not as affirmed.
_CANNOT = re.compile(
    r"(?<![a-z0-9])nao (?:posso|pode|podia|consigo|devo) (?:tomar|usar) "
    r"(?:(?:o|a|os|as|um|uma|nenhum|nenhuma) )?([a-z0-9]+(?: [a-z0-9]+){0,2})"
)


# "grávida eu não tô", "pressão alta não tenho": denied after it, as customers answer.
_DENIED_AFTER = re.compile(
    r"^(?:[a-z0-9]+ ){0,2}(?:nao|nunca) (?:to|tou|estou|esta|ta|tenho|tem|sou|e|tomo|toma|uso"
    r"|usa|fico)(?![a-z0-9])"
)
_OVER_BEFORE = re.compile(r"(?<![a-z0-9])(?:parei|parou|deixei|deixou) de $")
_PEOPLE = (
    r"(?:mae|pai|marido|esposa|esposo|mulher|vizinh[ao]|irma|irmao|nora|genro|sogr[ao]|tia|tio"
    r"|avo|amig[ao]|cunhad[ao]|patr[ao]a?|colega)"
)
# "a vizinha tá grávida, mas o remédio é pra mim": someone else's, the product the speaker's
_SOMEONE_BEFORE = re.compile(rf"(?<![a-z0-9]){_PEOPLE}(?: [a-z0-9]+){{0,4}} $")
_FOR_ME = re.compile(r"(?<![a-z0-9])(?:pra|para) mim(?![a-z0-9])|(?<![a-z0-9])so pra (?:ele|ela)")
# "gastrite é o meu marido"
_ELSES_AFTER = re.compile(rf"^(?:e |eh )?(?:o |a )?(?:do |da |meu |minha ){_PEOPLE}(?![a-z0-9])")
# Asked of the customer within the last few words before a condition, and the answer's "no".
_YOU = re.compile(r"(?<![a-z0-9])(?:voce|vc|ce|senhor|senhora)(?: [a-z0-9]+){0,8} $")
_NO = frozenset(["nao", "num", "nunca", "nada", "negativo"])
_TURNS = 4096  # turns whose readings are kept: a few sessions' windows
_NEGATED = re.compile(r"(?<![a-z0-9])(?:nao|nunca|nem|sem)(?: [a-z0-9]+){0,2} $")


@dataclass(frozen=True, slots=True)
class Cautions:
    """What the window says rules products out.

    Attributes:
        conditions: Condition codes said, in the table's order.
        allergies: The substances or classes said to cause an allergy, as spoken words
            ("dipirona", "anti inflamatorio"), synonyms resolved.
        settled: Need codes the conditions settle (a pregnancy said with certainty settles the
            pregnancy-test need).
    """

    conditions: tuple[str, ...] = ()
    allergies: tuple[str, ...] = ()
    settled: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        """True when anything was said that may rule a product out."""
        return bool(self.conditions or self.allergies)

    def labels(self, ruled_out: Mapping[str, str] | None = None) -> tuple[str, ...]:
        """What the attendant and an LLM read: the conditions' labels, then "alergia a …".

        With `ruled_out` (`avoid`'s answer), only the allergies that rule a product out: "alergia
        a poeira" is a need, not a caution to show beside an antiallergic.
        """
        reasons = None if ruled_out is None else set(ruled_out.values())
        allergies = (allergy_label(word) for word in self.allergies)
        return (
            *(label(code) for code in self.conditions),
            *(a for a in allergies if reasons is None or a in reasons),
        )

    def avoid(self, catalog: Catalog) -> dict[str, str]:
        """The products of `catalog` these cautions rule out: normalized name → the reason."""
        if not self:
            return {}
        out: dict[str, str] = {}
        said = set(self.conditions)
        for product in catalog.products:
            reason = _ruled_out(product, said, self.allergies)
            if reason is not None:
                out[normalize(product.nome)] = reason
        return out


def _ruled_out(product: Product, said: set[str], allergies: Sequence[str]) -> str | None:
    """Why `product` is ruled out by conditions `said` or `allergies`, or None."""
    for entry in product.contraindicacoes:
        code = condition_code(entry)
        if code is not None and code in said:
            return label(code)
        if code is not None and code.startswith("alergia a ") and code[10:] in allergies:
            return allergy_label(code[10:])
    if allergies:
        words = f" {spoken(product.nome)} {spoken(product.categoria)} "
        for word in allergies:
            if f" {word} " in words:
                return allergy_label(word)
    return None


def read(dialogue: Sequence[Turn], memo: HeardMemo | None = None) -> Cautions:
    """The cautions the window shows (see the module docstring)."""
    texts = tuple(turn.text for turn in dialogue)
    said = [_said(text) for text in texts]
    mentioned = frozenset().union(*(_mentions(turn) for turn in said))
    if not mentioned:  # most windows: read no further
        return Cautions()
    told = [f" {turn} " for turn in told_turns(texts, [t.speaker for t in dialogue], memo)]
    conditions: list[str] = []
    settled: list[str] = []
    for condition in CONDITIONS:
        if condition.code not in mentioned or not _told(condition, told, said):
            continue
        conditions.append(condition.code)
        doubted = condition.doubts is not None and any(
            condition.doubts.search(turn) for turn in told
        )
        if condition.settles_need and not doubted:
            settled.append(condition.settles_need)
    allergies: dict[str, None] = {}
    for affirmed, turn in zip(told, said, strict=True) if "alergia" in mentioned else ():
        for found in _CANNOT.finditer(turn):  # its "não" is its meaning
            allergies.update(dict.fromkeys(_substances(found.group(1))))
        if " alergi" not in affirmed:  # denied, or a question not confirmed
            continue
        # the substance as said: what a turn affirms loses words beside any "não" in it
        for found in _ALLERGIC.finditer(turn):
            if not _NEGATED.search(turn[: found.start()]):
                allergies.update(dict.fromkeys(_substances(found.group(1))))
        for found in _GIVES.finditer(turn):  # the words before the cue: the name ends there
            words = found.group(1).split()
            pair = " ".join(words)
            joined = len(words) == 2 and (pair in SYNONYMS or words[0] in JOINED)
            allergies.update(dict.fromkeys(_substances(pair if joined else words[-1])))
    return Cautions(tuple(conditions), tuple(allergies), tuple(settled))


@functools.lru_cache(maxsize=_TURNS)
def _said(text: str) -> str:
    """A turn as said, as the patterns read it (spoken, space-padded)."""
    return f" {spoken(text)} "


@functools.lru_cache(maxsize=_TURNS)
def _mentions(said: str) -> frozenset[str]:
    """The conditions a turn as said holds a phrase of, and ``alergia`` for an allergy's cue."""
    found = frozenset(c.code for c in CONDITIONS if c.pattern.search(said))
    if " alergi" in said or _CANNOT.search(said):
        found |= {"alergia"}
    return found


def _told(condition: Condition, told: list[str], said: list[str]) -> bool:
    """Whether a turn tells `condition` of the customer.

    `told`: what each turn affirms; `said`: each as said (spoken, space-padded). Heard already
    drops what is denied before it and the screening questions it recognises. Here, as
    customers answer: denied after it ("grávida eu não tô", "pressão alta não tenho"), over
    ("parei de amamentar"), someone else's ("a vizinha tá grávida, mas o remédio é pra mim",
    "gastrite é o meu marido"), or the condition's own exceptions ("caso de dengue", "serve
    até pra criança"). An unpunctuated question asked of "você" / "a senhora" ("você tem
    problema de estômago" — "tenho não") counts only once answered, and not when the answer
    denies it. The context is read on the turn as said: what a turn affirms has lost the
    words beside its "não"s.
    """
    for k, turn in enumerate(said):
        if not condition.pattern.search(told[k]):
            continue
        answer = said[k + 1] if k + 1 < len(said) else None
        for found in condition.pattern.finditer(turn):
            before, after = turn[: found.start()], turn[found.end() :]
            if _not_theirs(condition, before, after):
                continue
            if _YOU.search(before) is None:
                return True
            if answer is None or any(word in _NO for word in answer.split()[:2]):
                continue
            # "a senhora tem gastrite?" — "gastrite é o meu marido": answered by denying it
            if not any(
                _not_theirs(condition, answer[: again.start()], answer[again.end() :])
                for again in condition.pattern.finditer(answer)
            ):
                return True
    return False


def _not_theirs(condition: Condition, before: str, after: str) -> bool:
    """Whether what surrounds a match says it is not the customer's condition (see `_told`)."""
    if _DENIED_AFTER.match(after) or _OVER_BEFORE.search(before) or _ELSES_AFTER.match(after):
        return True
    if _SOMEONE_BEFORE.search(before) and _FOR_ME.search(after):
        return True
    if condition.unless_before is not None and condition.unless_before.search(before):
        return True
    return condition.unless_after is not None and condition.unless_after.match(after) is not None


def _substances(words: str) -> list[str]:
    """The substance or class named by `words` (up to three spoken words after a cue), if any.

    The first word, through the synonyms ("novalgina" → "dipirona"), or the first two when they
    are one name ("anti inflamatorio", "acido acetilsalicilico", a synonym's two words): the
    words after it are the rest of the sentence ("alergia a camarão protetor solar" rules out
    no sunscreen). Forms, numbers and "antialérgico" never count.
    """
    parts = words.split()[:2]
    pair = " ".join(parts)
    if len(parts) == 2 and (pair in SYNONYMS or parts[0] in JOINED):
        return [SYNONYMS.get(pair, pair)]
    first = parts[0] if parts else ""
    if first in IGNORED or len(first) < 3 or first.isdigit():
        return []
    return [SYNONYMS.get(first, first)]
