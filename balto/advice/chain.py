"""The advisor chain: ask advisors in order until one gives an answer that may be shown.

In: the dialogue, the needs it shows (`balto.advice.needs`), the advisors in failover order (LLMs
first, the catalog advisor last) and the session's catalog. Out: an `Advice` — the product to show
(or None), the answer it came from, and every advisor asked with what became of its answer, for
the caller to account and store. Raises nothing for provider failures; Trio cancellation passes.

An answer is refused, and the next advisor asked, when the provider failed (any `ProviderError`),
answered something unusable (malformed JSON, a refusal, JSON that breaks the schema), named no
catalog product or several, a prescription-only one, or one that fits none of the needs the
dialogue shows, or one out of stock at this balcão (`balto.store.em_falta`), or one that what the
customer said rules out (`balto.advice.cautions`: a pregnancy, an allergy). A valid "no
recommendation" is a decision, not a failure: the chain stops there.

What each advisor is offered: the LLMs see the cliente's whole over-the-counter catalog when it
has at most `MAX_OFFERED` products, and otherwise the `MAX_OFFERED` products that fit the needs
best (pre-selected by category and indications), so the prompt and the schema's enum stay small
whatever the catalog's size. The catalog advisor is always offered only the products that fit.
Products out of stock or ruled out are offered to nobody; the needs are still read against the
whole catalog, so a customer asking for such a product by name gets another of its kind.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import trio

from balto.advice.needs_view import OFFERED, NeedsView, Offer
from balto.catalog import Catalog, Product, normalize
from balto.catalog.names import match_name
from balto.errors import ProviderError, UnusableAnswer
from balto.providers.guard import GuardedError
from balto.providers.ports import ASKED_MISSING, CAUTIONS, AdviceResult, Advisor, Turn

# Products offered to an LLM at most: ~80 characters of prompt each, so about 3,000 prompt tokens
# for the list, and an enum well inside OpenAI's limit (1,000 values).
MAX_OFFERED = 120
CATALOG_ADVISOR = "catalog"
_SAID_CHARS = 300


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why an advisor's answer was not shown, and what it said.

    Attributes:
        reason: ``produto_desconhecido``, ``produto_ambiguo``, ``exige_receita``,
            ``nao_atende_necessidade``, ``sem_estoque``, ``contraindicado``,
            ``resposta_malformada``, ``recusa`` or ``fora_do_esquema``.
        said: The advisor's answer as far as there was one (truncated).
    """

    reason: str
    said: str


@dataclass(frozen=True, slots=True)
class Asked:
    """One advisor asked for this utterance: its answer or its failure.

    Attributes:
        advisor: The advisor's name.
        model: Its model.
        result: The answer, when the call succeeded.
        error: The failure, when it did not.
        latency_s: How long the call took.
        refusal: Why the answer was not shown, when it was refused.
    """

    advisor: str
    model: str
    result: AdviceResult | None
    error: ProviderError | None
    latency_s: float
    refusal: Refusal | None = None


@dataclass(frozen=True, slots=True)
class Advice:
    """What the chain decided for one utterance.

    Attributes:
        product: The product to show, or None.
        result: The answer it came from (explanation, provider, cost), when one was accepted.
        asked: Every advisor asked, in order.
    """

    product: Product | None
    result: AdviceResult | None
    asked: tuple[Asked, ...]


def in_stock(catalog: Catalog, missing: frozenset[str] | Mapping[str, str]) -> Catalog:
    """`catalog` without the products named in `missing` (normalized names); itself if none."""
    if not missing:
        return catalog
    kept = [p for p in catalog.products if normalize(p.nome) not in missing]
    return catalog if len(kept) == len(catalog) else Catalog(kept)


def offered(needs: NeedsView, catalog: Catalog, advisor: str) -> Catalog:
    """The catalog `advisor` chooses from for these needs (see the module docstring).

    `catalog` is what may be sold here (`in_stock`). An LLM's catalog keeps the
    prescription-only products: the advisor never offers them, but knowing them it can tell a
    model that names one (refused as such) from one that names nothing real.
    """
    if advisor == CATALOG_ADVISOR:
        return Catalog(needs.candidates(among=catalog))
    otc = [p for p in catalog.products if not p.prescription_only]
    if len(otc) <= MAX_OFFERED:
        return catalog
    prescription = [p for p in catalog.products if p.prescription_only]
    return Catalog([*needs.candidates(among=catalog)[:MAX_OFFERED], *prescription])


