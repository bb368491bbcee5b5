"""An OTP-style supervisor on Trio: strategies, restart types, intensity, backoff, a watchdog.

Children start in order (each incarnation has begun before the next child starts) and stop in
reverse. When a child ends abnormally the strategy decides who restarts with it:
`ONE_FOR_ONE` (just the child), `ONE_FOR_ALL` (every running child), `REST_FOR_ONE` (the child
and the running children started after it). Restart types follow OTP: `PERMANENT` children are
restarted whatever way they end, `TRANSIENT` only after an error, `TEMPORARY` never (and their
failure does not escalate). More than `intensity` restarts within `period` seconds — measured on
`trio.current_time()`, so it works under a mock clock — or a permanent error (a provider error
whose category is permanent, such as bad credentials; any `balto.errors.PermanentError`, such as
undecodable audio) escalates: every child is stopped in reverse and `Escalation`, chained
``from`` the child's error, ends the supervisor. Restarts wait a jittered exponential backoff.

A watchdog (when `hang_timeout` is set) restarts a child that owes progress — it has work waiting
and has not taken any for `hang_timeout` seconds — as if it had crashed with `Hang`.
`request_restart` restarts every running child for ops without counting against the intensity.
"""

from __future__ import annotations

import enum
import logging
import random
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import trio

from actors.context import ActorHealth, ActorState
from balto.errors import BaltoError, PermanentError, ProviderError

log = logging.getLogger("balto.supervisor")


class Restart(enum.StrEnum):
    """When a child is restarted (Erlang/OTP restart types)."""

    PERMANENT = "permanent"  # always, even after a normal return
    TRANSIENT = "transient"  # only after an error
    TEMPORARY = "temporary"  # never


class Strategy(enum.StrEnum):
    """Which children restart together when one fails (Erlang/OTP strategies)."""

    ONE_FOR_ONE = "one_for_one"
    ONE_FOR_ALL = "one_for_all"
    REST_FOR_ONE = "rest_for_one"


class Escalation(BaltoError):
    """A child failed beyond what restarts may fix; the supervisor gives up."""

    def __init__(self, child: str, reason: str) -> None:
        """Record which child and why."""
        super().__init__(f"{child}: {reason}")
        self.child = child
        self.reason = reason


class Hang(BaltoError):
    """The watchdog found a child with work waiting and no progress."""


@dataclass(frozen=True, slots=True)
class ChildSpec:
    """How to run one child: a fresh incarnation per call of `start`.

    `on_exit` runs once the child has ended for good (not restarted). `on_interrupt(crashed)` runs
    after every incarnation that did not end normally — it crashed, hung, or the supervisor
    stopped it — so the child's links can hand its in-flight message to the next incarnation.
    `owes_progress_since` feeds the watchdog: the time since which the child has had work waiting
    without taking any, or None.
    """

    name: str
    start: Callable[[], Awaitable[None]]
    health: ActorHealth
    restart: Restart = Restart.TRANSIENT
    on_exit: Callable[[], None] | None = None
    on_interrupt: Callable[[bool], None] | None = None
    owes_progress_since: Callable[[], float | None] | None = None


@dataclass(slots=True)
class _Child:
    spec: ChildSpec
    index: int
    gen: int = 0
    scope: trio.CancelScope = field(default_factory=trio.CancelScope)
    exited: trio.Event = field(default_factory=trio.Event)
    running: bool = False
    exit_pending: bool = False  # it ended on its own; the supervisor has not handled that yet
    stopping: bool = False
    hung: bool = False
    attempt: int = 0
    started_at: float = 0.0


@dataclass(frozen=True, slots=True)
class _Exit:
    child: _Child
    gen: int
    error: Exception | None


@dataclass(frozen=True, slots=True)
class _OpsRestart:
    reason: str


def _permanent(error: Exception) -> bool:
    """True when restarting the child cannot help."""
    if isinstance(error, ProviderError):
        return error.category.permanent
    return isinstance(error, PermanentError)


