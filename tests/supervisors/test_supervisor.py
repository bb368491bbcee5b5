"""The supervisor under the autojump clock: restarts, backoff, intensity, escalation."""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable

import pytest
import trio
import trio.testing

from actors.context import ActorHealth, ActorState
from balto.errors import Category, ProviderError
from supervisors.supervisor import ChildSpec, Escalation, Restart, Supervisor


class _NoJitter(random.Random):
    def random(self) -> float:
        return 1.0  # delay * (0.5 + 1/2) == delay: exact virtual times


def _crasher(
    times: int, log: list[float], exc: Exception | None = None
) -> Callable[[], Awaitable[None]]:
    async def start() -> None:
        log.append(trio.current_time())
        if len(log) <= times:
            raise exc or RuntimeError(f"crash {len(log)}")

    return start


async def test_transient_child_is_restarted_with_exponential_backoff(
    autojump_clock: trio.testing.MockClock,
) -> None:
    starts: list[float] = []
    health = ActorHealth("a")
    exits: list[str] = []
    spec = ChildSpec("a", _crasher(3, starts), health, on_exit=lambda: exits.append("a"))
    await Supervisor([spec], backoff=0.1, rng=_NoJitter()).run()
    assert starts == pytest.approx([0.0, 0.1, 0.3, 0.7])  # 0.1, 0.2, 0.4 between starts
    assert health.restarts == 3
    assert health.state is ActorState.STOPPED
    assert health.last_error == "RuntimeError: crash 3"
    assert exits == ["a"]


async def test_intensity_exceeded_escalates(autojump_clock: trio.testing.MockClock) -> None:
    starts: list[float] = []
    health = ActorHealth("a")
    spec = ChildSpec("a", _crasher(100, starts), health)
    with pytest.RaisesGroup(pytest.RaisesExc(Escalation, match="crash 4")):
        await Supervisor([spec], intensity=3, period=10.0, backoff=0.1, rng=_NoJitter()).run()
    assert len(starts) == 4  # the first run and 3 restarts
    assert health.state is ActorState.FAILED


async def test_permanent_provider_errors_never_loop(autojump_clock: trio.testing.MockClock) -> None:
    starts: list[float] = []
    bad_key = ProviderError("elevenlabs", Category.AUTH, "invalid_api_key", status=401)
    spec = ChildSpec("t", _crasher(100, starts, bad_key), ActorHealth("t"))
    with pytest.RaisesGroup(pytest.RaisesExc(Escalation, match="auth")):
        await Supervisor([spec], rng=_NoJitter()).run()
    assert starts == [0.0]


async def test_permanent_child_that_returns_is_restarted_then_bounded(
    autojump_clock: trio.testing.MockClock,
) -> None:
    starts: list[float] = []

    async def returns() -> None:
        starts.append(trio.current_time())

    spec = ChildSpec("p", returns, ActorHealth("p"), restart=Restart.PERMANENT)
    with pytest.RaisesGroup(pytest.RaisesExc(Escalation, match="keeps returning")):
        await Supervisor([spec], intensity=2, backoff=0.5, rng=_NoJitter()).run()
    assert starts == pytest.approx([0.0, 0.5, 1.5])


async def test_temporary_child_is_not_restarted(autojump_clock: trio.testing.MockClock) -> None:
    starts: list[float] = []
    spec = ChildSpec("t", _crasher(1, starts), ActorHealth("t"), restart=Restart.TEMPORARY)
    with pytest.RaisesGroup(pytest.RaisesExc(Escalation)):
        await Supervisor([spec]).run()
    assert starts == [0.0]
