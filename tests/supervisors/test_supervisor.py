"""The supervisor under the autojump clock: strategies, restart types, intensity, backoff, the
watchdog and ops restarts, with exact virtual times."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest
import trio
import trio.testing

from actors.context import ActorHealth, ActorState
from balto.errors import Category, ProviderError
from supervisors.supervisor import ChildSpec, Escalation, Restart, Strategy, Supervisor


class _NoJitter(random.Random):
    def random(self) -> float:
        return 1.0  # delay * (0.5 + 1/2) == delay: exact virtual times


class _Half(random.Random):
    def random(self) -> float:
        return 0.0  # the lowest jitter: delay * 0.5


Log = list[tuple[str, str, float]]


def _child(
    name: str,
    log: Log,
    *,
    crash_at: dict[int, float] | None = None,
    return_at: float | None = None,
    restart: Restart = Restart.TRANSIENT,
    exc: Callable[[int], Exception] | None = None,
    owes: Callable[[], float | None] | None = None,
) -> ChildSpec:
    """A child logging its starts/stops; incarnation n crashes `crash_at[n]` s after it starts."""
    incarnation = 0

    async def start() -> None:
        nonlocal incarnation
        incarnation += 1
        n = incarnation
        log.append(("start", name, trio.current_time()))
        try:
            if crash_at and n in crash_at:
                await trio.sleep(crash_at[n])
                raise (exc(n) if exc else RuntimeError(f"{name} crash {n}"))
            if return_at is not None:
                await trio.sleep(return_at)
                return
            await trio.sleep_forever()
        except trio.Cancelled:
            log.append(("stop", name, trio.current_time()))
            raise

    return ChildSpec(name, start, ActorHealth(name), restart=restart, owes_progress_since=owes)


async def _run_for(supervisor: Supervisor, seconds: float) -> None:
    with trio.move_on_after(seconds):
        await supervisor.run()


async def test_transient_child_is_restarted_with_exponential_backoff(
    autojump_clock: trio.testing.MockClock,
) -> None:
    log: Log = []
    exits: list[str] = []
    spec = _child("a", log, crash_at={1: 0, 2: 0, 3: 0}, return_at=1.0)
    spec = ChildSpec(spec.name, spec.start, spec.health, on_exit=lambda: exits.append("a"))
    await Supervisor([spec], backoff=0.1, rng=_NoJitter()).run()
    assert [t for kind, _, t in log if kind == "start"] == pytest.approx([0.0, 0.1, 0.3, 0.7])
    assert spec.health.restarts == 3
    assert spec.health.state is ActorState.STOPPED
    assert spec.health.last_error == "RuntimeError: a crash 3"
    assert spec.health.last_error_type == "RuntimeError"
    assert exits == ["a"]


async def test_jitter_never_shortens_below_half(autojump_clock: trio.testing.MockClock) -> None:
    log: Log = []
    spec = _child("a", log, crash_at={1: 0, 2: 0}, return_at=0)
    await Supervisor([spec], backoff=0.2, rng=_Half()).run()
    assert [t for kind, _, t in log if kind == "start"] == pytest.approx([0.0, 0.1, 0.3])


async def test_backoff_is_capped(autojump_clock: trio.testing.MockClock) -> None:
    log: Log = []
    spec = _child("a", log, crash_at={n: 0 for n in range(1, 6)}, return_at=0)
    await Supervisor([spec], backoff=1.0, max_backoff=3.0, intensity=10, rng=_NoJitter()).run()
    starts = [t for kind, _, t in log if kind == "start"]
    assert starts == pytest.approx([0.0, 1.0, 3.0, 6.0, 9.0, 12.0])


async def test_intensity_exceeded_escalates_and_stops_the_rest_in_reverse(
    autojump_clock: trio.testing.MockClock,
) -> None:
    log: Log = []
    a = _child("a", log)
    b = _child("b", log, crash_at={n: 1.0 for n in range(1, 10)})
    c = _child("c", log)
    sup = Supervisor([a, b, c], intensity=3, period=10.0, backoff=0.1, rng=_NoJitter())
    with pytest.RaisesGroup(
        pytest.RaisesExc(Escalation, match=r"b crash 4 \(more than 3 restarts in 10 s\)")
    ):
        await sup.run()
    # b: start 0, crash 1.0, restart 1.1, crash 2.1, restart 2.3, crash 3.3, restart 3.7, crash 4.7
    assert [t for kind, n, t in log if kind == "start" and n == "b"] == pytest.approx(
        [0.0, 1.1, 2.3, 3.7]
    )
    assert [(kind, n) for kind, n, _ in log if kind == "stop"] == [("stop", "c"), ("stop", "a")]
    assert b.health.state is ActorState.FAILED
    assert b.health.last_error == "RuntimeError: b crash 4"


async def test_intensity_window_forgets_old_restarts(
    autojump_clock: trio.testing.MockClock,
) -> None:
    log: Log = []
    # crashes 5 s apart; a period of 4 s never holds more than one restart
    spec = _child("a", log, crash_at={n: 5.0 for n in range(1, 6)}, return_at=0)
    await Supervisor([spec], intensity=1, period=4.0, backoff=0.0, rng=_NoJitter()).run()
    assert spec.health.restarts == 5


async def test_permanent_provider_errors_never_loop(autojump_clock: trio.testing.MockClock) -> None:
    log: Log = []
    bad_key = ProviderError("elevenlabs", Category.AUTH, "invalid_api_key", status=401)
    spec = _child("t", log, crash_at={n: 0 for n in range(1, 10)}, exc=lambda n: bad_key)
    with pytest.RaisesGroup(pytest.RaisesExc(Escalation, match="auth")):
        await Supervisor([spec], rng=_NoJitter()).run()
    assert [kind for kind, _, _ in log] == ["start"]


async def test_invalid_request_never_loops(autojump_clock: trio.testing.MockClock) -> None:
    log: Log = []
    bad = ProviderError("xai", Category.INVALID_REQUEST, "bad model", status=400)
    spec = _child("t", log, crash_at={1: 0.5}, exc=lambda n: bad)
    with pytest.RaisesGroup(pytest.RaisesExc(Escalation, match="invalid_request")):
        await Supervisor([spec], rng=_NoJitter()).run()
    assert len(log) == 1


async def test_permanent_child_that_returns_is_restarted_then_bounded(
    autojump_clock: trio.testing.MockClock,
) -> None:
    log: Log = []
    spec = _child("p", log, return_at=0, restart=Restart.PERMANENT)
    with pytest.RaisesGroup(pytest.RaisesExc(Escalation, match="keeps returning")):
        await Supervisor([spec], intensity=2, backoff=0.5, rng=_NoJitter()).run()
    assert [t for _, _, t in log] == pytest.approx([0.0, 0.5, 1.5])


async def test_transient_child_that_returns_is_not_restarted(
    autojump_clock: trio.testing.MockClock,
) -> None:
    log: Log = []
    spec = _child("t", log, return_at=2.0)
    await Supervisor([spec]).run()
    assert log == [("start", "t", 0.0)]
    assert spec.health.state is ActorState.STOPPED


async def test_temporary_child_is_never_restarted_and_does_not_escalate(
    autojump_clock: trio.testing.MockClock,
) -> None:
    log: Log = []
    exits: list[str] = []
    temp = _child("t", log, crash_at={1: 1.0}, restart=Restart.TEMPORARY)
    temp = ChildSpec(temp.name, temp.start, temp.health, temp.restart, lambda: exits.append("t"))
    other = _child("o", log, return_at=3.0)
    await Supervisor([temp, other]).run()
    assert log == [("start", "t", 0.0), ("start", "o", 0.0)]
    assert temp.health.state is ActorState.FAILED
    assert temp.health.restarts == 0
    assert exits == ["t"]
    assert trio.current_time() == 3.0


async def test_one_for_one_restarts_only_the_failed_child(
    autojump_clock: trio.testing.MockClock,
) -> None:
    log: Log = []
    children = [_child("a", log), _child("b", log, crash_at={1: 1.0}), _child("c", log)]
    await _run_for(Supervisor(children, backoff=0.25, rng=_NoJitter()), 5.0)
    starts = [(n, t) for kind, n, t in log if kind == "start"]
    assert starts == [("a", 0.0), ("b", 0.0), ("c", 0.0), ("b", 1.25)]
    assert [c.health.restarts for c in children] == [0, 1, 0]


async def test_one_for_all_stops_all_in_reverse_and_restarts_all_in_order(
    autojump_clock: trio.testing.MockClock,
) -> None:
    log: Log = []
    children = [_child("a", log), _child("b", log, crash_at={1: 1.0}), _child("c", log)]
    sup = Supervisor(children, strategy=Strategy.ONE_FOR_ALL, backoff=0.25, rng=_NoJitter())
    await _run_for(sup, 5.0)
    after = [(kind, n, t) for kind, n, t in log if t >= 1.0 and t < 5.0]
    assert after == [
        ("stop", "c", 1.0),
        ("stop", "a", 1.0),
        ("start", "a", 1.25),
        ("start", "b", 1.25),
        ("start", "c", 1.25),
    ]
    assert [c.health.restarts for c in children] == [1, 1, 1]


async def test_rest_for_one_restarts_the_child_and_those_after_it(
    autojump_clock: trio.testing.MockClock,
) -> None:
    log: Log = []
    children = [
        _child("a", log),
        _child("b", log, crash_at={1: 1.0}),
        _child("c", log),
        _child("d", log),
    ]
    sup = Supervisor(children, strategy=Strategy.REST_FOR_ONE, backoff=0.5, rng=_NoJitter())
    await _run_for(sup, 5.0)
    after = [(kind, n, t) for kind, n, t in log if 1.0 <= t < 5.0]
    assert after == [
        ("stop", "d", 1.0),
        ("stop", "c", 1.0),
        ("start", "b", 1.5),
        ("start", "c", 1.5),
        ("start", "d", 1.5),
    ]
    assert [c.health.restarts for c in children] == [0, 1, 1, 1]


async def test_one_for_all_does_not_restart_a_temporary_sibling(
    autojump_clock: trio.testing.MockClock,
) -> None:
    log: Log = []
    temp = _child("t", log, restart=Restart.TEMPORARY)
    children = [temp, _child("b", log, crash_at={1: 1.0})]
    sup = Supervisor(children, strategy=Strategy.ONE_FOR_ALL, backoff=0.5, rng=_NoJitter())
    await _run_for(sup, 3.0)
    assert [(k, n, t) for k, n, t in log if t >= 1.0 and t < 3.0] == [
        ("stop", "t", 1.0),
        ("start", "b", 1.5),
    ]
    assert temp.health.state is ActorState.STOPPED


async def test_children_start_in_order(autojump_clock: trio.testing.MockClock) -> None:
    order: list[str] = []

    def spec(name: str) -> ChildSpec:
        async def start() -> None:
            order.append(name)

        return ChildSpec(name, start, ActorHealth(name))

    for _ in range(20):  # trio shuffles its run queue; order must not depend on luck
        order.clear()
        await Supervisor([spec(n) for n in "abcdef"]).run()
        assert order == list("abcdef")


async def test_watchdog_restarts_a_child_that_owes_progress(
    autojump_clock: trio.testing.MockClock,
) -> None:
    log: Log = []
    waiting_since: list[float | None] = [None]

    def owes() -> float | None:
        return waiting_since[0]

    spec = _child("stuck", log, owes=owes)
    sup = Supervisor([spec], hang_timeout=4.0, backoff=0.5, rng=_NoJitter())

    async def work_arrives() -> None:
        await trio.sleep(3.0)
        waiting_since[0] = trio.current_time()  # work queued at 3.0, never taken

    async with trio.open_nursery() as nursery:
        nursery.start_soon(work_arrives)
        await _run_for(sup, 8.0)
    starts = [t for kind, _, t in log if kind == "start"]
    stops = [t for kind, _, t in log if kind == "stop"]
    assert stops[0] == pytest.approx(7.0)  # 3.0 + 4.0 exactly
    assert starts[:2] == pytest.approx([0.0, 7.5])
    assert spec.health.last_error_type == "Hang"


async def test_watchdog_leaves_a_progressing_child_alone(
    autojump_clock: trio.testing.MockClock,
) -> None:
    log: Log = []
    spec = _child("ok", log, owes=lambda: None)
    await _run_for(Supervisor([spec], hang_timeout=1.0), 10.0)
    assert log == [("start", "ok", 0.0), ("stop", "ok", 10.0)]


async def test_ops_restart_restarts_every_running_child_without_backoff(
    autojump_clock: trio.testing.MockClock,
) -> None:
    log: Log = []
    children = [_child("a", log), _child("b", log), _child("c", log, return_at=0.5)]
    sup = Supervisor(children, intensity=0)  # ops restarts do not count against the intensity

    async def operator() -> None:
        await trio.sleep(2.0)
        assert sup.request_restart("test")

    async with trio.open_nursery() as nursery:
        nursery.start_soon(operator)
        await _run_for(sup, 4.0)
    assert [(k, n, t) for k, n, t in log if 1.0 <= t < 4.0] == [
        ("stop", "b", 2.0),
        ("stop", "a", 2.0),
        ("start", "a", 2.0),
        ("start", "b", 2.0),
    ]
    assert [c.health.restarts for c in children] == [1, 1, 0]


async def test_request_restart_before_run_is_refused() -> None:
    assert not Supervisor([]).request_restart("too early")


async def test_on_interrupt_tells_crash_from_stop(autojump_clock: trio.testing.MockClock) -> None:
    calls: list[tuple[str, bool]] = []
    log: Log = []
    a, b = _child("a", log), _child("b", log, crash_at={1: 1.0})
    a = ChildSpec("a", a.start, a.health, on_interrupt=lambda crashed: calls.append(("a", crashed)))
    b = ChildSpec("b", b.start, b.health, on_interrupt=lambda crashed: calls.append(("b", crashed)))
    sup = Supervisor([a, b], strategy=Strategy.ONE_FOR_ALL, rng=_NoJitter())
    await _run_for(sup, 2.0)
    assert calls == [("b", True), ("a", False)]
