"""Links: the bounded channels between actors, with an overflow policy and their own gauges.

A `Link` is a Trio memory channel of envelopes plus what admins and the supervisor need:
- an overflow policy: `BLOCK` pushes back on the sender; `DROP_OLDEST` never blocks the sender
  and drops the oldest queued item instead (counted, and handed to `on_drop`);
- gauges: depth, the age of the oldest queued item, drops;
- the receiving actor's in-flight items: when an incarnation crashes, hangs or is stopped while
  holding some, the next incarnation gets them again first, in order (at-least-once). An item
  that was in flight through two crashes is a poison message: it goes to `on_poison` instead of
  looping. An actor may take a batch (`LinkReceiver.receive_nowait` after `receive`: everything
  queued, one worker request for all of it); the whole batch is in flight until it asks for the
  next item. Items handed again after a crash come one per `receive`, never batched, so a poison
  item is isolated on its own and does not take its batch-mates down with it (after a stop, which
  counts no failure, they batch again);
- processing latency (from handing an item over to the actor asking for the next one) and fault
  injection at the point where the actor takes an item.

Actors only see `trio.abc.SendChannel` / `ReceiveChannel`; each incarnation gets fresh ends.
"""

from __future__ import annotations

import contextlib
import enum
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

import trio

from actors.context import ActorHealth
from supervisors.faults import SessionFaults, apply_fault

T = TypeVar("T")

MAX_ATTEMPTS = 2  # deliveries of one item before it is declared poison


class Overflow(enum.StrEnum):
    """What a full link does with one more item."""

    BLOCK = "block"
    DROP_OLDEST = "drop_oldest"


@dataclass(slots=True, eq=False)
class _Envelope(Generic[T]):
    item: T
    enqueued_at: float
    attempts: int = 0


class Link(Generic[T]):
    """One bounded, policed channel between two actors."""

    def __init__(
        self,
        name: str,
        capacity: int,
        overflow: Overflow,
        *,
        on_drop: Callable[[T, str], None] | None = None,
        on_poison: Callable[[T, str], None] | None = None,
    ) -> None:
        """Create the channel; nothing flows until ends are handed out."""
        self.name = name
        self._capacity = capacity
        self.overflow = overflow
        self.on_drop = on_drop
        self.on_poison = on_poison
        self._tx, self._rx = trio.open_memory_channel[_Envelope[T]](capacity)
        self._queued: deque[_Envelope[T]] = deque()
        self._in_flight: list[_Envelope[T]] = []
        self._taken_at = 0.0
        self._redeliver: deque[_Envelope[T]] = deque()
        self._dropped = 0
        self.poisoned = 0
        self.consumer: ActorHealth | None = None
        self.faults: SessionFaults | None = None

    # InboxGauge
    @property
    def capacity(self) -> int:
        """Items held before the policy applies."""
        return self._capacity

    @property
    def policy(self) -> str:
        """The overflow policy's name."""
        return self.overflow.value

    @property
    def depth(self) -> int:
        """Items waiting (buffered, blocked in a send, or due for redelivery)."""
        return len(self._queued) + len(self._redeliver)

    @property
    def dropped(self) -> int:
        """Items dropped by `DROP_OLDEST`."""
        return self._dropped

    def oldest_age(self, now: float) -> float | None:
        """How long the oldest waiting item has waited."""
        queue = self._redeliver or self._queued
        oldest = queue[0] if queue else None
        return None if oldest is None else now - oldest.enqueued_at

    def owes_progress_since(self) -> float | None:
        """Since when the consumer has had work and not taken any (None when it keeps up)."""
        return self._taken_at if self._in_flight or self.depth else None

    def sender(self) -> LinkSender[T]:
        """A fresh send end for one producer incarnation."""
        return LinkSender(self, self._tx.clone())

    def receiver(self) -> LinkReceiver[T]:
        """A fresh receive end for one consumer incarnation."""
        return LinkReceiver(self, self._rx.clone())

    def close_sending(self) -> None:
        """The producer is done for good: once its clones close, the consumer sees end-of-stream."""
        self._tx.close()

    def close_receiving(self) -> None:
        """The consumer is done for good: producers get `BrokenResourceError`."""
        self._rx.close()

    def interrupted(self, crashed: bool) -> None:
        """The consumer's incarnation ended abnormally: keep its in-flight items for the next."""
        envelopes, self._in_flight = self._in_flight, []
        again: list[_Envelope[T]] = []
        for envelope in envelopes:
            if crashed:
                envelope.attempts += 1
            if envelope.attempts >= MAX_ATTEMPTS:
                self.poisoned += 1
                if self.on_poison is not None:
                    reason = f"crashed {self.name} consumer {envelope.attempts}x"
                    self.on_poison(envelope.item, reason)
                continue
            again.append(envelope)
        # Before anything still due again: the in-flight items were taken before those.
        self._redeliver.extendleft(reversed(again))

    def drain(self) -> list[T]:
        """Take every item still held (in flight, due again, queued): the session is ending."""
        items = [envelope.item for envelope in (*self._in_flight, *self._redeliver)]
        self._in_flight, self._redeliver = [], deque()
        while True:
            try:
                envelope = self._rx.receive_nowait()
            except (trio.WouldBlock, trio.EndOfChannel, trio.ClosedResourceError):
                break
            self._forget(envelope)
            items.append(envelope.item)
        return items

    def _forget(self, envelope: _Envelope[T]) -> None:
        with contextlib.suppress(ValueError):  # already taken by a receiver
            self._queued.remove(envelope)

    def _drop_oldest(self) -> bool:
        try:
            old = self._rx.receive_nowait()
        except (trio.WouldBlock, trio.EndOfChannel, trio.ClosedResourceError):
            return False
        self._forget(old)
        self._dropped += 1
        if self.on_drop is not None:
            self.on_drop(old.item, f"{self.name} full ({self._capacity}): oldest dropped")
        return True

    def _took(self, envelope: _Envelope[T]) -> None:
        if not self._in_flight:  # a batch is timed from its first item
            self._taken_at = trio.current_time()
        self._in_flight.append(envelope)

    def _idle(self) -> None:
        """The consumer asked for the next item: the previous ones (one, or a batch) are done."""
        if self._in_flight:
            if self.consumer is not None:
                self.consumer.latency.observe(trio.current_time() - self._taken_at)
            self._in_flight = []
        self._taken_at = trio.current_time()


