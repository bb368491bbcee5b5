"""Acceptance, per provider and per failure, against the loopback fakes over real HTTP.

Each STT provider is tried as the primary of a two-provider chain (the next one in the list is the
secondary), guarded exactly as `open_providers` guards it. Real sockets: budgets and waits are
small real times, asserted within tolerances.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import trio

from balto.errors import Category, ProviderError
from balto.pricing import DEFAULT_PRICING
from balto.providers.assemblyai import AssemblyAITranscriber
from balto.providers.breaker import Breaker, BreakerPolicy, BreakerState, CircuitOpen
from balto.providers.elevenlabs import ElevenLabsScribe
from balto.providers.guard import GuardedStt, RetryPolicy
from balto.providers.openai_stt import OpenAITranscriber
from balto.providers.ports import SpeechToText, SttResult
from tests.fakes.assemblyai import FakeAssemblyAI
from tests.fakes.elevenlabs import FakeElevenLabs
from tests.fakes.openai_stt import FakeOpenAITranscriptions
from tests.fakes.server import ScriptedFake, serve_app

PCM = b"\x01\x00" * 16_000  # one second at 16 kHz
BUDGET_S = 0.8
PROBE_S = 0.2
RETRY = RetryPolicy(max_attempts=3, backoff_base_s=0.05, jitter=0.0, budget_s=BUDGET_S)
BREAKER = BreakerPolicy(failure_threshold=3, probe_interval_s=PROBE_S, probe_budget_s=BUDGET_S)


@dataclass
class Side:
    name: str
    fake: Any  # the fake service
    stt: GuardedStt

    @property
    def requests(self) -> list[Any]:
        return list(self.fake.requests)


async def make_side(
    name: str, nursery: trio.Nursery, http: httpx.AsyncClient, probes: trio.Nursery
) -> Side:
    fake: ScriptedFake
    raw: SpeechToText
    common: dict[str, Any] = {"pricing": DEFAULT_PRICING, "http": http, "timeout_s": BUDGET_S}
    if name == "elevenlabs":
        fake = FakeElevenLabs(default_text="texto do elevenlabs")
        url = await serve_app(nursery, fake.app)
        raw = ElevenLabsScribe(api_key=fake.api_key, base_url=url, model="scribe_v2", **common)
    elif name == "assemblyai":
        fake = FakeAssemblyAI(default_text="texto do assemblyai")
        url = await serve_app(nursery, fake.app)
        raw = AssemblyAITranscriber(
            api_key=fake.api_key, base_url=url, poll_interval_s=0.01, **common
        )
    else:
        fake = FakeOpenAITranscriptions(text="texto do openai")
        url = await serve_app(nursery, fake.app)
        raw = OpenAITranscriber(
            api_key=fake.api_key, base_url=url + "/v1", model="whisper-1", **common
        )
    breaker = Breaker(
        name, BREAKER, probe=lambda: raw.transcribe(PCM[:8000], 16_000), nursery=probes
    )
    return Side(name, fake, GuardedStt(raw, breaker, RETRY))


async def failover(chain: Sequence[SpeechToText]) -> tuple[SttResult, list[ProviderError]]:
    """What the transcriber does: the first provider that answers."""
    errors: list[ProviderError] = []
    for provider in chain:
        try:
            return await provider.transcribe(PCM, 16_000), errors
        except ProviderError as exc:
            errors.append(exc)
    raise AssertionError(f"every provider failed: {errors}")


PAIRS = [("elevenlabs", "assemblyai"), ("assemblyai", "openai_stt"), ("openai_stt", "elevenlabs")]


@pytest.fixture(params=PAIRS, ids=[p for p, _ in PAIRS])
async def pair(
    request: pytest.FixtureRequest, nursery: trio.Nursery
) -> AsyncIterator[tuple[Side, Side]]:
    async with httpx.AsyncClient() as http, trio.open_nursery() as probes:
        primary = await make_side(request.param[0], nursery, http, probes)
        secondary = await make_side(request.param[1], nursery, http, probes)
        yield primary, secondary
        probes.cancel_scope.cancel()


def text_of(side: Side) -> str:
    return {"elevenlabs": "texto do elevenlabs", "assemblyai": "texto do assemblyai"}.get(
        side.name, "texto do openai"
    )


async def test_401_no_retry_failover_and_the_breaker_opens(pair: tuple[Side, Side]) -> None:
    primary, secondary = pair
    primary.fake.api_key = "rotated"  # every request is now unauthorized

    result, errors = await failover([primary.stt, secondary.stt])

    assert result.text == text_of(secondary)
    assert [e.category for e in errors] == [Category.AUTH]
    assert len(primary.requests) == 1  # no retry
    assert primary.stt.breaker.state is BreakerState.OPEN
    seen = len(primary.requests)
    result, errors = await failover([primary.stt, secondary.stt])
    assert isinstance(errors[0], CircuitOpen) and result.text == text_of(secondary)
    # nothing reached the primary but the background probes
    assert len(primary.requests) == seen + primary.stt.breaker.probes


async def test_429_retry_after_is_honoured(pair: tuple[Side, Side]) -> None:
    primary, secondary = pair
    primary.fake.fail_next(429, headers={"retry-after": "0.3"})

    result, errors = await failover([primary.stt, secondary.stt])

    assert result.text == text_of(primary) and errors == []
    first, second = primary.requests[0], primary.requests[1]
    assert 0.3 <= second.received_at - first.received_at < 0.6
    assert [a.error.category for a in result.failed_attempts] == [Category.RATE_LIMITED]
    assert secondary.requests == []


async def test_5xx_is_retried_then_fails_over(pair: tuple[Side, Side]) -> None:
    primary, secondary = pair
    primary.fake.fail_next(503, times=3)

    result, errors = await failover([primary.stt, secondary.stt])

    assert result.text == text_of(secondary)
    assert [e.category for e in errors] == [Category.SERVER]
    assert len(primary.requests) == 3
    assert primary.stt.breaker.consecutive_failures == 1


async def test_a_hang_times_out_within_the_budget_and_fails_over(pair: tuple[Side, Side]) -> None:
    primary, secondary = pair
    primary.fake.hang_next(30.0)
    started = trio.current_time()

    result, errors = await failover([primary.stt, secondary.stt])

    assert result.text == text_of(secondary)
    assert [e.category for e in errors] == [Category.TIMEOUT]
    primary_cost = trio.current_time() - started - result.latency_s
    assert BUDGET_S - 0.05 <= primary_cost <= BUDGET_S + 0.3


async def test_a_malformed_body_fails_over_without_retry(pair: tuple[Side, Side]) -> None:
    primary, secondary = pair
    primary.fake.malformed_next()

    result, errors = await failover([primary.stt, secondary.stt])

    assert result.text == text_of(secondary)
    assert [e.category for e in errors] == [Category.MALFORMED_RESPONSE]
    assert len(primary.requests) == 1


async def test_recovery_the_probe_closes_the_breaker_and_traffic_returns(
    pair: tuple[Side, Side],
) -> None:
    primary, secondary = pair
    key = primary.fake.api_key
    primary.fake.api_key = "rotated"
    await failover([primary.stt, secondary.stt])
    assert primary.stt.breaker.state is BreakerState.OPEN

    await trio.sleep(PROBE_S * 1.5)  # a probe has failed meanwhile (the key is still wrong)
    assert primary.stt.breaker.state is BreakerState.OPEN
    assert primary.stt.breaker.probes >= 1
    primary.fake.api_key = key  # the operator fixed the key
    for _ in range(250):  # the probe runs on its own schedule: poll for at most 5 s
        if primary.stt.breaker.state is BreakerState.CLOSED:
            break
        await trio.sleep(0.02)
    assert primary.stt.breaker.state is BreakerState.CLOSED

    served_by_secondary = len(secondary.requests)
    result, errors = await failover([primary.stt, secondary.stt])
    assert result.text == text_of(primary) and errors == []
    assert len(secondary.requests) == served_by_secondary
