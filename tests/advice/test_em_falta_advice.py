"""Products out of stock at a balcão are never suggested there: not by the catalog advisor, not
offered to an LLM, refused (``sem_estoque``) when a model names one anyway; a customer asking
for a missing product by name gets another of its kind, never its complement."""

from __future__ import annotations

from balto.advice.session import AdviceSession
from balto.catalog import Catalog, Product, normalize
from balto.providers.catalog_advisor import CatalogAdvisor
from tests.advice.test_advice_chain import CATALOG, MUSCLE, Chain, chain, hear, refusals, says

__all__ = ["chain"]  # the fixture, shared with the chain's own tests

RELAXANTS = Catalog(
    [
        Product(
            "Dorflex",
            "relaxante muscular",
            ("dor muscular", "torcicolo"),
            "Relaxante muscular com analgésico.",
            complementos=("Gel de Arnica",),
        ),
        Product("Miosan", "relaxante muscular", ("dor muscular",), "Relaxante muscular."),
        Product("Gel de Arnica", "anti-inflamatório tópico", ("pancada",), "Gel para pancadas."),
        Product("Neosaldina", "analgésico", ("dor de cabeça",), "Analgésico para dor de cabeça."),
    ]
)


def _missing(*names: str) -> frozenset[str]:
    return frozenset(normalize(name) for name in names)


async def test_a_product_asked_for_by_name_and_missing_gets_another_of_its_kind() -> None:
    session = AdviceSession(RELAXANTS, [CatalogAdvisor()], cooldown_s=0.0)
    [shown] = await hear(session, "me vê um dorflex por favor")
    assert shown.product is not None and shown.product.nome == "Gel de Arnica"  # its complement

    session = AdviceSession(RELAXANTS, [CatalogAdvisor()], cooldown_s=0.0)
    session.replace_missing(_missing("Dorflex"))
    [instead] = await hear(session, "me vê um dorflex por favor")

    assert instead.product is not None and instead.product.nome == "Miosan"
    assert instead.result is not None
    assert (
        instead.result.explicacao
        == "Dorflex está em falta aqui; no lugar dele: Relaxante muscular."
    )


async def test_nothing_of_its_kind_left_is_no_suggestion_not_its_complement() -> None:
    session = AdviceSession(RELAXANTS, [CatalogAdvisor()], cooldown_s=0.0)
    session.replace_missing(_missing("Dorflex", "Miosan"))

    [decision] = await hear(session, "me vê um dorflex por favor")

    assert decision.product is None


async def test_a_need_is_served_by_the_next_best_product_in_stock() -> None:
    session = AdviceSession(CATALOG, [CatalogAdvisor()], cooldown_s=0.0)
    [first] = await hear(session, "estou com uma dor de cabeça forte desde ontem")
    assert first.product is not None
    best = first.product.nome

    session = AdviceSession(CATALOG, [CatalogAdvisor()], cooldown_s=0.0)
    session.replace_missing(_missing(best))
    [second] = await hear(session, "estou com uma dor de cabeça forte desde ontem")

    assert second.product is not None and second.product.nome != best
    # back in stock: the same session suggests it again for the next customer
    session.replace_missing(frozenset())
    session.new_conversation()
    [third] = await hear(session, "estou com uma dor de cabeça forte desde ontem")
    assert third.product is not None and third.product.nome == best


async def test_an_llm_is_not_offered_a_missing_product_and_is_refused_naming_it(
    chain: Chain,
) -> None:
    chain.xai.respond = says("Dorflex")  # out of stock: not in its enum, named anyway
    chain.openai.respond = says("dorflex")
    session = chain.session()
    session.replace_missing(_missing("Dorflex"))

    [decision] = await hear(session, MUSCLE)

    enum = chain.xai.requests[0].body["response_format"]["json_schema"]["schema"]["properties"][
        "produto"
    ]["enum"]
    assert "Dorflex" not in enum and "Loratadina 10 mg" in enum
    assert refusals(decision) == [
        ("xai", "sem_estoque", "Dorflex"),
        ("openai", "sem_estoque", "Dorflex"),
    ]
    assert decision.product is None or decision.product.nome != "Dorflex"
    assert decision.result is not None and decision.result.provider == "catalog"


async def test_a_model_naming_another_unknown_product_is_still_unknown(chain: Chain) -> None:
    chain.xai.respond = says("Allegra 180 mg")
    chain.openai.respond = says("Miosan")
    session = chain.session()
    session.replace_missing(_missing("Dorflex"))

    [decision] = await hear(session, MUSCLE)

    assert [r[:2] for r in refusals(decision)] == [
        ("xai", "produto_desconhecido"),
        ("openai", "produto_desconhecido"),
    ]


async def test_an_llm_is_told_the_product_asked_for_by_name_is_missing(chain: Chain) -> None:
    chain.xai.respond = says("Ibuprofeno 400 mg")
    session = chain.session()
    session.replace_missing(_missing("Dorflex"))

    await hear(session, "me vê um dorflex por favor")
    session.new_conversation()
    await hear(session, MUSCLE)  # Dorflex is missing, but nobody asked for it by name

    told, not_told = (r.body["messages"][0]["content"] for r in chain.xai.requests)
    assert told.endswith(
        "Em falta nesta loja, e por isso fora da lista: Dorflex. O cliente pediu por nome; se um"
        " produto da lista o substitui, sugira-o e diga na explicação que o pedido está em falta."
    )
    assert "Em falta" not in not_told and "- Dorflex |" not in told
    assert told.startswith(not_told)  # the list's prefix is the same: providers cache it
