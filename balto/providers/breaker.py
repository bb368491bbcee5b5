"""A circuit breaker per provider, with a background recovery probe.

In: the outcome of each guarded call (`record_success` / `record_failure`) and, while open, the
outcome of probe calls. Out: `blocked()`, the error a caller should raise instead of calling the
provider (None when the call may go ahead). Nothing here talks to a provider except the probe.

The breaker opens at once on a permanent failure (bad key, no quota) and after
`BreakerPolicy.failure_threshold` consecutive failed calls otherwise. While it is open, a probe task
in the process's provider nursery calls the provider with a tiny request, backing off between
probes; the first success closes the breaker, so traffic returns to the primary without a live
request paying for the discovery. A ``Retry-After`` longer than the caller will wait blocks the
provider until then without opening the breaker. Without a nursery (tests, scripts) the breaker
falls back to half-open: one real call is let through after the probe interval.

One breaker per provider per process: every session shares it.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import trio

from balto.errors import Category, ProviderError

log = logging.getLogger(__name__)

Probe = Callable[[], Awaitable[object]]


class BreakerState(enum.StrEnum):
    """Whether calls go to the provider."""

    CLOSED = "closed"
    OPEN = "open"


@dataclass(frozen=True, slots=True)
class BreakerPolicy:
    """When a breaker opens and how it probes.

    Attributes:
        failure_threshold: Consecutive failed calls that open the breaker.
        probe_interval_s: Wait before the first probe after opening.
        probe_interval_cap_s: Longest wait between probes (the interval doubles after a failure).
        probe_budget_s: Time one probe call may take.
    """

    failure_threshold: int = 3
    probe_interval_s: float = 10.0
    probe_interval_cap_s: float = 120.0
    probe_budget_s: float = 10.0


class CircuitOpen(ProviderError):
    """The breaker refused the call: no request was sent. The category is the last failure's."""


class Breaker:
    """The breaker of one provider; see the module docstring."""

    def __init__(
        self,
        provider: str,
        policy: BreakerPolicy,
        *,
        probe: Probe | None = None,
        nursery: trio.Nursery | None = None,
    ) -> None:
        """Create a closed breaker.

        Args:
            provider: The provider name, for errors and logs.
            policy: Thresholds and probe timing.
            probe: A tiny real call to the provider; raises `ProviderError` when it is still down.
            nursery: Where probe tasks run; None falls back to half-open on the next call.
        """
        self.provider = provider
        self.policy = policy
        self.state = BreakerState.CLOSED
        self.consecutive_failures = 0
        self.last_error: ProviderError | None = None
        self.opened_at: float | None = None
        self.blocked_until: float | None = None
        self.probes = 0
        self.openings = 0
        self._probe = probe
        self._nursery = nursery
        self._probing = False

    def blocked(self) -> CircuitOpen | None:
        """The error to raise instead of calling the provider now, or None to go ahead."""
        now = trio.current_time()
        if self.blocked_until is not None:
            if now < self.blocked_until:
                wait = self.blocked_until - now
                return self._refusal(
                    f"rate limited: asked to wait {wait:.2f} s more", Category.RATE_LIMITED
                )
            self.blocked_until = None
        if self.state is BreakerState.CLOSED:
            return None
        # Half-open: without a probe task, the next real call after the interval is the probe.
        if (
            self._nursery is None
            and self.opened_at is not None
            and now - self.opened_at >= self.policy.probe_interval_s
        ):
            self.opened_at = now
            return None
        return self._refusal("circuit open")

    def block_until(self, when: float) -> None:
        """Send no call before `when` (trio time): the server asked for a longer wait."""
        self.blocked_until = max(when, self.blocked_until or when)

    def record_success(self) -> None:
        """A call succeeded: close the breaker."""
        if self.state is BreakerState.OPEN:
            log.warning("%s recovered: circuit closed", self.provider)
        self.state = BreakerState.CLOSED
        self.consecutive_failures = 0
        self.opened_at = None

    def record_failure(self, exc: ProviderError) -> None:
        """A call failed with `exc`; open the breaker when the policy says so."""
        self.last_error = exc
        self.consecutive_failures += 1
        opens = exc.category in (Category.AUTH, Category.QUOTA) or (
            self.consecutive_failures >= self.policy.failure_threshold
        )
        if opens and self.state is BreakerState.CLOSED:
            self._open()

    def snapshot(self) -> dict[str, object]:
        """A JSON-ready view for admins."""
        return {
            "provider": self.provider,
            "state": self.state.value,
            "consecutive_failures": self.consecutive_failures,
            "last_error": str(self.last_error) if self.last_error else None,
            "openings": self.openings,
            "probes": self.probes,
        }

    def _open(self) -> None:
        self.state = BreakerState.OPEN
        self.opened_at = trio.current_time()
        self.openings += 1
        log.error("%s: circuit open after %s", self.provider, self.last_error)
        if self._nursery is not None and self._probe is not None and not self._probing:
            self._probing = True
            self._nursery.start_soon(self._probe_loop)

    async def _probe_loop(self) -> None:
        """Probe until the provider answers, then close the breaker."""
        assert self._probe is not None  # checked by _open
        interval = self.policy.probe_interval_s
        try:
            while self.state is BreakerState.OPEN:
                await trio.sleep(interval)
                if self.state is not BreakerState.OPEN:
                    break
                self.probes += 1
                try:
                    with trio.fail_after(self.policy.probe_budget_s):
                        await self._probe()
                except trio.TooSlowError:
                    log.info("%s probe: no answer within budget", self.provider)
                except ProviderError as exc:
                    self.last_error = exc
                    log.info("%s probe failed: %s", self.provider, exc)
                else:
                    self.record_success()
                    break
                interval = min(interval * 2, self.policy.probe_interval_cap_s)
        finally:
            self._probing = False

    def _refusal(self, why: str, category: Category | None = None) -> CircuitOpen:
        last = self.last_error
        if category is None:
            category = last.category if last is not None else Category.SERVER
        detail = f" (last error: {last.category.value}: {last.message})" if last else ""
        return CircuitOpen(self.provider, category, why + detail, status=None)
