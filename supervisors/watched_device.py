"""The receiver's side of the device socket, watched like a link.

The receiver has no inbox link: its input is the socket. This wrapper gives it the same
treatment as the other actors — the frame it is handling is kept so a crashed or stopped
incarnation's successor gets it again, the watchdog can see it stuck on one, and planned faults
apply as it takes a frame.
"""

from __future__ import annotations

import trio

from actors.context import ActorHealth
from actors.ports import DeviceLink
from supervisors.faults import SessionFaults, apply_fault
from supervisors.links import MAX_ATTEMPTS


class WatchedDevice:
    """A `DeviceLink` that tracks the receiver's in-flight frame and applies its faults."""

    def __init__(
        self, inner: DeviceLink, health: ActorHealth, faults: SessionFaults | None
    ) -> None:
        """Wrap the real socket."""
        self._inner = inner
        self._health = health
        self._faults = faults
        self._in_flight: bytes | str | None = None
        self._attempts = 0
        self._taken_at = 0.0
        self._redeliver: bytes | str | None = None

    async def receive(self) -> bytes | str:
        """The next frame (a frame interrupted mid-handling comes again first)."""
        if self._in_flight is not None:
            self._health.latency.observe(trio.current_time() - self._taken_at)
            self._in_flight, self._attempts = None, 0
        if self._redeliver is not None:
            frame, self._redeliver = self._redeliver, None
            await trio.lowlevel.checkpoint()
        else:
            frame = await self._inner.receive()
        self._in_flight = frame
        self._taken_at = trio.current_time()
        if self._faults is not None:
            await apply_fault(self._faults.check("receiver"), "receiver")
        return frame

    async def send_text(self, text: str) -> None:
        """Send one text frame to the device."""
        await self._inner.send_text(text)

    def interrupted(self, crashed: bool) -> None:
        """The receiver stopped mid-frame: hand the frame to the next incarnation once more."""
        frame, self._in_flight = self._in_flight, None
        if frame is None:
            return
        self._attempts += crashed
        if self._attempts < MAX_ATTEMPTS:
            self._redeliver = frame

    def owes_progress_since(self) -> float | None:
        """Since when the receiver has held a frame without asking for the next one."""
        return self._taken_at if self._in_flight is not None else None
