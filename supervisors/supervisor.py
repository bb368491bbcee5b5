"""A small OTP-style supervisor on Trio.

Children start in order and run concurrently in one nursery. A child that raises is restarted
after a backoff (`Restart.PERMANENT` / `TRANSIENT`), unless the restart intensity is exceeded —
more than `intensity` restarts within `period` seconds, measured on `trio.current_time()` so it
works under a mock clock — or the error's category is permanent (bad credentials, a bad request):
then the supervisor escalates by raising `Escalation`, which ends the whole group.
A child that returns normally is not restarted (`TRANSIENT`), and its `on_exit` runs.

Strategy here is one_for_one; the other OTP strategies come with the supervision issue.
"""

from __future__ import annotations

import enum
import random
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import trio

from actors.context import ActorHealth, ActorState
from balto.errors import BaltoError, ProviderError


class Restart(enum.StrEnum):
    """When a child is restarted (Erlang/OTP restart types)."""

    PERMANENT = "permanent"  # always, even after a normal return
    TRANSIENT = "transient"  # only after an error
    TEMPORARY = "temporary"  # never


class Escalation(BaltoError):
    """A child failed beyond what restarts may fix; the supervisor gives up."""

    def __init__(self, child: str, reason: str) -> None:
        """Record which child and why."""
        super().__init__(f"{child}: {reason}")
        self.child = child
        self.reason = reason


@dataclass(frozen=True, slots=True)
class ChildSpec:
    """How to run one child: a fresh incarnation per call of `start`."""

    name: str
    start: Callable[[], Awaitable[None]]
    health: ActorHealth
    restart: Restart = Restart.TRANSIENT
    on_exit: Callable[[], None] | None = None


class Supervisor:
    """Runs children one_for_one with restart intensity and jittered backoff."""

    def __init__(
        self,
        children: Sequence[ChildSpec],
        *,
        intensity: int = 5,
        period: float = 30.0,
        backoff: float = 0.05,
        max_backoff: float = 2.0,
        rng: random.Random | None = None,
    ) -> None:
        """Configure; nothing runs until `run`."""
        self.children = tuple(children)
        self.intensity = intensity
        self.period = period
        self.backoff = backoff
        self.max_backoff = max_backoff
        self._rng = rng or random.Random()
        self._restarts: deque[float] = deque()

    async def run(self) -> None:
        """Run every child until all have ended; raise `Escalation` if one cannot be kept up."""
        async with trio.open_nursery() as nursery:
            for spec in self.children:
                nursery.start_soon(self._supervise, spec, name=f"actor:{spec.name}")

    def _may_restart(self) -> bool:
        now = trio.current_time()
        while self._restarts and now - self._restarts[0] > self.period:
            self._restarts.popleft()
        if len(self._restarts) >= self.intensity:
            return False
        self._restarts.append(now)
        return True

    async def _supervise(self, spec: ChildSpec) -> None:
        attempt = 0
        while True:
            try:
                await spec.start()
            except Exception as exc:
                spec.health.last_error = f"{type(exc).__name__}: {exc}"
                permanent = isinstance(exc, ProviderError) and exc.category.permanent
                if spec.restart is Restart.TEMPORARY or permanent or not self._may_restart():
                    spec.health.state = ActorState.FAILED
                    raise Escalation(spec.name, spec.health.last_error) from exc
            else:
                if spec.restart is not Restart.PERMANENT:
                    spec.health.state = ActorState.STOPPED
                    if spec.on_exit is not None:
                        spec.on_exit()
                    return
                if not self._may_restart():
                    spec.health.state = ActorState.FAILED
                    raise Escalation(spec.name, "permanent child keeps returning")
            # one backoff path for both: a child that returns at once must not spin
            spec.health.state = ActorState.RESTARTING
            spec.health.restarts += 1
            delay = min(self.max_backoff, self.backoff * 2**attempt)
            attempt += 1
            await trio.sleep(delay * (0.5 + self._rng.random() / 2))
