"""The device side of the pipeline, as the receiver and sender actors see it."""

from __future__ import annotations

from typing import Protocol


class DeviceLink(Protocol):
    """One device's socket: frames in, text frames out.

    Both methods raise `balto.errors.DeviceGone` once the device has disconnected.
    """

    async def receive(self) -> bytes | str:
        """The next frame from the device."""
        ...

    async def send_text(self, text: str) -> None:
        """Send one text frame to the device."""
        ...