class Supervisor:
    """Runs children under one strategy with restart intensity, jittered backoff and a watchdog."""

    def __init__(
        self,
        children: Sequence[ChildSpec],
        *,
        strategy: Strategy = Strategy.ONE_FOR_ONE,
        intensity: int = 5,
        period: float = 30.0,
        backoff: float = 0.05,
        max_backoff: float = 2.0,
        hang_timeout: float | None = None,
        rng: random.Random | None = None,
    ) -> None:
        """Configure; nothing runs until `run`."""
        self.children = tuple(children)
        self.strategy = strategy
        self.intensity = intensity
        self.period = period
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.hang_timeout = hang_timeout
        self._rng = rng or random.Random()
        self._restarts: deque[float] = deque()
        self._children = [_Child(spec, i) for i, spec in enumerate(self.children)]
        # at most two exits per child can be queued (a stale one and a fresh one), plus commands
        self._events_tx, self._events_rx = trio.open_memory_channel[_Exit | _OpsRestart](
            2 * len(self._children) + 4
        )
        self._nursery: trio.Nursery | None = None

    def request_restart(self, reason: str) -> bool:
        """Ask for every running child to be restarted (ops); False if not running or busy."""
        if self._nursery is None:
            return False
        try:
            self._events_tx.send_nowait(_OpsRestart(reason))
        except trio.WouldBlock:
            return False
        return True

    async def run(self) -> None:
        """Run until every child has ended for good; raise `Escalation` if one cannot be kept up."""
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            try:
                for child in self._children:
                    await self._start(child)
                if self.hang_timeout is not None:
                    nursery.start_soon(self._watchdog, self.hang_timeout, name="watchdog")
                while any(c.running or c.exit_pending for c in self._children):
                    match await self._events_rx.receive():
                        case _OpsRestart(reason):
                            await self._ops_restart(reason)
                        case _Exit() as exit_ if exit_.gen == exit_.child.gen:
                            exit_.child.exit_pending = False
                            await self._handle_exit(exit_)
                        case _Exit():
                            pass  # a stale exit of an incarnation already replaced
            except Escalation:
                await self._stop_all()
                raise
            finally:
                self._nursery = None
            nursery.cancel_scope.cancel()  # the watchdog

    async def _start(self, child: _Child) -> None:
        assert self._nursery is not None
        child.gen += 1
        child.running, child.stopping, child.hung = True, False, False
        child.exited = trio.Event()
        child.scope = trio.CancelScope()
        child.spec.health.state = ActorState.STARTING
        name = f"actor:{child.spec.name}"
        await self._nursery.start(self._incarnation, child, child.gen, name=name)

    async def _incarnation(
        self, child: _Child, gen: int, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        child.started_at = trio.current_time()
        task_status.started()
        error: Exception | None = None
        try:
            with child.scope:
                try:
                    await child.spec.start()
                except Exception as exc:
                    error = exc
            if child.hung and error is None:
                error = Hang(f"no progress for {self.hang_timeout} s with work waiting")
        finally:
            child.running = False
            child.exited.set()
        if not child.stopping:
            child.exit_pending = True
            self._events_tx.send_nowait(_Exit(child, gen, error))

    async def _handle_exit(self, exit_: _Exit) -> None:
        child, error = exit_.child, exit_.error
        spec, health = child.spec, child.spec.health
        if error is None and spec.restart is not Restart.PERMANENT:
            self._finish(child, ActorState.STOPPED)
            return
        if error is not None:
            health.record_error(error)
            log.warning("actor %s failed: %s", spec.name, health.last_error)
            if spec.on_interrupt is not None:
                spec.on_interrupt(True)
            if spec.restart is Restart.TEMPORARY:
                self._finish(child, ActorState.FAILED)
                return
            if _permanent(error):
                health.state = ActorState.FAILED
                raise Escalation(spec.name, health.last_error or str(error)) from error
        if not self._may_restart():
            health.state = ActorState.FAILED
            if error is None:
                raise Escalation(spec.name, "permanent child keeps returning")
            raise Escalation(
                spec.name,
                f"{health.last_error} (more than {self.intensity} restarts in {self.period:g} s)",
            )
        await self._restart_group(child, self._affected(child))

    def _finish(self, child: _Child, state: ActorState) -> None:
        child.spec.health.state = state
        if child.spec.on_exit is not None:
            child.spec.on_exit()

    def _affected(self, failed: _Child) -> list[_Child]:
        match self.strategy:
            case Strategy.ONE_FOR_ONE:
                return [failed]
            case Strategy.ONE_FOR_ALL:
                return [c for c in self._children if c is failed or c.running]
            case Strategy.REST_FOR_ONE:
                rest = self._children[failed.index :]
                return [c for c in rest if c is failed or c.running]

    async def _restart_group(self, failed: _Child, group: list[_Child]) -> None:
        for child in reversed(group):
            if child is not failed:
                await self._stop(child)
        for child in group:
            child.spec.health.state = ActorState.RESTARTING
        if trio.current_time() - failed.started_at >= self.period:
            failed.attempt = 0  # it ran fine for a while: start the backoff over
        delay = min(self.max_backoff, self.backoff * 2**failed.attempt)
        failed.attempt += 1
        await trio.sleep(delay * (0.5 + self._rng.random() / 2))
        for child in group:
            if child is not failed and child.spec.restart is Restart.TEMPORARY:
                self._finish(child, ActorState.STOPPED)
                continue
            child.spec.health.restarts += 1
            await self._start(child)

    async def _ops_restart(self, reason: str) -> None:
        group = [c for c in self._children if c.running]
        log.info("restarting %s on request: %s", [c.spec.name for c in group], reason)
        for child in reversed(group):
            await self._stop(child)
        for child in group:
            child.spec.health.restarts += 1
            child.spec.health.state = ActorState.RESTARTING
            await self._start(child)

    async def _stop(self, child: _Child) -> None:
        if not child.running:
            return
        child.stopping = True
        child.scope.cancel()
        await child.exited.wait()
        child.spec.health.state = ActorState.STOPPED
        if child.spec.on_interrupt is not None:
            child.spec.on_interrupt(False)

    async def _stop_all(self) -> None:
        with trio.CancelScope(shield=True):
            for child in reversed(self._children):
                await self._stop(child)

    def _may_restart(self) -> bool:
        now = trio.current_time()
        while self._restarts and now - self._restarts[0] > self.period:
            self._restarts.popleft()
        if len(self._restarts) >= self.intensity:
            return False
        self._restarts.append(now)
        return True

    async def _watchdog(self, timeout: float) -> None:
        while True:
            now = trio.current_time()
            deadline = now + timeout / 4  # poll while nothing owes progress
            for child in self._children:
                probe = child.spec.owes_progress_since
                if not child.running or child.stopping or probe is None:
                    continue
                since = probe()
                if since is None:
                    continue
                due = max(since, child.started_at) + timeout
                if due <= now:
                    log.warning("watchdog: %s made no progress in %.1f s", child.spec.name, timeout)
                    child.hung = True
                    child.scope.cancel()
                else:
                    deadline = min(deadline, due)
            await trio.sleep_until(deadline)
