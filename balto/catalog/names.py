"""Product names the way people (and language models) write them, matched to one catalog product.

In: a catalog and a name an advisor gave. Out: a `NameMatch` — the one product it names, or why it
names none (``unknown``) or several (``ambiguous``). Raises nothing.

Case, accents, spacing, punctuation and dosage spelling do not decide a match:
``"loratadina 10mg"``, ``"Loratadina 10 MG"`` and ``"Loratadina 10 mg"`` are one name, as are
``"0,9%"`` and ``"0.9 %"``, ``"+"`` and ``"e"``. Matching is tried from strictest to loosest and
the first rule that yields exactly one product wins; a rule that yields several products makes the
name ambiguous, because a looser rule must never pick among products a stricter one could not tell
apart:
1. the same words in the same order;
2. the same words in any order;
3. a name's alias — the part before a parenthesis (``"Dimenidrinato"``) or inside it
   (``"Dramin"``) — in any order;
4. the answer's words cover a whole product name plus extras (``"Dorflex comprimidos"``), or are
   part of one product name including its first word or a word no other product has (``"Sal de
   Fruta"`` or ``"Eno"`` for ``"Sal de Frutas Eno"``, ``"Loratadina"`` for ``"Loratadina 10
   mg"``), with at least one real word in them.
"""

from __future__ import annotations

import enum
import re
import weakref
from collections.abc import Iterable
from dataclasses import dataclass

from balto.catalog import Catalog, Product, normalize

# Words that carry no identity in a product name: dropping them lets "Sal de Frutas" match "Sal
# Frutas" and "Mel e Limão" match "Mel + Limão".
_STOPWORDS = frozenset({"de", "da", "do", "das", "dos", "com", "para", "e", "a", "o", "em"})
# Units glued to their number ("10mg") are split off it, and spelled one way.
_UNITS = {
    "mg": "mg",
    "g": "g",
    "grama": "g",
    "gramas": "g",
    "mcg": "mcg",
    "ml": "ml",
    "ui": "ui",
    "%": "%",
    "miligramas": "mg",
}
_NUMBER_UNIT = re.compile(r"(\d+(?:[.,]\d+)?)\s*(mg|mcg|ml|ui|g|%)(?![a-z])")
_DECIMAL = re.compile(r"(\d)[,.](\d)")
_SYMBOLS = re.compile(r"[^a-z0-9.%+ ]+")
_LETTER_DIGIT = re.compile(r"(?<=[a-z])(?=\d)|(?<=\d)(?=[a-z])")
# A token worth matching on its own: a word of three letters or more (not a dose, not a unit).
_DISTINCTIVE = re.compile(r"[a-z]{3,}")


class MatchKind(enum.StrEnum):
    """How a name relates to the catalog."""

    FOUND = "found"
    UNKNOWN = "unknown"
    AMBIGUOUS = "ambiguous"


@dataclass(frozen=True, slots=True)
class NameMatch:
    """The outcome of matching one name: the product, or why there is none.

    Attributes:
        kind: Found, unknown or ambiguous.
        product: The product when found.
        candidates: The products an ambiguous name could mean.
    """

    kind: MatchKind
    product: Product | None = None
    candidates: tuple[Product, ...] = ()


def name_tokens(text: str) -> tuple[str, ...]:
    """The words of a product name in a canonical spelling (order kept, stopwords dropped)."""
    bare = normalize(text).replace("®", " ").replace("™", " ")
    bare = _DECIMAL.sub(r"\1.\2", bare)
    bare = _NUMBER_UNIT.sub(lambda m: f" {m.group(1)} {_UNITS[m.group(2)]} ", bare)
    bare = bare.replace("+", " e ").replace("&", " e ").replace("%", " % ")
    bare = _LETTER_DIGIT.sub(" ", _SYMBOLS.sub(" ", bare))
    tokens = []
    for raw in bare.split():
        token = raw.strip(".")
        if not token or token in _STOPWORDS:
            continue
        tokens.append(_UNITS.get(token, _singular(token)))
    return tuple(tokens)


def _singular(token: str) -> str:
    """A crude plural fold (``frutas`` → ``fruta``) that forgives a model's number agreement."""
    if len(token) > 4 and token.endswith("s") and not token.endswith("ss"):
        return token[:-1]
    return token


def _aliases(product: Product) -> list[tuple[str, ...]]:
    """The other names a product answers to: before and inside its parenthesis."""
    nome = product.nome
    if "(" not in nome:
        return []
    before, _, rest = nome.partition("(")
    inside = rest.split(")", 1)[0]
    return [t for t in (name_tokens(before), name_tokens(inside)) if t]


