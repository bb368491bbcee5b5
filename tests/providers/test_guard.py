"""Retries, budget and breaker with an in-memory provider under the autojump clock: exact times."""

from __future__ import annotations

from collections import deque

import pytest
import trio
import trio.testing

from balto.errors import Category, ProviderError
from balto.providers.breaker import Breaker, BreakerPolicy, BreakerState, CircuitOpen
from balto.providers.guard import GuardedError, GuardedStt, RetryPolicy
from balto.providers.ports import SttResult

POLICY = RetryPolicy(max_attempts=3, backoff_base_s=0.5, jitter=0.0, budget_s=10.0)


class Scripted:
    """A SpeechToText whose next answers are scripted: an error, a hang (seconds) or success."""

    name = "fake"
    model = "m1"

    def __init__(self) -> None:
        self.script: deque[ProviderError | float] = deque()
        self.calls: list[float] = []

    async def transcribe(self, pcm: bytes, sample_rate: int) -> SttResult:
        self.calls.append(trio.current_time())
        step = self.script.popleft() if self.script else None
        if isinstance(step, ProviderError):
            raise step
        if isinstance(step, float):
            await trio.sleep(step)
        return SttResult("ok", self.name, self.model, "pt", 0.0, 1.0, 0.001)


def error(category: Category, retry_after: float | None = None) -> ProviderError:
    return ProviderError("fake", category, category.value, retry_after=retry_after)


def guarded(
    inner: Scripted,
    policy: RetryPolicy = POLICY,
    nursery: trio.Nursery | None = None,
    breaker_policy: BreakerPolicy | None = None,
) -> GuardedStt:
    breaker = Breaker(
        "fake",
        breaker_policy or BreakerPolicy(failure_threshold=3, probe_interval_s=5.0),
        probe=lambda: inner.transcribe(b"", 16_000),
        nursery=nursery,
    )
    return GuardedStt(inner, breaker, policy)


async def test_server_errors_are_retried_with_exponential_backoff(
    autojump_clock: trio.testing.MockClock,
) -> None:
    inner = Scripted()
    inner.script.extend([error(Category.SERVER), error(Category.CONNECTIVITY)])
    result = await guarded(inner).transcribe(b"", 16_000)
    assert inner.calls == [0.0, 0.5, 1.5]
    assert [a.error.category for a in result.failed_attempts] == [
        Category.SERVER,
        Category.CONNECTIVITY,
    ]


async def test_retries_run_out_and_every_attempt_is_reported(
    autojump_clock: trio.testing.MockClock,
) -> None:
    inner = Scripted()
    inner.script.extend([error(Category.SERVER)] * 3)
    with pytest.raises(GuardedError) as info:
        await guarded(inner).transcribe(b"", 16_000)
    assert inner.calls == [0.0, 0.5, 1.5]
    assert len(info.value.attempts) == 3 and info.value.category is Category.SERVER
    assert "after 3 attempts" in info.value.message


async def test_retry_after_is_honoured_exactly(autojump_clock: trio.testing.MockClock) -> None:
    inner = Scripted()
    inner.script.append(error(Category.RATE_LIMITED, retry_after=1.25))
    await guarded(inner).transcribe(b"", 16_000)
    assert inner.calls == [0.0, 1.25]


async def test_a_long_retry_after_fails_over_and_blocks_the_provider_until_then(
    autojump_clock: trio.testing.MockClock,
) -> None:
    inner = Scripted()
    inner.script.append(error(Category.RATE_LIMITED, retry_after=30.0))
    stt = guarded(inner)
    with pytest.raises(GuardedError):
        await stt.transcribe(b"", 16_000)
    await trio.sleep(29.0)
    with pytest.raises(CircuitOpen) as info:
        await stt.transcribe(b"", 16_000)
    assert info.value.category is Category.RATE_LIMITED
    assert inner.calls == [0.0]  # nothing was sent while blocked
    await trio.sleep(1.0)
    await stt.transcribe(b"", 16_000)
    assert inner.calls == [0.0, 30.0]


