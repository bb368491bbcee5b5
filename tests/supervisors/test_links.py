"""Links: overflow policies, gauges, redelivery, poison, drain and faults, on the autojump clock."""

from __future__ import annotations

import pytest
import trio
import trio.testing

from actors.context import ActorHealth
from balto.errors import Category
from supervisors.faults import Fault, FaultKind, FaultPlan, InjectedFault
from supervisors.links import Link, Overflow


async def test_block_pushes_back_and_ages_the_oldest(
    autojump_clock: trio.testing.MockClock,
) -> None:
    link: Link[int] = Link("x", 2, Overflow.BLOCK)
    tx, rx = link.sender(), link.receiver()
    sent: list[int] = []

    async def produce() -> None:
        for i in range(4):
            await tx.send(i)
            sent.append(i)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(produce)
        await trio.sleep(5.0)
        assert sent == [0, 1]  # the third send is blocked
        assert link.depth == 3  # two buffered, one blocked in send
        assert link.oldest_age(trio.current_time()) == pytest.approx(5.0)
        assert await rx.receive() == 0
        assert await rx.receive() == 1
        assert await rx.receive() == 2
        assert await rx.receive() == 3
    assert link.dropped == 0
    assert link.depth == 0
    assert link.oldest_age(trio.current_time()) is None


async def test_drop_oldest_never_blocks_and_reports_drops(
    autojump_clock: trio.testing.MockClock,
) -> None:
    dropped: list[tuple[int, str]] = []
    link: Link[int] = Link(
        "segments", 3, Overflow.DROP_OLDEST, on_drop=lambda i, r: dropped.append((i, r))
    )
    tx, rx = link.sender(), link.receiver()
    for i in range(10):
        await tx.send(i)
    assert link.depth == 3
    assert link.dropped == 7
    assert [i for i, _ in dropped] == [0, 1, 2, 3, 4, 5, 6]
    assert "segments full (3)" in dropped[0][1]
    assert [await rx.receive() for _ in range(3)] == [7, 8, 9]


async def test_send_nowait_queues_as_send_does_and_changes_nothing_when_it_would_wait() -> None:
    link: Link[int] = Link("x", 2, Overflow.BLOCK)
    tx, rx = link.sender(), link.receiver()
    tx.send_nowait(0)
    tx.send_nowait(1)
    with pytest.raises(trio.WouldBlock):
        tx.send_nowait(2)
    assert link.depth == 2  # the refused item is not counted as waiting
    assert [await rx.receive(), await rx.receive()] == [0, 1]
    assert link.depth == 0
    tx.send_nowait(3)  # room again
    assert await rx.receive() == 3


async def test_send_nowait_on_a_waiting_receiver_hands_the_item_over() -> None:
    link: Link[str] = Link("x", 0, Overflow.BLOCK)
    tx, rx = link.sender(), link.receiver()
    got: list[str] = []

    async def consume() -> None:
        got.append(await rx.receive())

    async with trio.open_nursery() as nursery:
        nursery.start_soon(consume)
        await trio.testing.wait_all_tasks_blocked()
        tx.send_nowait("a")  # capacity 0, but a receiver waits: no waiting here
    assert got == ["a"]
    assert link.depth == 0
    with pytest.raises(trio.WouldBlock):
        tx.send_nowait("b")  # nobody waits now


async def test_send_nowait_drops_the_oldest_like_send() -> None:
    dropped: list[int] = []
    link: Link[int] = Link(
        "segments", 2, Overflow.DROP_OLDEST, on_drop=lambda i, r: dropped.append(i)
    )
    tx, rx = link.sender(), link.receiver()
    for i in range(5):
        tx.send_nowait(i)
    assert dropped == [0, 1, 2]
    assert link.dropped == 3 and link.depth == 2
    assert [await rx.receive(), await rx.receive()] == [3, 4]


async def test_end_of_stream_flows_when_every_sender_is_closed() -> None:
    link: Link[str] = Link("x", 4, Overflow.BLOCK)
    tx = link.sender()
    await tx.send("a")
    await tx.aclose()
    link.close_sending()
    rx = link.receiver()
    assert [item async for item in rx] == ["a"]


