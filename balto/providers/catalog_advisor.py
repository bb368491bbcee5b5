"""The catalog advisor: no network, no keys; the default and the last fallback.

It reads the needs the dialogue shows (`balto.advice.needs`: everyday phrases, the catalog's own
indications, products named), newest first, and picks the over-the-counter product that serves the
newest need best. A product the customer asked for by name, with no complaint said in the whole
window, has its complement suggested (a complementary sale); otherwise it is the product whose
category fits the need best, then whose indications are said most (longest phrases, the newest
utterance first). Prescription-only products are never suggested; with no need shown (small
talk) it suggests nothing. A product asked for by name that is out of stock here (the chain's
offer says which: `balto.advice.needs_view.Offer.missing`), or ruled out by what the customer said
(`Offer.avoid`: "sou alérgica a dipirona"), gets another of its kind, and the reason says so.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence

import trio

from balto.advice.needs import NeedDetector
from balto.advice.needs_view import OFFERED
from balto.catalog import Catalog, Product, normalize
from balto.providers.ports import AdviceResult, Turn

_NON_WORD = re.compile(r"[^a-z0-9%]+")
_NEEDLES = 16_384  # indications kept normalized: a few clientes' catalogs
_DETECTORS = 8  # catalogs whose detectors are kept: the clientes' few, plus standalone calls


def _words(text: str) -> str:
    # pad with spaces so phrases match on word boundaries only ("dor" must not match "dores")
    return " " + _NON_WORD.sub(" ", normalize(text)).strip() + " "


@functools.lru_cache(maxsize=_NEEDLES)
def _needle(phrase: str) -> str:
    # An indication is scored against every candidate at every advised utterance: normalized once.
    return _words(phrase)


def _score(product: Product, said: str) -> int:
    score = 0
    for phrase in product.indicacoes:
        needle = _needle(phrase)
        if needle.strip() and needle in said:
            score += len(needle.strip())
    return score


@functools.lru_cache(maxsize=_DETECTORS)
def detector_for(catalog: Catalog) -> NeedDetector:
    """The need detector of `catalog`, compiled once; the last few catalogs' are kept.

    Bounded, not weakly keyed: a detector holds its catalog, so a weak map never let one go
    (every catalog the chain offered used to stay alive with its compiled patterns).
    """
    return NeedDetector(catalog)


class CatalogAdvisor:
    """Matches the dialogue's needs against the catalog; implements the `Advisor` port."""

    name = "catalog"
    model = "needs-v1"

    async def advise(self, dialogue: Sequence[Turn], catalog: Catalog) -> AdviceResult:
        """Suggest the over-the-counter product that best serves the newest need shown."""
        started = trio.current_time()
        given = OFFERED.get()
        missing: frozenset[str] = frozenset()
        avoid: Mapping[str, str] = {}
        if given is not None and given.catalog is catalog:  # the chain's offer: its needs
            needs, missing, avoid = given.shown, given.missing, given.avoid
        else:
            needs = detector_for(catalog).detect(dialogue)
        if not needs:
            return self._result(None, "", started)
        newest = needs.needs[0]
        only_asked = all(need.code.startswith("pedido:") for need in needs.needs)
        if only_asked and len(newest.products) > 1:
            asked = catalog.find(newest.products[0])
            complement = catalog.find(newest.products[1])
            if asked is not None and complement is not None and not complement.prescription_only:
                reason = f"Venda complementar a {asked.nome}: {complement.explicacao}"
                return self._result(complement.nome, reason, started)
        # asked by name and out of stock or ruled out: another of its kind, never its complement
        asked_key = normalize(newest.products[0]) if only_asked else ""
        instead = only_asked and (asked_key in missing or asked_key in avoid)
        named = {normalize(name) for name in newest.products} if instead else set()
        last = _words(dialogue[-1].text)
        window = " ".join(_words(turn.text) for turn in dialogue)
        best: tuple[tuple[int, int, int, int], Product] | None = None
        for product in needs.candidates(among=catalog):
            if named and normalize(product.nome) in named:
                continue
            rank = needs.rank(product)
            assert rank is not None  # candidates() holds fitting products only
            key = (rank[0], rank[1], -_score(product, last), -_score(product, window))
            if best is None or key < best[0]:
                best = (key, product)
        if best is None:
            return self._result(None, "", started)
        product = best[1]
        if instead and asked_key in avoid:
            why = avoid[asked_key]
            reason = (
                f"{newest.products[0]} não é indicado ({why}); no lugar dele: {product.explicacao}"
            )
            return self._result(product.nome, reason, started)
        if instead:
            reason = f"{newest.products[0]} está em falta aqui; no lugar dele: {product.explicacao}"
            return self._result(product.nome, reason, started)
        return self._result(product.nome, product.explicacao, started)

    def _result(self, produto: str | None, explicacao: str, started: float) -> AdviceResult:
        return AdviceResult(
            produto=produto,
            explicacao=explicacao,
            provider=self.name,
            model=self.model,
            latency_s=trio.current_time() - started,
        )
