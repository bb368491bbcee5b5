"""Receiver: device frames in, `AudioChunk`s out.

In: binary frames (audio) and text frames (JSON commands) from the `DeviceLink`.
Out: `AudioChunk` per non-empty binary frame. Ends (closing its outbox, so end-of-stream flows
downstream) when the device disconnects. Text frames it cannot use (too big, nested too deep,
not JSON, no ``comando``: `balto.text_frames`) are logged and dropped.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import trio

from actors.context import ActorContext, ActorState
from actors.ports import DeviceLink
from balto.errors import DeviceGone
from balto.messages import AudioChunk
from balto.text_frames import TextFrameError, parse_text_frame

ControlHandler = Callable[[dict[str, object]], Awaitable[None]]


async def run_receiver(
    outbox: trio.abc.SendChannel[AudioChunk],
    ctx: ActorContext,
    *,
    device: DeviceLink,
    on_control: ControlHandler | None = None,
) -> None:
    """Read the device until it leaves."""
    ctx.health.state = ActorState.RUNNING
    seq = ctx.health.messages_out  # a restarted incarnation continues the numbering
    async with outbox:
        while True:
            try:
                frame = await device.receive()
            except DeviceGone:
                ctx.log.info("device disconnected")
                return
            ctx.took()
            if isinstance(frame, bytes):
                if not frame:
                    continue
                await outbox.send(AudioChunk(seq=seq, data=frame, received_at=trio.current_time()))
                seq += 1
                ctx.gave()
                continue
            try:
                command = parse_text_frame(frame)  # size and nesting checked before parsing
            except TextFrameError as exc:
                ctx.log.warning("ignored a text frame: %s", exc)
                continue
            if not isinstance(command, dict) or not isinstance(command.get("comando"), str):
                ctx.log.warning("ignored a text frame without a 'comando'")
                continue
            if on_control is None:
                ctx.log.info("ignored command %r", command["comando"])
                continue
            await on_control(command)