class LinkSender(trio.abc.SendChannel[T]):
    """A producer's end: applies the link's overflow policy."""

    def __init__(self, link: Link[T], tx: trio.MemorySendChannel[_Envelope[T]]) -> None:
        """Wrap one clone of the link's send end."""
        self._link = link
        self._tx = tx

    async def send(self, value: T) -> None:
        """Queue `value`; block or drop the oldest when full, as the link's policy says."""
        link = self._link
        envelope = _Envelope(value, trio.current_time())
        if link.overflow is Overflow.DROP_OLDEST:
            await trio.lowlevel.checkpoint()
            while True:
                try:
                    self._tx.send_nowait(envelope)
                except trio.WouldBlock:
                    if not link._drop_oldest():
                        await self._tx.send(envelope)  # nothing droppable: wait (capacity 0)
                        break
                    continue
                break
            link._queued.append(envelope)
            return
        link._queued.append(envelope)
        try:
            await self._tx.send(envelope)
        except BaseException:
            link._forget(envelope)  # a cancelled send delivered nothing
            raise

    def send_nowait(self, value: T) -> None:
        """Queue `value` without waiting, as `send` would; `trio.WouldBlock` when it would wait.

        Why: a producer that hands an item on as soon as it has it saves the scheduler pass a
        second task would cost (the decoder's chunks). Raised, nothing was queued or dropped.
        """
        link = self._link
        envelope = _Envelope(value, trio.current_time())
        if link.overflow is Overflow.DROP_OLDEST:
            while True:
                try:
                    self._tx.send_nowait(envelope)
                except trio.WouldBlock:
                    if not link._drop_oldest():
                        raise  # nothing droppable (capacity 0): `send` would wait
                    continue
                break
            link._queued.append(envelope)
            return
        self._tx.send_nowait(envelope)
        link._queued.append(envelope)

    async def aclose(self) -> None:
        """Close this end only."""
        await self._tx.aclose()

    def close(self) -> None:
        """Close this end only, synchronously."""
        self._tx.close()


class LinkReceiver(trio.abc.ReceiveChannel[T]):
    """A consumer incarnation's end: redelivery first, then the channel; faults apply here."""

    def __init__(self, link: Link[T], rx: trio.MemoryReceiveChannel[_Envelope[T]]) -> None:
        """Wrap one clone of the link's receive end."""
        self._link = link
        self._rx = rx

    async def receive(self) -> T:
        """The next item; raises `trio.EndOfChannel` once every producer is done."""
        link = self._link
        link._idle()
        if link._redeliver:
            envelope = link._redeliver.popleft()
            await trio.lowlevel.checkpoint()
        else:
            envelope = await self._rx.receive()
            link._forget(envelope)
        link._took(envelope)
        if link.faults is not None and link.consumer is not None:
            await apply_fault(link.faults.check(link.consumer.name), link.consumer.name)
        return envelope.item

    def receive_nowait(self) -> T:
        """One more item for the batch taken since the last `receive`, without waiting.

        Raises `trio.WouldBlock` when nothing is queued, when the batch holds or the next item is
        one handed again after a crash (those come one per `receive`), and while a fault is
        planned for the consumer (faults apply where `receive` takes an item, one by one);
        `trio.EndOfChannel` once every producer is done and nothing is queued.
        """
        link = self._link
        if not link._in_flight or any(envelope.attempts for envelope in link._in_flight):
            raise trio.WouldBlock
        consumer = link.consumer
        if link.faults is not None and consumer is not None and link.faults.armed(consumer.name):
            raise trio.WouldBlock
        if link._redeliver:
            if link._redeliver[0].attempts:
                raise trio.WouldBlock
            envelope = link._redeliver.popleft()
        else:
            envelope = self._rx.receive_nowait()
            link._forget(envelope)
        link._took(envelope)
        if link.faults is not None and consumer is not None:
            link.faults.check(consumer.name)  # counted like a `receive`; nothing is armed
        return envelope.item

    async def aclose(self) -> None:
        """Close this end only."""
        await self._rx.aclose()

    def close(self) -> None:
        """Close this end only, synchronously."""
        self._rx.close()
