"""Links handing a batch (`LinkReceiver.receive_nowait`): in flight together, redelivered alone."""

from __future__ import annotations

import pytest
import trio
import trio.testing

from actors.context import ActorHealth
from actors.ports import Batching
from supervisors.faults import Fault, FaultKind, FaultPlan, InjectedFault
from supervisors.links import Link, LinkReceiver, Overflow


async def _queued(link: Link[str], *items: str) -> None:
    tx = link.sender()
    for item in items:
        await tx.send(item)


def _batch(rx: LinkReceiver[str], first: str) -> list[str]:
    batch = [first]
    while True:
        try:
            batch.append(rx.receive_nowait())
        except trio.WouldBlock:
            return batch


async def test_a_batch_takes_what_is_queued_and_is_done_at_the_next_receive() -> None:
    link: Link[str] = Link("pcm", 8, Overflow.BLOCK)
    rx = link.receiver()
    assert isinstance(rx, Batching)
    with pytest.raises(trio.WouldBlock):
        rx.receive_nowait()  # no batch before a `receive`
    await _queued(link, "a", "b", "c")
    assert _batch(rx, await rx.receive()) == ["a", "b", "c"]
    assert link.depth == 0
    assert link.owes_progress_since() is not None  # the batch is in flight
    await _queued(link, "d")
    assert await rx.receive() == "d"  # a, b, c done
    link.interrupted(crashed=True)
    assert link.drain() == ["d"]


async def test_end_of_stream_reaches_a_batch() -> None:
    link: Link[str] = Link("pcm", 8, Overflow.BLOCK)
    tx = link.sender()
    for item in ("a", "b"):
        await tx.send(item)
    await tx.aclose()
    link.close_sending()
    rx = link.receiver()
    assert await rx.receive() == "a"
    assert rx.receive_nowait() == "b"
    with pytest.raises(trio.EndOfChannel):
        rx.receive_nowait()


async def test_a_crashed_batch_is_handed_again_in_order_one_item_per_receive() -> None:
    link: Link[str] = Link("pcm", 8, Overflow.BLOCK)
    await _queued(link, "a", "b", "c")
    rx = link.receiver()
    assert _batch(rx, await rx.receive()) == ["a", "b", "c"]
    await _queued(link, "d")
    link.interrupted(crashed=True)  # the worker died with a, b, c in one request
    assert link.depth == 4
    rx = link.receiver()
    got = []
    for _ in range(3):
        got.append(await rx.receive())
        with pytest.raises(trio.WouldBlock):
            rx.receive_nowait()  # a redelivered item comes alone
    assert got == ["a", "b", "c"]
    assert _batch(rx, await rx.receive()) == ["d"]


async def test_a_poison_item_in_a_batch_does_not_take_its_batch_mates_with_it() -> None:
    poisoned: list[str] = []
    link: Link[str] = Link("pcm", 8, Overflow.BLOCK, on_poison=lambda i, _: poisoned.append(i))
    await _queued(link, "a", "bad", "c")
    rx = link.receiver()
    assert _batch(rx, await rx.receive()) == ["a", "bad", "c"]
    link.interrupted(crashed=True)
    rx = link.receiver()
    assert await rx.receive() == "a"
    assert await rx.receive() == "bad"
    link.interrupted(crashed=True)  # crashed on "bad" alone: its second crash
    rx = link.receiver()
    assert await rx.receive() == "c"
    assert poisoned == ["bad"]
    assert link.poisoned == 1


async def test_a_stopped_batch_is_handed_again_without_counting_a_failure() -> None:
    link: Link[str] = Link("pcm", 8, Overflow.BLOCK)
    await _queued(link, "a", "b")
    for _ in range(3):
        rx = link.receiver()
        assert await rx.receive() == "a"
        assert rx.receive_nowait() == "b"  # never crashed: batched again
        link.interrupted(crashed=False)
    assert link.poisoned == 0
    assert link.drain() == ["a", "b"]


async def test_a_batch_is_timed_from_its_first_item(
    autojump_clock: trio.testing.MockClock,
) -> None:
    link: Link[str] = Link("pcm", 8, Overflow.BLOCK)
    link.consumer = ActorHealth("vad")
    rx = link.receiver()
    await _queued(link, "a")
    assert await rx.receive() == "a"
    await trio.sleep(1.0)
    await _queued(link, "b")
    assert rx.receive_nowait() == "b"
    assert link.owes_progress_since() == pytest.approx(0.0)
    await trio.sleep(0.5)
    await _queued(link, "c")
    assert await rx.receive() == "c"
    assert link.consumer.latency.total == pytest.approx(1.5)


async def test_no_batch_while_a_fault_is_planned_for_the_consumer() -> None:
    plan = FaultPlan()
    link: Link[str] = Link("pcm", 8, Overflow.BLOCK)
    link.consumer = ActorHealth("vad")
    link.faults = plan.for_session("b1")
    await _queued(link, "a", "b", "c", "d")
    rx = link.receiver()
    assert _batch(rx, await rx.receive()) == ["a", "b", "c", "d"]
    assert link.faults.counts["vad"] == 4  # batched items are counted like received ones
    plan.add(Fault("vad", FaultKind.CRASH, after=5))
    await _queued(link, "e", "f")
    assert await rx.receive() == "e"
    with pytest.raises(trio.WouldBlock):
        rx.receive_nowait()
    with pytest.raises(InjectedFault):
        await rx.receive()  # the sixth item: the fault fires where `receive` takes it