@pytest.mark.parametrize(
    "category",
    [
        Category.AUTH,
        Category.QUOTA,
        Category.INVALID_REQUEST,
        Category.TIMEOUT,
        Category.MALFORMED_RESPONSE,
    ],
)
async def test_permanent_timeouts_and_malformed_answers_are_not_retried(
    autojump_clock: trio.testing.MockClock, category: Category
) -> None:
    inner = Scripted()
    inner.script.append(error(category))
    with pytest.raises(GuardedError):
        await guarded(inner).transcribe(b"", 16_000)
    assert inner.calls == [0.0]


async def test_auth_opens_the_breaker_at_once(autojump_clock: trio.testing.MockClock) -> None:
    inner = Scripted()
    inner.script.append(error(Category.AUTH))
    stt = guarded(inner)
    with pytest.raises(GuardedError):
        await stt.transcribe(b"", 16_000)
    assert stt.breaker.state is BreakerState.OPEN
    with pytest.raises(CircuitOpen) as info:
        await stt.transcribe(b"", 16_000)
    assert info.value.category is Category.AUTH
    assert inner.calls == [0.0]


async def test_a_hang_costs_exactly_the_budget(autojump_clock: trio.testing.MockClock) -> None:
    inner = Scripted()
    inner.script.append(1000.0)
    policy = RetryPolicy(max_attempts=3, jitter=0.0, budget_s=2.5)
    with pytest.raises(GuardedError) as info:
        await guarded(inner, policy).transcribe(b"", 16_000)
    assert trio.current_time() == 2.5
    assert info.value.category is Category.TIMEOUT
    assert inner.calls == [0.0]


async def test_no_retry_wait_runs_past_the_budget(autojump_clock: trio.testing.MockClock) -> None:
    inner = Scripted()
    inner.script.extend([error(Category.SERVER), error(Category.SERVER)])
    policy = RetryPolicy(max_attempts=5, backoff_base_s=1.0, jitter=0.0, budget_s=2.5)
    with pytest.raises(GuardedError):
        await guarded(inner, policy).transcribe(b"", 16_000)
    # retry at 1.0; the next wait (2.0) would end at 3.0 > 2.5, so the call gives up at 1.0
    assert inner.calls == [0.0, 1.0]
    assert trio.current_time() == 1.0


async def test_breaker_opens_after_consecutive_failures_and_the_probe_closes_it(
    autojump_clock: trio.testing.MockClock, nursery: trio.Nursery
) -> None:
    inner = Scripted()
    single = RetryPolicy(max_attempts=1, budget_s=10.0)
    policy = BreakerPolicy(failure_threshold=3, probe_interval_s=5.0, probe_interval_cap_s=60.0)
    stt = guarded(inner, single, nursery, policy)
    # three failed calls, then two failed probes (at +5 s and +10 s more), then a good one
    inner.script.extend([error(Category.SERVER)] * 5)
    for _ in range(3):
        with pytest.raises(GuardedError):
            await stt.transcribe(b"", 16_000)
    assert stt.breaker.state is BreakerState.OPEN
    with pytest.raises(CircuitOpen):
        await stt.transcribe(b"", 16_000)
    await trio.sleep(100.0)
    # probes at 5, 15 (interval doubled to 10), 35 (20): the third succeeds
    assert inner.calls == [0.0, 0.0, 0.0, 5.0, 15.0, 35.0]
    assert stt.breaker.state is BreakerState.CLOSED and stt.breaker.probes == 3
    await stt.transcribe(b"", 16_000)
    assert inner.calls[-1] == 100.0


async def test_without_a_nursery_the_breaker_half_opens(
    autojump_clock: trio.testing.MockClock,
) -> None:
    inner = Scripted()
    inner.script.append(error(Category.AUTH))
    stt = guarded(inner)
    with pytest.raises(GuardedError):
        await stt.transcribe(b"", 16_000)
    await trio.sleep(4.9)
    with pytest.raises(CircuitOpen):
        await stt.transcribe(b"", 16_000)
    await trio.sleep(0.1)
    await stt.transcribe(b"", 16_000)  # the half-open trial call succeeds
    assert stt.breaker.state is BreakerState.CLOSED
    assert inner.calls == [0.0, 5.0]