async def test_in_flight_item_is_redelivered_once_then_poisoned() -> None:
    poisoned: list[tuple[str, str]] = []
    link: Link[str] = Link(
        "segments", 4, Overflow.BLOCK, on_poison=lambda i, r: poisoned.append((i, r))
    )
    tx = link.sender()
    await tx.send("s1")
    await tx.send("s2")
    first = link.receiver()
    assert await first.receive() == "s1"
    link.interrupted(crashed=True)  # the incarnation crashed holding s1
    second = link.receiver()
    assert await second.receive() == "s1"  # again, first
    assert link.depth == 1
    link.interrupted(crashed=True)  # crashed on s1 twice: poison
    third = link.receiver()
    assert await third.receive() == "s2"
    assert poisoned == [("s1", "crashed segments consumer 2x")]
    assert link.poisoned == 1


async def test_a_stop_redelivers_without_counting_a_failure() -> None:
    link: Link[str] = Link("x", 4, Overflow.BLOCK)
    await link.sender().send("a")
    for _ in range(5):
        rx = link.receiver()
        assert await rx.receive() == "a"
        link.interrupted(crashed=False)
    assert link.poisoned == 0


async def test_processing_latency_is_observed(autojump_clock: trio.testing.MockClock) -> None:
    link: Link[int] = Link("x", 4, Overflow.BLOCK)
    link.consumer = ActorHealth("c")
    tx, rx = link.sender(), link.receiver()
    for i in range(3):
        await tx.send(i)
    for _ in range(3):
        await rx.receive()
        await trio.sleep(0.3)
    await tx.aclose()
    link.close_sending()
    with pytest.raises(trio.EndOfChannel):
        await rx.receive()
    assert link.consumer.latency.count == 3
    assert link.consumer.latency.total == pytest.approx(0.9)
    assert link.consumer.latency.quantile(0.5) == pytest.approx(0.3)


async def test_owes_progress_while_holding_an_item(autojump_clock: trio.testing.MockClock) -> None:
    link: Link[int] = Link("x", 4, Overflow.BLOCK)
    tx, rx = link.sender(), link.receiver()
    assert link.owes_progress_since() is None
    await tx.send(1)
    await trio.sleep(1.0)
    await rx.receive()
    assert link.owes_progress_since() == pytest.approx(1.0)


async def test_drain_returns_everything_held() -> None:
    link: Link[int] = Link("x", 8, Overflow.BLOCK)
    tx = link.sender()
    for i in range(4):
        await tx.send(i)
    rx = link.receiver()
    await rx.receive()  # 0 in flight
    assert link.drain() == [0, 1, 2, 3]
    assert link.depth == 0


async def test_faults_fire_after_n_messages_deterministically(
    autojump_clock: trio.testing.MockClock,
) -> None:
    plan = FaultPlan()
    plan.add(Fault("decoder", FaultKind.CRASH, after=2))
    plan.add(Fault("decoder", FaultKind.SLOW, after=4, times=1, delay_s=2.5))
    link: Link[int] = Link("chunks", 8, Overflow.BLOCK)
    link.consumer = ActorHealth("decoder")
    link.faults = plan.for_session("b1")
    tx = link.sender()
    for i in range(6):
        await tx.send(i)
    rx = link.receiver()
    assert [await rx.receive(), await rx.receive()] == [0, 1]
    with pytest.raises(InjectedFault, match="injected crash in decoder"):
        await rx.receive()
    link.interrupted(crashed=True)
    rx = link.receiver()
    assert await rx.receive() == 2  # redelivered; the crash fired once (times=1)
    started = trio.current_time()
    assert await rx.receive() == 3  # message 5: slowed
    assert trio.current_time() - started == pytest.approx(2.5)


async def test_faults_can_target_one_balcao() -> None:
    plan = FaultPlan()
    plan.add(Fault("vad", FaultKind.CRASH, after=0, balcao_id="b2"))
    assert plan.for_session("b1").check("vad") is None
    assert plan.for_session("b2").check("vad") is not None


def test_fault_validation() -> None:
    with pytest.raises(ValueError, match="target"):
        Fault("nope", FaultKind.CRASH)
    with pytest.raises(ValueError, match="provider targets"):
        Fault("stt", FaultKind.CRASH)
    with pytest.raises(ValueError, match="actor targets"):
        Fault("vad", FaultKind.FAIL)
    with pytest.raises(ValueError, match="negative"):
        Fault("vad", FaultKind.SLOW, after=-1)
    parsed = Fault.from_json(
        {"target": "stt:elevenlabs", "kind": "fail", "category": "rate_limited"}
    )
    assert parsed.category is Category.RATE_LIMITED
    with pytest.raises(ValueError, match="missing field 'kind'"):
        Fault.from_json({"target": "vad"})
    with pytest.raises(ValueError, match="after must be a number"):
        Fault.from_json({"target": "vad", "kind": "crash", "after": "3"})
