"""What the customer says rules products out of the advice: never suggested by the catalog
advisor, not offered to an LLM and refused (``contraindicado``) when a model names one anyway, a
product asked for by name replaced by another of its kind, and a suggestion already on the
screen withdrawn when later words rule it out. On the default catalog, as shipped."""

from __future__ import annotations

from balto.advice.session import AdviceSession, Decision
from balto.catalog import Catalog
from balto.providers.catalog_advisor import CatalogAdvisor
from tests.advice.test_advice_chain import Chain, chain, hear, refusals, says

__all__ = ["chain"]  # the fixture, shared with the chain's own tests

CATALOG = Catalog.load()


def _session() -> AdviceSession:
    return AdviceSession(CATALOG, [CatalogAdvisor()], cooldown_s=0.0)


def _shown(decisions: list[Decision]) -> list[str]:
    return [d.product.nome for d in decisions if d.product is not None]


async def test_a_pregnant_customers_headache_gets_what_pregnancy_allows() -> None:
    [usual] = await hear(_session(), "tô com uma dor de cabeça daquelas")
    [decision] = await hear(_session(), "tô grávida e tô com uma dor de cabeça daquelas")

    assert usual.product is not None and usual.product.nome == "Dipirona Monoidratada 500 mg"
    assert decision.product is not None and decision.product.nome == "Paracetamol 750 mg"
    assert decision.cautions == ("gravidez",)
    # she is pregnant: the pregnancy test is not her need
    assert "Teste de Gravidez" not in _shown(await hear(_session(), "tô grávida de cinco meses"))
    doubt = await hear(_session(), "será que estou grávida? a menstruação tá atrasada")
    assert _shown(doubt) == ["Teste de Gravidez"]


async def test_a_product_asked_for_by_name_and_ruled_out_gets_another_of_its_kind() -> None:
    [decision] = await hear(_session(), "me vê uma neosaldina que eu tenho pressão alta")

    assert decision.product is not None
    assert decision.product.nome == "Dipirona Monoidratada 500 mg"
    assert decision.result is not None
    assert decision.result.explicacao.startswith(
        "Neosaldina não é indicado (pressão alta); no lugar dele: "
    )


async def test_a_suggestion_ruled_out_by_later_words_is_withdrawn_and_replaced() -> None:
    first, asked, answer = await hear(
        _session(), "tô com uma dor de dente daquelas", "a senhora tá grávida?", "tô sim"
    )

    assert first.product is not None and first.product.nome == "Ibuprofeno 400 mg"
    assert asked.withdrawn == () and asked.product is None
    assert answer.withdrawn == (("Ibuprofeno 400 mg", "gravidez"),)
    assert answer.product is not None and answer.product.nome == "Paracetamol 750 mg"
    assert answer.result is not None
    assert answer.result.explicacao.startswith(
        "Ibuprofeno 400 mg não é indicado (gravidez); no lugar dele: "
    )


async def test_a_suggestion_ruled_out_with_nothing_to_replace_it_is_still_withdrawn() -> None:
    first, told, more = await hear(
        _session(), "me vê um dorflex", "ah, eu tô grávida", "é pras costas"
    )

    assert first.product is not None and first.product.nome.startswith("Gel Anti-inflamatório")
    assert told.withdrawn == (("Gel Anti-inflamatório Diclofenaco Dietilamônio", "gravidez"),)
    assert told.product is None  # every relaxant and anti-inflammatory is ruled out
    assert more.withdrawn == ()  # once


async def test_an_allergy_to_a_medicine_is_a_caution_not_an_ask_for_an_antiallergic() -> None:
    headache, allergic = await hear(
        _session(), "tô com dor de cabeça", "ah, e eu sou alérgica a dipirona"
    )

    assert headache.product is not None
    assert headache.product.nome == "Dipirona Monoidratada 500 mg"
    assert allergic.withdrawn == (("Dipirona Monoidratada 500 mg", "alergia a dipirona"),)
    assert allergic.product is not None and allergic.product.nome == "Paracetamol 750 mg"
    # an allergy to dust is still a need
    [dust] = await hear(_session(), "tenho alergia a poeira, tô espirrando muito")
    assert dust.product is not None and dust.product.nome == "Loratadina 10 mg"


async def test_telling_a_condition_does_not_read_as_small_talk() -> None:
    [decision] = await hear(_session(), "tô com azia, tenho pressão alta")

    assert decision.product is not None and decision.product.nome == "Omeprazol 20 mg"


async def test_an_llm_is_not_offered_a_ruled_out_product_and_is_refused_naming_it(
    chain: Chain,
) -> None:
    chain.xai.respond = says("Ibuprofeno 400 mg")  # named anyway
    chain.openai.respond = says("ibuprofeno 400mg")
    session = chain.session()

    [decision] = await hear(session, "tô grávida e tô com uma cólica menstrual forte")

    body = chain.xai.requests[0].body
    enum = body["response_format"]["json_schema"]["schema"]["properties"]["produto"]["enum"]
    assert "Ibuprofeno 400 mg" not in enum and "Paracetamol 750 mg" in enum
    assert body["messages"][0]["content"].endswith(
        "Cuidados: o cliente relatou gravidez. Os produtos contraindicados para isso foram"
        " tirados da lista. Se o cliente pediu um deles, sugira outro da lista que o substitua e"
        " diga na explicação por quê."
    )
    assert refusals(decision) == [
        ("xai", "contraindicado", "Ibuprofeno 400 mg"),
        ("openai", "contraindicado", "Ibuprofeno 400 mg"),
    ]
    assert decision.product is not None and decision.product.nome != "Ibuprofeno 400 mg"
    assert decision.result is not None and decision.result.provider == "catalog"


async def test_an_llm_is_told_nothing_when_nothing_was_said(chain: Chain) -> None:
    chain.xai.respond = says("Buscopan Composto")
    await hear(chain.session(), "tô com uma cólica menstrual forte")

    prompt = chain.xai.requests[0].body["messages"][0]["content"]
    assert "Cuidados" not in prompt and "- Ibuprofeno 400 mg |" in prompt


async def test_the_next_customer_is_not_held_to_what_the_last_one_said() -> None:
    session = _session()
    [pregnant] = await hear(session, "tô grávida e tô com uma dor de cabeça daquelas")
    session.new_conversation()
    [next_one] = await hear(session, "tô com uma dor de cabeça daquelas")

    assert pregnant.product is not None and pregnant.product.nome == "Paracetamol 750 mg"
    assert next_one.product is not None
    assert next_one.product.nome == "Dipirona Monoidratada 500 mg"
    assert next_one.cautions == ()
