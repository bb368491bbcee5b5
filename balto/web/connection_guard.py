"""One HTTP connection's failure ends that connection, not the server.

Hypercorn 0.18 runs each connection as a task of the listeners' nursery, and lets whatever its
protocol code raises out of it: the nursery, Hypercorn's `serve`, and Balto's root nursery with
it, so every session ended and the process exited. One request was enough: over HTTP/2 (prior
knowledge on the plain port, or ``Upgrade: h2c``), a body that arrives after the response —
any 401, 404 or 405 answered before the body was read — reaches a stream Hypercorn has already
dropped, and its ``KeyError`` (``hypercorn/protocol/h2.py``, ``DataReceived``) ended the server.

`install` does two things:
- it wraps `TCPServer.run`: an exception from inside a connection is logged with its traceback
  and the connection is closed (Hypercorn's own ``finally`` does that); the server goes on.
  Cancellation and ``KeyboardInterrupt`` pass as before;
- it turns HTTP/2 off on the plain port: no ``Upgrade: h2c``, no prior knowledge (the request
  line ``PRI * HTTP/2.0`` is read as HTTP/1.1 and answered 404). Nothing of Balto's needs it
  (browsers use HTTP/2 only over TLS, which the proxy ends; device WebSockets are HTTP/1.1), it
  is where the bug above lives, and a proxy that passes ``Upgrade: h2c`` on would otherwise
  open a tunnel past itself to the instance (h2c smuggling; README, *Deployment*).
"""

from __future__ import annotations

import logging
from typing import Any

import h11
import hypercorn.protocol.h11
import hypercorn.trio.tcp_server

from balto.web.ws_protocol import hypercorn_is_pinned

log = logging.getLogger(__name__)

_hypercorn_run = hypercorn.trio.tcp_server.TCPServer.run


async def _run_guarded(server: Any) -> None:
    """Hypercorn's `TCPServer.run`, its failure confined to its connection (module docstring)."""
    try:
        await _hypercorn_run(server)
    except Exception:
        log.exception("an HTTP connection failed inside the server (Hypercorn); it was closed")


async def _http1_only(protocol: Any, event: h11.Request) -> None:
    """In place of Hypercorn's `H11Protocol._check_protocol`, which switches to HTTP/2."""


def install() -> bool:
    """Guard each connection's task and keep connections HTTP/1.1; True if installed."""
    if not hypercorn_is_pinned("a failing connection can stop the server"):
        return False
    hypercorn.trio.tcp_server.TCPServer.run = _run_guarded  # type: ignore[method-assign,assignment]
    hypercorn.protocol.h11.H11Protocol._check_protocol = _http1_only  # type: ignore[method-assign,assignment]
    return True
