"""What the dialogue shows the customer needs, and which catalog products fit it.

In: the advisor's rolling dialogue and the session's catalog. Out: `Need`s, newest first, and a
`NeedsView` that says whether a product fits them. Raises nothing.

A need comes from three places, all read on the whole window (an attendant's question "é pra
azia?" answered "isso" shows the need as well as the customer saying it):
- the need table (`balto.advice.needs_table`): everyday phrases for ~26 counter needs, each with the
  category stems that serve it;
- the catalog's own indications, so a cliente's product the table does not know (a dandruff
  shampoo) is still served; single short words (``dor``, ``sol``) are too ambiguous on their own
  and only count as part of a longer indication;
- a product named in the dialogue (``"me vê um dorflex"``): its category and complements fit.
Asking for a prescription-only product is a need too (its category), so advisors are asked and may
offer an over-the-counter product of that category; the prescription-only one is never offered.
A product fits when its category (or name) carries a stem of a need, its indications are said, it
is named, or it complements a named product. Nothing fits when no need is shown: small talk gets
no product, whatever an advisor says.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from balto.advice import cautions_blank, reader
from balto.advice.heard import Heard
from balto.advice.heard_memo import HeardMemo
from balto.advice.lexicon import compile_patterns, spoken
from balto.advice.needs_table import NEEDS, NOT_A_NEED
from balto.advice.needs_view import ASKED_CODE, READ_CODE, Need, NeedsView, haystack
from balto.catalog import Catalog, Product
from balto.providers.ports import Turn

_TABLE = [
    (
        spec,
        compile_patterns(spec.phrases),
        [[compile_patterns(group) for group in combo] for combo in spec.together],
    )
    for spec in NEEDS
]
_IDIOMS = compile_patterns(NOT_A_NEED)
# Every need's combinations, in the order of `_TABLE`: one tuple, kept (`Heard.find_each_together`).
_COMBOS = tuple(tuple(combo) for _, _, together in _TABLE for combo in together)
# Words that name a form, not a product: "uma pomada pra dor" asks for the need, in that form.
_FORMS = frozenset(
    [
        "pomada",
        "gel",
        "creme",
        "xarope",
        "gotas",
        "spray",
        "comprimido",
        "comprimidos",
        "capsula",
        "capsulas",
        "pastilha",
        "pastilhas",
        "remedio",
        "sal",
        "soro",
        "teste",
        "vitamina",
    ]
)
# Positions of the reader's needs in their turn: behind every phrase found there.
_READ_BEHIND = 2_000_000
# An indication of one word shorter than this shows nothing by itself ("dor", "sol", "gás").
_MIN_SINGLE_WORD = 5


def _indication_phrases(product: Product) -> list[str]:
    phrases = []
    for phrase in product.indicacoes:
        words = spoken(phrase).split()
        if len(words) > 1 or (words and len(words[0]) >= _MIN_SINGLE_WORD):
            phrases.append(" ".join(words))
    return phrases


def _name_heads(catalog: Catalog) -> dict[str, Product]:
    """Words that name one product when said alone: distinctive first words and aliases."""
    # A word that starts one product's name names it even when it also starts another's alias
    # ("paracetamol": "Paracetamol 750 mg", not "Antigripal (Paracetamol + ...)").
    heads: dict[str, list[Product]] = {}
    aliases: dict[str, list[Product]] = {}
    for product in catalog.products:
        nome = product.nome
        places = [(heads, nome.split("(")[0])]
        if "(" in nome:
            places.append((aliases, nome.split("(", 1)[1].split(")")[0]))
        for place, first in places:
            words = spoken(first).split()
            if words and len(words[0]) >= 4 and words[0].isalpha() and words[0] not in _FORMS:
                place.setdefault(words[0], []).append(product)
    named = {word: ps[0] for word, ps in heads.items() if len(ps) == 1}
    for word, ps in aliases.items():
        if word not in heads and len(ps) == 1:
            named[word] = ps[0]
    return named


def _behind(place: tuple[int, int]) -> tuple[int, int]:
    """`place` moved after every complaint of its turn (a circumstance is ranked last there)."""
    return place[0], place[1] + 1_000_000


def _newest(*places: tuple[int, int] | None) -> tuple[int, int] | None:
    """The newest of `places` (latest turn; within it, the earliest position)."""
    found = [place for place in places if place is not None]
    return min(found, key=lambda place: (-place[0], place[1])) if found else None


class NeedDetector:
    """Finds needs in dialogues for one catalog; build once per catalog (it compiles patterns)."""

    def __init__(self, catalog: Catalog) -> None:
        """Compile the catalog's indications and product names into patterns."""
        self.catalog = catalog
        self._indications: list[tuple[Product, re.Pattern[str]]] = []
        for product in catalog.products:
            phrases = _indication_phrases(product)
            if phrases:
                self._indications.append((product, compile_patterns(phrases)))
        self._context_stems = [
            spoken(stem) for spec, _, _ in _TABLE if spec.context for stem in spec.categories
        ]
        self._heads = [
            (product, compile_patterns([word])) for word, product in _name_heads(catalog).items()
        ]
        # "sou alérgica a dipirona" is a caution (`balto.advice.cautions`), not an ask for an
        # antiallergic nor for dipirona: the lists and the reader read the window without it.
        self._allergies = cautions_blank.medicine_allergies(catalog)
        # Every pattern looked for alone, in the order `detect` reads them: one tuple, kept, so
        # each turn remembers which of them it shows (`Heard.find_each`).
        self._patterns = (
            *(pattern for _, pattern, _ in _TABLE),
            *(pattern for _, pattern in self._indications),
            *(pattern for _, pattern in self._heads),
        )

    def _circumstance(self, product: Product) -> bool:
        """Whether `product` serves a circumstance (sun, beach) rather than a complaint."""
        words = haystack(product.categoria, product.nome)
        return any(stem in words for stem in self._context_stems)

    def detect(
        self,
        dialogue: Sequence[Turn],
        memo: HeardMemo | None = None,
        firsts: FirstReads | None = None,
        *,
        veto: bool = True,
    ) -> NeedsView:
        """Every need the dialogue shows, newest first.

        Args:
            dialogue: The recent turns, oldest first.
            memo: What the session's earlier windows showed (`balto.advice.heard_memo`): the
                same needs, sooner.
            firsts: The session's `FirstReads`: where the reader's needs first showed, so a
                moving window's prefixes are not read again.
            veto: Whether the reader may veto the lists' needs (off when a suggestion made for
                this customer's need was just ruled out: the need was real).

        Returns:
            The needs against this catalog; empty (falsy) for small talk.
        """
        model = reader.shared()
        # The reader reading no ask at all vetoes everything the lists would find: everyday
        # phrases, indications and product names ("essa menina é uma febre", "ontem comprei uma
        # neosaldina, a dor já passou, vim pagar"). An ask for a product is an ask to the
        # reader too (a category, or a prescription ask), so it is not vetoed.
        texts = tuple(cautions_blank.allergies(turn.text, self._allergies) for turn in dialogue)
        roles = tuple(turn.speaker for turn in dialogue)
        vetoed = veto and model is not None and model.read(texts, roles, memo).no_need
        read_texts = texts
        if vetoed and model is not None:
            # Not trained on customers telling their conditions, the reader read "tô com azia,
            # tenho pressão alta" as small talk: a veto holds only without those words too.
            unsaid = tuple(cautions_blank.unsaid(text) for text in texts)
            if unsaid != texts and not model.read(unsaid, roles, memo).no_need:
                vetoed, read_texts = False, unsaid
        heard = Heard(texts, _IDIOMS, roles, memo)
        places = iter(() if vetoed else heard.find_each(self._patterns))
        combos = iter(() if vetoed else heard.find_each_together(_COMBOS))
        found: list[tuple[tuple[int, int], Need]] = []
        for spec, _, together in () if vetoed else _TABLE:
            where = _newest(next(places), *itertools.islice(combos, len(together)))
            if where is not None:
                stems = tuple(spoken(s) for s in spec.categories)
                found.append(
                    (_behind(where) if spec.context else where, Need(spec.code, stems, where[0]))
                )
        for product, _ in () if vetoed else self._indications:
            where = next(places)
            if where is not None and self._circumstance(product):
                where = _behind(where)
            if where is not None:
                stems = (spoken(product.categoria),)
                need = Need(f"indicacao:{product.nome}", stems, where[0], (product.nome,))
                found.append((where, need))
        for product, _ in () if vetoed else self._heads:
            where = next(places)
            if where is not None:
                named = (product.nome, *product.complementos)
                stems = (spoken(product.categoria),)
                found.append((where, Need(f"{ASKED_CODE}{product.nome}", stems, where[0], named)))
        # A category the reader read that a product named in the dialogue already stands for
        # adds nothing ("me vê um dorflex" is the ask for Dorflex, not also a muscle need).
        asked = {need.stems for _, need in found if need.code.startswith(ASKED_CODE)}
        read = _read_needs(read_texts, roles, memo, firsts)
        found += [pair for pair in read if pair[1].stems not in asked]
        # Newest turn first; within a turn, what was said first (the main complaint) first.
        found.sort(key=lambda pair: (-pair[0][0], pair[0][1]))
        return NeedsView([need for _, need in found], self.catalog)


