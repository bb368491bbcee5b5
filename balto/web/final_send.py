"""A response's last write runs to its end even when the request's tasks are cancelled meanwhile.

Quart-Trio 0.12 runs each HTTP request as two tasks in one nursery: one makes and sends the
response, the other reads the request body and cancels the nursery when it hears
``http.disconnect``. Hypercorn 0.18 puts that ``http.disconnect`` from inside the application's
last ``send``, while it winds the HTTP/1.1 connection up for the next request; so the cancel lands
in Hypercorn's own code, half way through. When the client had not sent all of its body yet —
it wrote the headers and the body apart, as httpx and browsers do, and was answered before the
body was read: a 401, 404, 405, 413 — Hypercorn was about to close the connection. Cancelled at
its first checkpoint, it neither closed nor reused it: the client's next request on that
connection got no answer, ever, and the server kept the socket and its task (no idle timeout
runs in that state). Found by `bench/fuzz_device.py`: 23 of 227 such requests unanswered. The
same cancel cut short, after every response, the start of Hypercorn's keep-alive timer, so idle
connections were never closed; now they are, after Hypercorn's 5 s (``deploy/nginx`` keeps its
upstream connections for less).

`finish_responses` wraps the application so that the final body message is sent under a
shield, bounded by `FINAL_SEND_S` (a client that stops reading cannot hold it longer).
Cancellation anywhere else — a client gone mid-stream, shutdown — is left as it was.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import trio

FINAL_SEND_S = 10.0  # as long as the last write and the connection's wind-up may take

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


def finish_responses(app: Any) -> Any:
    """`app`, whose HTTP responses' last ``send`` is not cut short by a cancel (module doc)."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return

        async def send_last_whole(message: Message) -> None:
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                with trio.move_on_after(FINAL_SEND_S, shield=True):
                    await send(message)
                return
            await send(message)

        await app(scope, receive, send_last_whole)

    return wrapped