async def advise(
    dialogue: Sequence[Turn],
    needs: NeedsView,
    advisors: Sequence[Advisor],
    catalog: Catalog,
    shown: NeedsView | None = None,
    missing: frozenset[str] = frozenset(),
    available: Catalog | None = None,
    avoid: Mapping[str, str] | None = None,
    cautions: tuple[str, ...] = (),
) -> Advice:
    """Ask `advisors` in order for a product that serves `needs`.

    Args:
        dialogue: The recent turns, oldest first.
        needs: The needs still open in the dialogue; nothing is asked when there are none.
        advisors: In failover order.
        catalog: The session's catalog (answers are matched and vetted against it).
        shown: Every need the window shows (open or already advised on): an answer fits when it
            serves one of them. Defaults to `needs`.
        missing: Normalized names of the products out of stock at this balcão.
        available: What may be suggested: `in_stock(catalog, missing)` less `avoid`, when the
            caller keeps it (else made here).
        avoid: Normalized names of the products what the customer said rules out → why.
        cautions: What the customer said that rules products out (`Cautions.labels`), for the
            LLMs' prompt.

    Returns:
        The decision and every advisor asked.
    """
    if not needs:
        return Advice(None, None, ())
    avoid = avoid or {}
    sellable = in_stock(in_stock(catalog, missing), avoid) if available is None else available
    told = ASKED_MISSING.set(_asked_missing(needs, missing))
    warned = CAUTIONS.set(cautions)
    try:
        return await _ask(dialogue, needs, advisors, catalog, shown, missing, sellable, avoid)
    finally:
        CAUTIONS.reset(warned)
        ASKED_MISSING.reset(told)


async def _ask(
    dialogue: Sequence[Turn],
    needs: NeedsView,
    advisors: Sequence[Advisor],
    catalog: Catalog,
    shown: NeedsView | None,
    missing: frozenset[str],
    sellable: Catalog,
    avoid: Mapping[str, str],
) -> Advice:
    """`advise`'s loop over the advisors (its arguments, `sellable` what may be suggested)."""
    asked: list[Asked] = []
    llm_offer: Catalog | None = None
    for advisor in advisors:
        if advisor.name == CATALOG_ADVISOR:
            offer = offered(needs, sellable, advisor.name)
        else:
            llm_offer = llm_offer or offered(needs, sellable, advisor.name)
            offer = llm_offer
        started = trio.current_time()
        given = OFFERED.set(Offer(offer, shown or needs, missing, avoid))
        try:
            result = await advisor.advise(dialogue, offer)
        except ProviderError as exc:
            latency_s = trio.current_time() - started
            refused = _in_stock_said(_unusable(exc), catalog, missing, avoid)
            asked.append(Asked(advisor.name, advisor.model, None, exc, latency_s, refused))
            continue
        finally:
            OFFERED.reset(given)
        latency_s = trio.current_time() - started
        strict = advisor.name != CATALOG_ADVISOR
        refusal = _in_stock_said(
            _vet(result, shown or needs, catalog, missing, avoid, strict=strict),
            catalog,
            missing,
            avoid,
        )
        asked.append(Asked(advisor.name, result.model, result, None, latency_s, refusal))
        if refusal is not None:
            continue
        if result.produto is None:
            return Advice(None, result, tuple(asked))
        return Advice(catalog.find(result.produto), result, tuple(asked))
    return Advice(None, None, tuple(asked))


def _vet(
    result: AdviceResult,
    needs: NeedsView,
    catalog: Catalog,
    missing: frozenset[str],
    avoid: Mapping[str, str],
    *,
    strict: bool,
) -> Refusal | None:
    """Why `result` may not be shown, or None when it may (`strict`: `NeedsView.fits`)."""
    if result.refused is not None:
        return Refusal(result.refused, result.said[:_SAID_CHARS])
    if result.produto is None:
        return None
    product = catalog.find(result.produto)
    if product is None:
        return Refusal("produto_desconhecido", result.produto[:_SAID_CHARS])
    if product.prescription_only:
        return Refusal("exige_receita", product.nome)
    if missing and normalize(product.nome) in missing:
        return Refusal("sem_estoque", product.nome)
    if avoid and normalize(product.nome) in avoid:
        return Refusal("contraindicado", product.nome)
    if not needs.fits(product, strict=strict):
        return Refusal("nao_atende_necessidade", product.nome)
    return None


def _asked_missing(needs: NeedsView, missing: frozenset[str]) -> tuple[str, ...]:
    """The products the open needs ask for by name that are out of stock here, once each."""
    if not missing:
        return ()
    named = (need.products[0] for need in needs.needs if need.code.startswith("pedido:"))
    return tuple(dict.fromkeys(name for name in named if normalize(name) in missing))


def _in_stock_said(
    refusal: Refusal | None,
    catalog: Catalog,
    missing: frozenset[str],
    avoid: Mapping[str, str],
) -> Refusal | None:
    """`refusal`, or ``sem_estoque`` / ``contraindicado`` for a product not offered.

    The answer names a product out of stock here, or ruled out by what the customer said.

    A model's client matches its answer against the offer, which has no such product: it
    calls it unknown, and the admins reading refusals should read why it was not offered.
    """
    if refusal is None or not (missing or avoid) or refusal.reason != "produto_desconhecido":
        return refusal
    named = match_name(catalog, refusal.said).product
    if named is not None and normalize(named.nome) in missing:
        return Refusal("sem_estoque", named.nome)
    if named is not None and normalize(named.nome) in avoid:
        return Refusal("contraindicado", named.nome)
    return refusal


def _unusable(exc: ProviderError) -> Refusal | None:
    """The refusal behind a failed call, when the provider answered something unusable."""
    last = exc.attempts[-1].error if isinstance(exc, GuardedError) and exc.attempts else exc
    if isinstance(last, UnusableAnswer):
        return Refusal(last.reason, last.answer[:_SAID_CHARS])
    return None