@dataclass(slots=True)
class FirstReads:
    """Where each category the learned reader reads in a session's window first showed.

    Kept by the session (`balto.advice.session`): `heard` counts its turns, and `turns` holds, per
    category read in the last window, the session's number of the turn where a growing prefix of
    the window first passed the threshold. Why: while the window only grows its prefixes are
    read once and cached, but once it is full it moves at every utterance and every prefix is
    new: finding a category's first turn again cost up to a window's 16 readings per utterance
    (about a third of the advice CPU at a busy counter). Remembered, a category keeps the turn it
    first showed at while that turn is in the window and the category is read; once the turn has
    left, the scan finds it again in the window as it is. While the window only grows this is
    exactly the scan's answer; once it moves, the scan could place a need later than it showed
    (the talk before it, which helped it pass, has left), remembering does not.
    """

    heard: int = 0
    turns: dict[str, int] = field(default_factory=dict)


def _read_needs(
    texts: tuple[str, ...],
    roles: tuple[str | None, ...],
    memo: HeardMemo | None,
    firsts: FirstReads | None = None,
) -> list[tuple[tuple[int, int], Need]]:
    """The learned reader's needs (`balto.advice.reader`), each at the turn it first showed.

    They rank behind the phrase lists' needs of the same turn: the lists are precise on what they
    know, the reader covers what they do not. The turn is where a growing prefix of the window
    first passed the threshold (`firsts`: where an earlier window found it), so a need already
    advised on is not reopened by every later utterance.
    """
    model = reader.shared()
    if model is None or not texts:
        return []
    reading = model.read(texts, roles, memo).needs
    oldest = 0 if firsts is None else firsts.heard - len(texts)  # the session's number of turn 0
    if firsts is not None:
        firsts.turns = {c: t for c, t in firsts.turns.items() if any(c == r for r, _ in reading)}
    found = []
    for order, (category, _) in enumerate(reading):
        known = None if firsts is None else firsts.turns.get(category)
        if known is not None and known >= oldest:
            first = known - oldest
        else:
            first = next(
                k
                for k in range(len(texts))
                if k == len(texts) - 1
                or category in dict(model.read(texts[: k + 1], roles[: k + 1], memo).needs)
            )
            if firsts is not None:
                firsts.turns[category] = oldest + first
        need = Need(f"{READ_CODE}{category}", (spoken(category),), first)
        found.append(((first, _READ_BEHIND + order), need))
    return found
