"""The need table (``needs.toml``): the needs a counter conversation shows, as people say them.

Each `NeedSpec` names a need, the phrases that show it (pattern language of
`balto.advice.lexicon`), and word stems of the catalog categories that serve it, best first. The
data lives in ``needs.toml`` beside this module, with the reasons it is written as it is.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources


@dataclass(frozen=True, slots=True)
class NeedSpec:
    """One need: its code, the phrases that show it, and the category stems that serve it."""

    code: str
    phrases: tuple[str, ...]
    categories: tuple[str, ...]
    # Combinations of word groups: the need is shown when one word of every group of a
    # combination is said in one clause, in any order — a body part and a complaint ("as costas
    # travaram", "o olho tá ressecado").
    together: tuple[tuple[tuple[str, ...], ...], ...] = ()
    # A circumstance rather than a complaint ("o dia inteiro no sol", "vou pra praia"): said in the
    # same turn as a complaint, the complaint is served first.
    context: bool = False


def _load() -> tuple[tuple[NeedSpec, ...], tuple[str, ...]]:
    text = resources.files("balto.advice").joinpath("needs.toml").read_text(encoding="utf-8")
    data = tomllib.loads(text)
    needs = tuple(
        NeedSpec(
            entry["code"],
            tuple(entry["phrases"]),
            tuple(entry["categories"]),
            tuple(tuple(tuple(group) for group in combo) for combo in entry.get("together", ())),
            entry.get("context", False),
        )
        for entry in data["need"]
    )
    return needs, tuple(data["not_a_need"])


NEEDS, NOT_A_NEED = _load()
