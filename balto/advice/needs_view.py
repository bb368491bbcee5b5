"""Needs against a catalog: which products fit them, best first, and what a chain offered.

In: the `Need`s `balto.advice.needs` read from a dialogue. Out: `NeedsView` (does a product fit,
how well, which products fit), and the `Offer` the advisor chain makes around each advisor call
(`OFFERED`). Raises nothing.

A product fits a need when the need names it, or a stem of the need's categories is in the
product's category or name; nothing fits when no need is shown.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field

from balto.advice.lexicon import spoken
from balto.catalog import Catalog, Product

ASKED_CODE = "pedido:"
"""Code prefix of a product named outright (then its name)."""
READ_CODE = "leitura:"
"""Code prefix of the needs the learned reader read (then the category)."""
_HAYSTACKS = 8192  # products whose category and name are kept normalized: a few catalogs' worth


@dataclass(frozen=True, slots=True)
class Need:
    """One need the dialogue shows.

    Attributes:
        code: The need table's code, ``indicacao:<product>``, ``pedido:<product>`` or
            ``leitura:<category>`` (read by `balto.advice.reader`).
        stems: Category stems that serve it, best first (normalized).
        turn: Index of the newest turn that shows it.
        products: Products it names directly (an indication's or a named product's).
    """

    code: str
    stems: tuple[str, ...]
    turn: int
    products: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Offer:
    """The needs an advisor chain already read, for the catalog it offers (`OFFERED`)."""

    catalog: Catalog
    shown: NeedsView
    missing: frozenset[str] = frozenset()  # normalized names out of stock at this balcão
    # normalized names ruled out by what the customer said → why (`balto.advice.cautions`)
    avoid: Mapping[str, str] = field(default_factory=dict)


OFFERED: ContextVar[Offer | None] = ContextVar("balto_advice_offered", default=None)
"""Set by the advisor chain around each advisor call: the needs behind the catalog it offers.

The catalog advisor reads the needs itself when called alone; called by the chain (through any
wrappers: fault injection, guards) it takes the chain's, which the session's memo made cheap,
rather than parse the whole window again.
"""


class NeedsView:
    """Needs against one catalog: which products fit, best first."""

    def __init__(self, needs: Sequence[Need], catalog: Catalog) -> None:
        """Hold `needs` (newest first) for `catalog`."""
        self.needs = tuple(needs)
        self._catalog = catalog

    def __bool__(self) -> bool:
        """True when the dialogue shows any need."""
        return bool(self.needs)

    def still_open(self, decided: Collection[str], newest: int) -> NeedsView:
        """The needs said in turn `newest` or not yet `decided` (codes advice was given on)."""
        kept = [n for n in self.needs if n.turn == newest or n.code not in decided]
        return NeedsView(kept, self._catalog)

    def without(self, codes: Collection[str]) -> NeedsView:
        """These needs less those whose code is in `codes` (settled by what was said)."""
        if not codes:
            return self
        return NeedsView([n for n in self.needs if n.code not in codes], self._catalog)

    def serving(self, products: Sequence[Product]) -> NeedsView:
        """These needs that one of `products` serves (those a withdrawn suggestion was for)."""
        kept = [n for n in self.needs if any(_score(n, p) is not None for p in products)]
        return NeedsView(kept, self._catalog)

    def fits(self, product: Product, *, strict: bool = False) -> bool:
        """Whether `product` serves one of the needs.

        `strict` (for an LLM's free answer): when the learned reader read needs in the window, the
        product must also serve one of those, or be one the dialogue names. The phrase lists'
        category stems are broad ("analges" takes a headache pill for a fever); the reader's
        categories are the ones meant. The catalog advisor's choice, ranked by the lists, is
        not held to it.
        """
        if self.rank(product) is None:
            return False
        if not strict:
            return True
        read = [need for need in self.needs if need.code.startswith(READ_CODE)]
        if not read or any(product.nome in need.products for need in self.needs):
            return True
        return any(_score(need, product) is not None for need in read)

    def rank(self, product: Product) -> tuple[int, int] | None:
        """Sort key (lower is better) of `product` for these needs, or None when it fits none.

        Newer needs come first; within a need, a product it names beats the first category stem,
        which beats the second, and so on.
        """
        best: tuple[int, int] | None = None
        for order, need in enumerate(self.needs):
            score = _score(need, product)
            if score is not None and (best is None or (order, score) < best):
                best = (order, score)
        return best

    def candidates(self, among: Catalog | None = None) -> list[Product]:
        """Over-the-counter products that fit, best first (of `among`'s, else the catalog's)."""
        fitting = []
        for product in (self._catalog if among is None else among).products:
            if product.prescription_only:
                continue
            key = self.rank(product)
            if key is not None:
                fitting.append((key, product))
        fitting.sort(key=lambda pair: pair[0])
        return [product for _, product in fitting]


@functools.lru_cache(maxsize=_HAYSTACKS)
def haystack(categoria: str, nome: str) -> str:
    """A product's category and name as stems are looked for in them (space-padded words)."""
    # Every need is scored against every product of the catalog at each advised utterance:
    # normalizing the same two strings again was a tenth of the advice CPU.
    return f" {spoken(categoria)} {spoken(nome)} "


def _score(need: Need, product: Product) -> int | None:
    """How well `product` serves `need` (0 best), or None when it does not."""
    if product.nome in need.products:
        return 0
    words = haystack(product.categoria, product.nome)
    for index, stem in enumerate(need.stems):
        if stem in words:
            return 1 + index
    return None
