"""Retries, backoff, a time budget and the circuit breaker around one provider.

In: a provider implementing a port (`SpeechToText` or `Advisor`) and its process-wide `Breaker`.
Out: the same port, so the actors' failover loop and any test wrapper see an ordinary provider.
Raises `GuardedError` (a `ProviderError` carrying every failed attempt) or `CircuitOpen` (no request
was sent); Trio cancellation passes through untouched.

What is retried: server errors, connectivity failures and rate limits, with exponential backoff, or
exactly the server's ``Retry-After`` when it gave one. Not retried: permanent failures (auth, quota,
invalid request: the same call cannot succeed), malformed answers (a confused provider; the next one
in the chain is a better bet) and timeouts (a provider that used its whole budget is not going to
answer the next attempt faster while the segment waits). A ``Retry-After`` longer than
`RetryPolicy.max_retry_after_s`, or than what is left of the budget, is not waited for: the call
fails over and the breaker keeps the provider blocked until then. The budget bounds the whole call,
retries and waits included, so a hung provider costs at most its budget.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import trio

from balto.catalog import Catalog
from balto.errors import Category, ProviderError
from balto.providers.breaker import Breaker
from balto.providers.ports import AdviceResult, Advisor, Attempt, SpeechToText, SttResult, Turn

T = TypeVar("T")

_RETRYABLE = frozenset({Category.SERVER, Category.CONNECTIVITY, Category.RATE_LIMITED})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How one guarded call retries.

    Attributes:
        max_attempts: Attempts per call, the first included.
        backoff_base_s: Wait before the first retry; doubles for each further one.
        backoff_cap_s: Longest wait between attempts without a ``Retry-After``.
        jitter: Fraction of the backoff removed at random, so sessions do not retry in lockstep.
        max_retry_after_s: Longest ``Retry-After`` honoured by waiting; a longer one fails over.
        budget_s: Time the whole call may take, attempts and waits included.
    """

    max_attempts: int = 3
    backoff_base_s: float = 0.2
    backoff_cap_s: float = 2.0
    jitter: float = 0.25
    max_retry_after_s: float = 5.0
    budget_s: float = 10.0

    def backoff(self, retry: int) -> float:
        """The wait before retry number `retry` (0 for the first) without a ``Retry-After``."""
        delay = min(self.backoff_cap_s, self.backoff_base_s * 2.0**retry)
        return delay * (1 - self.jitter * random.random())


class GuardedError(ProviderError):
    """A guarded call failed; `attempts` lists every attempt, the last one's error first in kind."""

    def __init__(self, last: ProviderError, attempts: Sequence[Attempt]) -> None:
        """Wrap the last attempt's error."""
        retries = f" after {len(attempts)} attempts" if len(attempts) > 1 else ""
        super().__init__(
            last.provider,
            last.category,
            last.message + retries,
            status=last.status,
            retry_after=last.retry_after,
        )
        self.attempts: tuple[Attempt, ...] = tuple(attempts)


async def guarded_call(
    provider: str,
    call: Callable[[], Awaitable[T]],
    *,
    breaker: Breaker,
    policy: RetryPolicy,
) -> tuple[T, tuple[Attempt, ...]]:
    """Run `call` under the breaker, the retry policy and the budget.

    Args:
        provider: The provider name, for errors.
        call: One attempt (a fresh coroutine per call).
        breaker: The provider's process-wide breaker.
        policy: Retries and budget.

    Returns:
        The answer and the attempts that failed before it.

    Raises:
        CircuitOpen: The breaker refused the call; nothing was sent.
        GuardedError: Every attempt failed, or the budget ran out.
    """
    refusal = breaker.blocked()
    if refusal is not None:
        raise refusal
    deadline = trio.current_time() + policy.budget_s
    attempts: list[Attempt] = []
    while True:
        started = trio.current_time()
        try:
            with trio.fail_after(max(0.0, deadline - started)):
                result = await call()
        except trio.TooSlowError:
            error = ProviderError(
                provider, Category.TIMEOUT, f"no answer within the {policy.budget_s:g} s budget"
            )
        except ProviderError as exc:
            error = exc
        else:
            breaker.record_success()
            return result, tuple(attempts)
        attempts.append(Attempt(error, trio.current_time() - started))
        delay = _retry_delay(error, len(attempts), policy, breaker)
        if delay is None or trio.current_time() + delay >= deadline:
            breaker.record_failure(error)
            raise GuardedError(error, attempts) from error
        await trio.sleep(delay)


def _retry_delay(
    error: ProviderError, attempts: int, policy: RetryPolicy, breaker: Breaker
) -> float | None:
    """Seconds to wait before the next attempt, or None when there is none."""
    if error.category not in _RETRYABLE or attempts >= policy.max_attempts:
        if error.retry_after is not None and error.category is Category.RATE_LIMITED:
            breaker.block_until(trio.current_time() + error.retry_after)
        return None
    if error.retry_after is not None:
        if error.retry_after > policy.max_retry_after_s:
            breaker.block_until(trio.current_time() + error.retry_after)
            return None
        return error.retry_after
    return policy.backoff(attempts - 1)


class GuardedStt:
    """A `SpeechToText` with retries, budget and breaker around another one."""

    def __init__(self, inner: SpeechToText, breaker: Breaker, policy: RetryPolicy) -> None:
        """Guard `inner` with its process-wide `breaker`."""
        self.inner = inner
        self.name = inner.name
        self.model = inner.model
        self.breaker = breaker
        self.policy = policy

    async def transcribe(self, pcm: bytes, sample_rate: int) -> SttResult:
        """Transcribe like the inner provider; see `guarded_call` for what is raised."""
        result, failed = await guarded_call(
            self.name,
            lambda: self.inner.transcribe(pcm, sample_rate),
            breaker=self.breaker,
            policy=self.policy,
        )
        return dataclasses.replace(result, failed_attempts=failed)


class GuardedAdvisor:
    """An `Advisor` with retries, budget and breaker around another one."""

    def __init__(self, inner: Advisor, breaker: Breaker, policy: RetryPolicy) -> None:
        """Guard `inner` with its process-wide `breaker`."""
        self.inner = inner
        self.name = inner.name
        self.model = inner.model
        self.breaker = breaker
        self.policy = policy

    async def advise(self, dialogue: Sequence[Turn], catalog: Catalog) -> AdviceResult:
        """Advise like the inner advisor; see `guarded_call` for what is raised."""
        result, failed = await guarded_call(
            self.name,
            lambda: self.inner.advise(dialogue, catalog),
            breaker=self.breaker,
            policy=self.policy,
        )
        return dataclasses.replace(result, failed_attempts=failed)
