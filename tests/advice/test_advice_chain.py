"""The advisor chain as Balto builds it (registry, guards, breakers) against loopback LLM fakes that
misbehave the way real models do: near-miss names, off-catalog and wrong-category products,
prescription-only products, malformed JSON, refusals."""

from __future__ import annotations

import gc
import weakref
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

import pytest
import trio

from balto.advice.chain import CATALOG_ADVISOR, MAX_OFFERED, offered
from balto.advice.chain import advise as chain_advise
from balto.advice.needs import NeedDetector
from balto.advice.needs_view import OFFERED
from balto.advice.session import AdviceSession, Decision
from balto.catalog import Catalog, Product
from balto.config import Settings
from balto.providers.catalog_advisor import CatalogAdvisor
from balto.providers.ports import Advisor, Turn
from balto.providers.registry import open_providers
from tests.fakes.openai_compat import FakeOpenAICompat
from tests.fakes.wiring import provider_env

CATALOG = Catalog.load()
ALLERGY = "tô espirrando o dia inteiro, acho que é rinite, o olho coçando"
MUSCLE = "voltei pra academia e tô com uma dor muscular nas pernas"


@dataclass
class Chain:
    xai: FakeOpenAICompat
    openai: FakeOpenAICompat
    advisors: tuple[Advisor, ...]

    def session(self, catalog: Catalog = CATALOG) -> AdviceSession:
        return AdviceSession(catalog, self.advisors, cooldown_s=0.0)


def says(produto: str) -> Any:
    return lambda body: {"recomendar": True, "produto": produto, "explicacao": "Ajuda nisso."}


@pytest.fixture
async def chain(nursery: trio.Nursery) -> AsyncIterator[Chain]:
    xai, openai = FakeOpenAICompat("xai"), FakeOpenAICompat("openai")
    env = await provider_env(nursery, llms=[xai, openai])
    env.update({"BALTO_LLM": "xai,openai,catalog", "BALTO_LLM_TIMEOUT": "2"})
    async with open_providers(Settings.from_env(env)) as providers:
        yield Chain(xai, openai, providers.advisors)


async def hear(session: AdviceSession, *texts: str) -> list[Decision]:
    return [await session.hear(text, 4.0 * i, 4.0 * i + 3.0) for i, text in enumerate(texts)]


def refusals(decision: Decision) -> list[tuple[str, str, str]]:
    assert decision.advice is not None
    return [
        (a.advisor, a.refusal.reason, a.refusal.said) for a in decision.advice.asked if a.refusal
    ]


async def test_a_near_miss_name_is_the_catalog_product(chain: Chain) -> None:
    chain.xai.respond = says("loratadina 10mg")

    [decision] = await hear(chain.session(), ALLERGY)

    assert decision.product is not None and decision.product.nome == "Loratadina 10 mg"
    assert decision.result is not None and decision.result.provider == "xai"
    assert refusals(decision) == [] and chain.openai.requests == []


async def test_the_schema_holds_the_model_to_the_catalog(chain: Chain) -> None:
    chain.xai.respond = says("Loratadina 10 mg")

    await hear(chain.session(), ALLERGY)

    [request] = chain.xai.requests
    schema = request.body["response_format"]["json_schema"]
    assert schema["strict"] is True
    enum = schema["schema"]["properties"]["produto"]["enum"]
    assert enum[-1] == "" and "Loratadina 10 mg" in enum
    assert set(enum[:-1]) == {p.nome for p in CATALOG.products if not p.prescription_only}


async def test_off_catalog_answers_from_every_llm_fall_through_to_the_catalog(
    chain: Chain,
) -> None:
    chain.xai.respond = says("Allegra 180 mg")
    chain.openai.respond = says("Claritin")

    [decision] = await hear(chain.session(), ALLERGY)

    assert decision.product is not None and decision.product.nome == "Loratadina 10 mg"
    assert decision.result is not None and decision.result.provider == "catalog"
    assert refusals(decision) == [
        ("xai", "produto_desconhecido", "Allegra 180 mg"),
        ("openai", "produto_desconhecido", "Claritin"),
    ]


async def test_a_product_that_does_not_fit_the_need_is_refused(chain: Chain) -> None:
    chain.xai.respond = says("Pomada para Assaduras com Óxido de Zinco")
    chain.openai.respond = says("Dorflex")

    [decision] = await hear(chain.session(), MUSCLE)

    assert decision.product is not None and decision.product.nome == "Dorflex"
    assert decision.result is not None and decision.result.provider == "openai"
    assert refusals(decision) == [
        ("xai", "nao_atende_necessidade", "Pomada para Assaduras com Óxido de Zinco")
    ]


@pytest.mark.parametrize(
    ("produto", "reason"),
    [("Amoxicilina 500 mg", "exige_receita"), ("Paracetamol", "produto_ambiguo")],
)
async def test_prescription_and_ambiguous_names_are_refused(
    chain: Chain, produto: str, reason: str
) -> None:
    chain.xai.respond = says(produto)
    chain.openai.respond = says(produto)

    [decision] = await hear(chain.session(), "tô com uma dor de cabeça que não passa")

    assert decision.product is not None and not decision.product.prescription_only
    assert decision.result is not None and decision.result.provider == "catalog"
    assert [r[:2] for r in refusals(decision)] == [("xai", reason), ("openai", reason)]


