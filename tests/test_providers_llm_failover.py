"""Acceptance for the LLM chain (xAI → OpenAI → catalog), per failure, over real HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
import trio

from balto.catalog import Catalog
from balto.errors import Category, ProviderError
from balto.pricing import DEFAULT_PRICING
from balto.providers.breaker import Breaker, BreakerPolicy, BreakerState
from balto.providers.catalog_advisor import CatalogAdvisor
from balto.providers.guard import GuardedAdvisor, RetryPolicy
from balto.providers.openai_chat import OpenAIChatAdvisor, make_client
from balto.providers.ports import AdviceResult, Advisor, Turn
from tests.fakes.openai_compat import FakeOpenAICompat
from tests.fakes.server import serve_app

BUDGET_S = 0.8
RETRY = RetryPolicy(max_attempts=3, backoff_base_s=0.05, jitter=0.0, budget_s=BUDGET_S)
BREAKER = BreakerPolicy(failure_threshold=3, probe_interval_s=0.2, probe_budget_s=BUDGET_S)
CATALOG = Catalog.load()
DIALOGUE = [Turn("Estou com uma dor de cabeça muito forte desde ontem.", None, 0.0, 3.0)]
PICK = {"recomendar": True, "produto": "Neosaldina", "explicacao": "Enxaqueca."}


@dataclass
class Chain:
    xai: FakeOpenAICompat
    openai: FakeOpenAICompat
    guarded: list[GuardedAdvisor]

    @property
    def advisors(self) -> list[Advisor]:
        return [*self.guarded, CatalogAdvisor()]


@pytest.fixture
async def chain(nursery: trio.Nursery) -> AsyncIterator[Chain]:
    fakes = {"xai": FakeOpenAICompat("xai"), "openai": FakeOpenAICompat("openai")}
    for fake in fakes.values():
        fake.respond = lambda body: PICK
    async with trio.open_nursery() as probes:
        guarded: list[GuardedAdvisor] = []
        clients = []
        for name, fake in fakes.items():
            url = await serve_app(nursery, fake.app) + "/v1"
            client = make_client(fake.api_key, url)
            clients.append(client)
            raw = OpenAIChatAdvisor(
                name=name, client=client, model="m", pricing=DEFAULT_PRICING, timeout_s=BUDGET_S
            )
            probe = Breaker(
                name, BREAKER, probe=lambda raw=raw: raw.advise(DIALOGUE, CATALOG), nursery=probes
            )
            guarded.append(GuardedAdvisor(raw, probe, RETRY))
        yield Chain(fakes["xai"], fakes["openai"], guarded)
        probes.cancel_scope.cancel()
        for client in clients:
            await client.close()


async def advise(advisors: list[Advisor]) -> tuple[AdviceResult, list[ProviderError]]:
    errors: list[ProviderError] = []
    for advisor in advisors:
        try:
            return await advisor.advise(DIALOGUE, CATALOG), errors
        except ProviderError as exc:
            errors.append(exc)
    raise AssertionError(errors)


async def test_xai_bad_key_fails_over_to_openai_and_opens_the_breaker(chain: Chain) -> None:
    chain.xai.api_key = "rotated"  # xAI answers HTTP 400 with a string error

    result, errors = await advise(chain.advisors)

    assert (result.provider, result.produto) == ("openai", "Neosaldina")
    assert [e.category for e in errors] == [Category.AUTH]
    assert len(chain.xai.requests) == 1
    assert chain.guarded[0].breaker.state is BreakerState.OPEN


async def test_429_with_retry_after_is_honoured(chain: Chain) -> None:
    chain.xai.fail_next(429, headers={"retry-after": "0.25"})

    result, errors = await advise(chain.advisors)

    assert result.provider == "xai" and errors == []
    first, second = chain.xai.requests
    assert 0.25 <= second.received_at - first.received_at < 0.55


async def test_5xx_retried_then_failover(chain: Chain) -> None:
    chain.xai.fail_next(500, times=3)

    result, errors = await advise(chain.advisors)

    assert result.provider == "openai"
    assert len(chain.xai.requests) == 3 and errors[0].category is Category.SERVER


async def test_hang_within_budget_then_failover(chain: Chain) -> None:
    chain.xai.hang_next(30.0)
    started = trio.current_time()

    result, errors = await advise(chain.advisors)

    assert result.provider == "openai" and errors[0].category is Category.TIMEOUT
    assert trio.current_time() - started - result.latency_s <= BUDGET_S + 0.3


async def test_malformed_answer_fails_over(chain: Chain) -> None:
    chain.xai.malformed_next()  # prose instead of the JSON schema

    result, errors = await advise(chain.advisors)

    assert result.provider == "openai" and errors[0].category is Category.MALFORMED_RESPONSE
    assert len(chain.xai.requests) == 1


async def test_every_llm_down_the_catalog_still_answers(chain: Chain) -> None:
    chain.xai.fail_next(503, times=3)
    chain.openai.fail_next(503, times=3)

    result, errors = await advise(chain.advisors)

    assert result.provider == "catalog" and result.produto is not None
    assert [e.provider for e in errors] == ["xai", "openai"]


async def test_recovery_returns_traffic_to_xai(chain: Chain) -> None:
    chain.xai.api_key, key = "rotated", chain.xai.api_key
    await advise(chain.advisors)
    assert chain.guarded[0].breaker.state is BreakerState.OPEN
    chain.xai.api_key = key
    for _ in range(250):
        if chain.guarded[0].breaker.state is BreakerState.CLOSED:
            break
        await trio.sleep(0.02)

    result, _ = await advise(chain.advisors)

    assert result.provider == "xai"