class NameIndex:
    """Matches names to the products of one catalog; build once per catalog.

    Rules 1-3 are dictionary lookups and rule 4 looks only at the products sharing a word with
    the name (both of its tests need one), so a stock system's list of thousands of names
    against a catalog of thousands of products takes a moment, not a scan per name per rule.
    """

    def __init__(self, catalog: Catalog) -> None:
        """Index every product of `catalog` by its canonical tokens and aliases."""
        self._products = catalog.products
        self._tokens = {p.nome: name_tokens(p.nome) for p in self._products}
        self._aliases = {p.nome: _aliases(p) for p in self._products}
        counts: dict[str, int] = {}
        for tokens in self._tokens.values():
            for token in set(tokens):
                counts[token] = counts.get(token, 0) + 1
        # Words that name one product only (brands, mostly): enough on their own.
        self._own = frozenset(t for t, n in counts.items() if n == 1 and _DISTINCTIVE.fullmatch(t))
        # product positions (catalog order) by what each rule compares
        self._by_rule: tuple[dict[object, list[int]], ...] = ({}, {}, {})
        self._by_word: dict[str, list[int]] = {}
        self._wordless: list[int] = []  # a name of stopwords only is held by every answer
        for at, product in enumerate(self._products):
            tokens = self._tokens[product.nome]
            aliases = self._aliases[product.nome]
            self._by_rule[0].setdefault(tokens, []).append(at)
            self._by_rule[1].setdefault(frozenset(tokens), []).append(at)
            for alias in {frozenset(alias) for alias in aliases}:
                self._by_rule[2].setdefault(alias, []).append(at)
            for word in {w for name in (tokens, *aliases) for w in name}:
                self._by_word.setdefault(word, []).append(at)
            if not tokens:
                self._wordless.append(at)

    def match(self, name: str) -> NameMatch:
        """The product `name` designates, or why it designates none.

        Args:
            name: A product name as an advisor wrote it.

        Returns:
            The match; `MatchKind.FOUND` carries exactly one product.
        """
        asked = name_tokens(name)
        if not asked:
            return NameMatch(MatchKind.UNKNOWN)
        asked_set = frozenset(asked)
        keys: tuple[object, ...] = (asked, asked_set, asked_set)
        for rule in range(4):
            if rule < 3:
                at = self._by_rule[rule].get(keys[rule], [])
            else:
                near = {i for word in asked_set for i in self._by_word.get(word, ())}
                at = sorted(near.union(self._wordless))
            products = (self._products[i] for i in at)
            hits = _unique(p for p in products if self._rule(rule, p, asked, asked_set))
            if len(hits) == 1:
                return NameMatch(MatchKind.FOUND, hits[0])
            if len(hits) > 1:
                return NameMatch(MatchKind.AMBIGUOUS, candidates=tuple(hits))
        return NameMatch(MatchKind.UNKNOWN)

    def _rule(
        self, rule: int, product: Product, asked: tuple[str, ...], asked_set: frozenset[str]
    ) -> bool:
        """Whether matching rule number `rule` (0-3, the module docstring's 1-4) holds."""
        tokens = self._tokens[product.nome]
        if rule == 0:
            return tokens == asked
        if rule == 1:
            return frozenset(tokens) == asked_set
        if rule == 2:
            return any(frozenset(alias) == asked_set for alias in self._aliases[product.nome])
        return self._loosely(product, asked, asked_set)

    def _loosely(self, product: Product, asked: tuple[str, ...], asked_set: frozenset[str]) -> bool:
        """Rule 4: the answer holds the whole name, or is a head-first part of it."""
        if not any(_DISTINCTIVE.fullmatch(token) for token in asked):
            return False
        names = [self._tokens[product.nome], *self._aliases[product.nome]]
        for tokens in names:
            whole = frozenset(tokens)
            if whole <= asked_set:
                return True
            if asked_set <= whole and (tokens[0] in asked_set or asked_set & self._own):
                return True
        return False


def _unique(products: Iterable[Product]) -> list[Product]:
    """Products without repeats (a catalog may list one name twice), in catalog order."""
    seen: dict[str, Product] = {}
    for product in products:
        seen.setdefault(product.nome, product)
    return list(seen.values())


_INDEXES: weakref.WeakKeyDictionary[Catalog, NameIndex] = weakref.WeakKeyDictionary()


def match_name(catalog: Catalog, name: str) -> NameMatch:
    """Match `name` in `catalog`, with the catalog's index built once and kept while it lives."""
    index = _INDEXES.get(catalog)
    if index is None:
        index = _INDEXES[catalog] = NameIndex(catalog)
    return index.match(name)
