"""Device sockets in tests (trio-websocket): how the server ended one."""

from __future__ import annotations

import pytest
import trio
from trio_websocket import ConnectionClosed, WebSocketConnection


async def closed_with(ws: WebSocketConnection, timeout_s: float = 10) -> tuple[int, str | None]:
    """Read `ws` until the server closes it; its close code and reason (fails past `timeout_s`)."""
    with trio.fail_after(timeout_s), pytest.raises(ConnectionClosed) as closed:
        while True:
            await ws.get_message()
    return closed.value.reason.code, closed.value.reason.reason
