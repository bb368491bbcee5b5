"""The contraindications table (``cautions.toml``): conditions, allergies, their catalog names.

Each `Condition` has a code (what a catalog writes in a product's ``contraindicacoes``), the label
the attendant reads, the other words a catalog may use, and the phrases that tell it in a
dialogue (pattern language of `balto.advice.lexicon`), with the words beside a phrase that make
it not the customer's. Allergies: brands and common names → the active ingredient or class they
stand for, how a substance reads, and the words that never name one. The data lives in
``cautions.toml`` beside this module, with the reasons it is written as it is; what reads a
dialogue with it is `balto.advice.cautions`.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

from balto.advice.lexicon import compile_patterns, spoken


@dataclass(frozen=True, slots=True)
class Condition:
    """One condition of ``cautions.toml``: its code, how it reads, how it is said."""

    code: str
    label: str
    names: tuple[str, ...]
    pattern: re.Pattern[str]
    settles_need: str | None = None
    doubts: re.Pattern[str] | None = None
    # Words just before or after a match that make it not about the customer ("caso de dengue")
    unless_before: re.Pattern[str] | None = None
    unless_after: re.Pattern[str] | None = None


def _edge(words: Sequence[str], *, before: bool) -> re.Pattern[str] | None:
    """Words that end (`before`) or begin the text beside a match, as one pattern."""
    if not words:
        return None
    either = "|".join(re.escape(spoken(w)) for w in words)
    if before:
        return re.compile(rf"(?<![a-z0-9])(?:{either})(?: [a-z0-9]+)? $")
    return re.compile(rf"^(?:{either})(?![a-z0-9])")


def _phrases(entry: dict[str, Any], ages: list[str]) -> list[str]:
    """A condition's phrases, each with "{idade}" written out for every age."""
    out: list[str] = []
    for phrase in entry["phrases"]:
        out += [phrase.replace("{idade}", age) for age in ages] if "{idade}" in phrase else [phrase]
    return out


def _load(
    data: dict[str, Any],
) -> tuple[tuple[Condition, ...], dict[str, str], frozenset[str], list[str]]:
    ages = data["ages"]
    conditions = tuple(
        Condition(
            entry["code"],
            entry["label"],
            tuple(spoken(name) for name in (entry["code"], entry["label"], *entry["names"])),
            compile_patterns(_phrases(entry, ages)),
            entry.get("settles_need"),
            compile_patterns(entry["doubts"]) if entry.get("doubts") else None,
            _edge(entry.get("unless_before", ()), before=True),
            _edge(entry.get("unless_after", ()), before=False),
        )
        for entry in data["condition"]
    )
    allergy = data["allergy"]
    synonyms = {spoken(word): spoken(means) for word, means in allergy["synonyms"].items()}
    phrases = [
        phrase
        for entry in data["condition"]
        if not entry.get("for_the_reader", False)
        for phrase in _phrases(entry, ages)
    ]
    return conditions, synonyms, frozenset(spoken(word) for word in allergy["ignored"]), phrases


_DATA: dict[str, Any] = tomllib.loads(
    resources.files("balto.advice").joinpath("cautions.toml").read_text(encoding="utf-8")
)
CONDITIONS, SYNONYMS, IGNORED, UNSAID_PHRASES = _load(_DATA)
# a spoken substance → how the attendant reads it
ALLERGY_LABELS: dict[str, str] = dict(_DATA["allergy"]["labels"])
_BY_NAME = {name: c.code for c in CONDITIONS for name in c.names}
_LABELS = {c.code: c.label for c in CONDITIONS}
# First words that name nothing alone: the substance is the pair ("ácido acetilsalicílico").
JOINED = frozenset(["anti", "acido", "oxido", "sulfato", "cloridrato", "protetor", "vitamina"])

_ALLERGY_ENTRY = re.compile(r"^alergi[a-z]* (?:a|ao|as|aos|de|da|do|com) (?:(?:o|a) )?(.+)$")


def condition_code(name: str) -> str | None:
    """The condition a catalog's ``contraindicacoes`` entry names, or None.

    A code or one of its names ("gestantes" → ``gravidez``), or an allergy to an ingredient the
    product's name does not show ("alergia a dipirona" for a compound) → ``alergia a dipirona``.
    """
    said = spoken(name)
    allergic = _ALLERGY_ENTRY.match(said)
    if allergic is not None:
        return f"alergia a {SYNONYMS.get(allergic.group(1), allergic.group(1))}"
    return _BY_NAME.get(said)


def condition_names() -> tuple[str, ...]:
    """What a catalog may write, in the table's order (for error messages)."""
    return (*(c.code for c in CONDITIONS), "alergia a <substância>")


def synonym(word: str) -> str:
    """The active ingredient or class a spoken brand or common name stands for, or `word`."""
    return SYNONYMS.get(word, word)


def label(code: str) -> str:
    """How the attendant reads condition `code` ("pressão alta")."""
    return _LABELS.get(code, code)


def allergy_label(word: str) -> str:
    """The reason an allergy gives, as the attendant reads it ("alergia a anti-inflamatório")."""
    return f"alergia a {ALLERGY_LABELS.get(word, word)}"
