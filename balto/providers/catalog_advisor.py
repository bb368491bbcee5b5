"""The catalog advisor: no network, no keys; the default and the last fallback.

It reads the newest utterance (accent- and case-free) for the indications of each over-the-counter
product and picks the product with the most, longest matches. When the customer names a product that
has complements, it suggests the first complement instead (a complementary sale). Prescription-only
products are never suggested.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import trio

from balto.catalog import Catalog, Product, normalize
from balto.providers.ports import AdviceResult, Turn

_NON_WORD = re.compile(r"[^a-z0-9%]+")


def _words(text: str) -> str:
    # pad with spaces so phrases match on word boundaries only ("dor" must not match "dores")
    return " " + _NON_WORD.sub(" ", normalize(text)).strip() + " "


def _score(product: Product, said: str) -> int:
    score = 0
    for phrase in product.indicacoes:
        needle = _words(phrase)
        if needle.strip() and needle in said:
            score += len(needle.strip())
    return score


class CatalogAdvisor:
    """Matches the dialogue against catalog indications; implements the `Advisor` port."""

    name = "catalog"
    model = "keywords-v1"

    async def advise(self, dialogue: Sequence[Turn], catalog: Catalog) -> AdviceResult:
        """Suggest the best-matching over-the-counter product for the newest utterance."""
        started = trio.current_time()
        if not dialogue:
            return self._result(None, "", started)
        said = _words(dialogue[-1].text)
        otc = [p for p in catalog.products if not p.prescription_only]
        for product in otc:
            if _words(product.nome.split(" (")[0]) in said and product.complementos:
                complement = catalog.find(product.complementos[0])
                if complement is not None and not complement.prescription_only:
                    reason = f"Venda complementar a {product.nome}: {complement.explicacao}"
                    return self._result(complement.nome, reason, started)
        best: Product | None = None
        best_score = 0
        for product in otc:
            score = _score(product, said)
            if score > best_score:
                best, best_score = product, score
        if best is None:
            return self._result(None, "", started)
        return self._result(best.nome, best.explicacao, started)

    def _result(self, produto: str | None, explicacao: str, started: float) -> AdviceResult:
        return AdviceResult(
            produto=produto,
            explicacao=explicacao,
            provider=self.name,
            model=self.model,
            latency_s=trio.current_time() - started,
        )