async def test_malformed_json_and_refusals_are_refused_with_what_was_said(chain: Chain) -> None:
    chain.xai.malformed_next("Recomendo loratadina, claro!")
    chain.openai.refuse_next("Não posso recomendar medicamentos.")

    [decision] = await hear(chain.session(), ALLERGY)

    assert decision.result is not None and decision.result.provider == "catalog"
    reasons = refusals(decision)
    assert [r[:2] for r in reasons] == [("xai", "resposta_malformada"), ("openai", "recusa")]
    assert reasons[1][2] == "Não posso recomendar medicamentos."


async def test_small_talk_asks_no_advisor(chain: Chain) -> None:
    chain.xai.respond = says("Dorflex")

    decisions = await hear(chain.session(), "Bom dia!", "Aceita pix?", "o sol tá de rachar, né")

    assert all(d.product is None and d.advice is None for d in decisions)
    assert chain.xai.requests == []


async def test_each_red_flag_is_alerted_once_even_while_another_is_in_the_window(
    chain: Chain,
) -> None:
    decisions = await hear(
        chain.session(),
        "me dá um antiácido, tô com um aperto aqui no peito",
        "faz meia hora, e agora tô sem ar",
        "ainda tô com o aperto no peito e sem ar",
    )

    assert [[f.code for f in d.flags] for d in decisions] == [
        ["dor_no_peito"],
        ["falta_de_ar"],
        [],
    ]
    assert all(d.product is None for d in decisions) and chain.xai.requests == []


async def test_signs_heard_together_share_one_alert(chain: Chain) -> None:
    [decision] = await hear(chain.session(), "meu pai tá com dor no peito e falta de ar")

    assert [f.code for f in decision.flags] == ["dor_no_peito", "falta_de_ar"]


async def test_a_large_catalog_is_preselected_by_need(chain: Chain) -> None:
    filler = [
        Product(f"Produto Genérico {n}", f"categoria {n}", (f"sintoma {n}",), "x")
        for n in range(300)
    ]
    big = Catalog([*filler, *CATALOG.products])
    chain.xai.respond = says("Loratadina 10 mg")

    [decision] = await hear(chain.session(big), ALLERGY)

    assert decision.product is not None and decision.product.nome == "Loratadina 10 mg"
    enum = chain.xai.requests[0].body["response_format"]["json_schema"]["schema"]["properties"][
        "produto"
    ]["enum"]
    assert "Loratadina 10 mg" in enum and len(enum) <= MAX_OFFERED + 1
    assert not any(name.startswith("Produto Genérico") for name in enum)


def _answers(decision: Decision) -> Mapping[str, int]:
    assert decision.advice is not None
    return {a.advisor: int(a.result is not None) for a in decision.advice.asked}


async def test_a_need_already_advised_on_is_not_asked_again(chain: Chain) -> None:
    chain.xai.respond = says("Loratadina 10 mg")

    decisions = await hear(chain.session(), ALLERGY, "obrigado, moça", "quanto fica?")

    assert decisions[0].product is not None
    assert [d.advice for d in decisions[1:]] == [None, None]
    assert len(chain.xai.requests) == 1
    assert _answers(decisions[0]) == {"xai": 1}


async def test_the_catalog_advisor_in_the_chain_chooses_as_it_does_alone() -> None:
    # In the chain it takes the needs the session already read (`needs.OFFERED`) instead of
    # reading the window again; the choice must be the one it makes reading it itself.
    advisor = CatalogAdvisor()
    detector = NeedDetector(CATALOG)
    dialogues = [
        (ALLERGY, MUSCLE),
        ("me vê um dorflex", "só isso mesmo"),
        ("minha filha tá com febre desde ontem", "ela tem seis anos, tá comendo bem"),
        ("tô com azia depois do almoço", "e uma dor de cabeça também"),
    ]
    for texts in dialogues:
        dialogue = [Turn(text, None, 4.0 * i, 4.0 * i + 3.0) for i, text in enumerate(texts)]
        shown = detector.detect(dialogue)
        still = shown.still_open(set(), len(dialogue) - 1)
        alone = await advisor.advise(dialogue, offered(still, CATALOG, CATALOG_ADVISOR))
        assert alone.produto is not None, texts
        chosen = await chain_advise(dialogue, still, (advisor,), CATALOG, shown)
        assert chosen.result is not None and chosen.result.produto == alone.produto, texts
        assert OFFERED.get() is None  # set around the chain's own calls only


async def test_catalogs_offered_to_the_catalog_advisor_do_not_pile_up() -> None:
    # Each call used to leave its catalog alive for good (a weak map whose values held it).
    advisor = CatalogAdvisor()
    dialogue = [Turn(MUSCLE, None, 0.0, 3.0)]
    offers = []
    for _ in range(30):
        offer = Catalog(list(CATALOG.products))
        assert (await advisor.advise(dialogue, offer)).produto is not None
        offers.append(weakref.ref(offer))
        del offer
    gc.collect()
    assert sum(ref() is not None for ref in offers) <= 8
