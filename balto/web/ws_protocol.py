"""Failing a device connection at the WebSocket protocol level with a close frame.

Hypercorn 0.18 (with wsproto 1.3) mishandles two protocol failures of the peer:
- a frame wsproto cannot parse — a text frame that is not valid UTF-8 (RFC 6455 §8.1: 1007),
  a reserved opcode, an unmasked client frame (1002) — comes out of wsproto as a
  ``CloseConnection`` event while the connection is still OPEN; Hypercorn takes it for the
  peer's close, answers nothing and drops the TCP connection, so the device sees 1006 and the
  application only "the device left" (1006);
- a frame over ``websocket_max_message_size`` gets a close frame 1009 without a reason, and the
  application again only hears 1006 once the device answers.

`BaltoWSStream` replaces Hypercorn's `WSStream` in its HTTP/1.1 and HTTP/2 protocols: on either
failure it sends a close frame with the code and a Portuguese reason (`balto.close_codes`),
stops handing frames to the application, and tells the application at once with
``{"type": "websocket.disconnect", "code": ..., "reason": ...}``, so the session ends and its
row records why. Everything else is Hypercorn's own code path. Hypercorn offers no hook for its
stream class, so `install` swaps the name its protocol modules look up; it refuses (and logs) on
a Hypercorn version other than the one this was written against, leaving Hypercorn's behaviour.

A third: Hypercorn's Trio server shuts the socket down (``send_eof``) outside the lock its writes
take. A close frame still being written when the connection ends (the application's 4001 for a
binary first frame, and the device's next frame already failing the connection) then raised
``BusyResourceError``, logged as a failed handshake, and the device got no close frame at all
(about one in five such devices, found by `bench/fuzz_device.py`'s raw frames). `install` also
makes that shutdown wait, at most `CLOSE_WAIT_S`, for the write in progress.
"""

from __future__ import annotations

import logging
from importlib import metadata
from typing import Any

import hypercorn.protocol.h2
import hypercorn.protocol.h11
import hypercorn.trio.tcp_server
import trio
from hypercorn.protocol.events import StreamClosed
from hypercorn.protocol.ws_stream import FrameTooLargeError, WSStream
from wsproto.connection import ConnectionState
from wsproto.events import CloseConnection, Message, Ping

from balto.close_codes import CloseCode

log = logging.getLogger(__name__)

HYPERCORN_VERSION = "0.18.0"  # the release whose WSStream._handle_events this mirrors
CLOSE_WAIT_S = 2.0  # as long as a close frame gets (`balto.web.device_socket`)

_hypercorn_close = hypercorn.trio.tcp_server.TCPServer._close


def close_reason(code: int) -> str:
    """The Portuguese reason sent with a protocol-level close `code`."""
    try:
        return CloseCode(code).reason
    except ValueError:
        return CloseCode.PROTOCOL_ERROR.reason


class BaltoWSStream(WSStream):
    """Hypercorn's WebSocket stream, failing bad frames with a close frame (module docstring)."""

    failed_with: int | None = None

    async def handle(self, event: Any) -> None:
        """Hypercorn's handling, except that a failed connection's end is not reported twice."""
        if isinstance(event, StreamClosed) and self.failed_with is not None:
            self.closed = True  # the application heard the code when the connection failed
            return
        await super().handle(event)

    async def _handle_events(self) -> None:
        # Hypercorn 0.18's loop, plus the two failures (module docstring).
        for event in self.connection.events():
            if self.failed_with is not None:
                if isinstance(event, CloseConnection):  # the device's answer, or a dead stream
                    await self.send(StreamClosed(stream_id=self.stream_id))
                continue  # nothing more reaches the application
            if isinstance(event, Message):
                try:
                    self.buffer.extend(event)
                except FrameTooLargeError:
                    await self._fail(CloseCode.TOO_BIG)
                    continue
                if event.message_finished:
                    assert self.app_put is not None  # set when the handshake was accepted
                    await self.app_put(self.buffer.to_message())
                    self.buffer.clear()
            elif isinstance(event, Ping):
                await self._send_wsproto_event(event.response())
            elif isinstance(event, CloseConnection):
                if self.connection.state is ConnectionState.OPEN:
                    # wsproto's ParseFailed: the device broke the protocol, it did not close
                    await self._fail(event.code)
                    continue
                if self.connection.state is ConnectionState.REMOTE_CLOSING:
                    await self._send_wsproto_event(event.response())
                await self.send(StreamClosed(stream_id=self.stream_id))

    async def _fail(self, code: int) -> None:
        reason = close_reason(code)
        self.failed_with = code
        self.buffer.clear()
        log.warning("device connection failed with %d: %s", code, reason)
        await self._send_wsproto_event(CloseConnection(code=code, reason=reason))
        if self.app_put is not None:
            await self.app_put({"type": "websocket.disconnect", "code": code, "reason": reason})


async def _close_after_writes(server: Any) -> None:
    """Hypercorn's `TCPServer._close`, once the write in progress is done (module docstring).

    Bounded and shielded: a device that stops reading cannot hold the close (or the server's
    shutdown) for longer than `CLOSE_WAIT_S`, and a closing socket still wakes a stuck write.
    """
    lock: trio.Lock = server.send_lock
    held = False
    if lock.statistics().owner is not trio.lowlevel.current_task():  # else: inside a write
        with trio.CancelScope(shield=True, deadline=trio.current_time() + CLOSE_WAIT_S):
            await lock.acquire()
            held = True
    try:
        await _hypercorn_close(server)
    finally:
        if held:
            lock.release()


def hypercorn_is_pinned(otherwise: str) -> bool:
    """Whether the installed Hypercorn is the one Balto's patches mirror; else log `otherwise`."""
    version = metadata.version("hypercorn")
    if version == HYPERCORN_VERSION:
        return True
    log.error("hypercorn %s is not %s: %s", version, HYPERCORN_VERSION, otherwise)
    return False


def install() -> bool:
    """Make Hypercorn use `BaltoWSStream` and `_close_after_writes`; True if installed."""
    if not hypercorn_is_pinned("bad device frames end without a close frame"):
        return False
    hypercorn.protocol.h11.WSStream = BaltoWSStream  # type: ignore[attr-defined]  # no hook for it
    hypercorn.protocol.h2.WSStream = BaltoWSStream  # type: ignore[attr-defined]  # no hook for it
    hypercorn.trio.tcp_server.TCPServer._close = _close_after_writes  # type: ignore[method-assign,assignment]
    return True
