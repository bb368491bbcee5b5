"""Shared pieces of the loopback fakes: serving an app, the failure script, JSON responses.

`serve_app` runs an ASGI app under the real Hypercorn Trio worker on an ephemeral loopback port, so
clients are tested through real sockets and HTTP parsing. `ScriptedFake` is the queue of injected
failures (HTTP errors, hangs, malformed answers) every fake offers.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from functools import partial

import quart
import trio
from hypercorn.config import Config
from hypercorn.trio import serve
from hypercorn.typing import Framework

from balto.web.final_send import finish_responses


async def serve_app(
    nursery: trio.Nursery,
    app: Framework,
    *,
    shutdown_trigger: Callable[[], Awaitable[None]] | None = None,
    bind: str = "127.0.0.1:0",
) -> str:
    """Start serving `app` in `nursery` and return once it accepts connections.

    The server runs until `shutdown_trigger` returns (graceful: lifespan shutdown runs) or the
    nursery is cancelled (hard stop; what the pytest-trio ``nursery`` fixture does after a test).

    Args:
        nursery: Where the server task lives.
        app: The ASGI application (a Quart-Trio app or a raw ASGI callable).
        shutdown_trigger: Optional awaitable factory whose return starts a graceful shutdown.
        bind: ``HOST:PORT`` to listen on; the default is an ephemeral loopback port (tests). The
            compose test stack (``python -m tests.fakes``) binds fixed ports on all addresses.

    Returns:
        The base URL, ``http://HOST:PORT``.
    """
    config = Config()
    config.bind = [bind]
    # Startup chatter ("Running on ...") would drown test output; real errors still show.
    config.loglevel = "WARNING"
    # A fake has nothing worth waiting for on a graceful stop.
    config.graceful_timeout = 0.5
    # The same guard as the real server's: a fake answering 401/429 before reading the body
    # would otherwise leave the provider client's reused connection unanswered.
    binds: list[str] = await nursery.start(
        partial(serve, finish_responses(app), config, shutdown_trigger=shutdown_trigger)
    )
    return binds[0]


@dataclass(frozen=True, slots=True)
class Fail:
    """Answer the next request with this HTTP error."""

    status: int
    body: object
    headers: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class Hang:
    """Sleep this long before handling the next request (then answer it normally)."""

    seconds: float


@dataclass(frozen=True, slots=True)
class Malformed:
    """Answer the next request with HTTP 200 and this body verbatim (None: the fake's default)."""

    body: str | None


Fault = Fail | Hang | Malformed


class ScriptedFake:
    """The failure script shared by the fakes: faults queued here hit the next requests in order.

    Each request consumes at most one fault; with the queue empty the fake behaves like the real
    service.
    """

    def __init__(self) -> None:
        """Start with no faults queued."""
        self._faults: deque[Fault] = deque()

    def fail_next(
        self,
        status: int,
        body: object = None,
        headers: Mapping[str, str] | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next `times` requests with HTTP `status`.

        Args:
            status: The HTTP status.
            body: The JSON body; None picks the service's usual body for that status.
            headers: Extra response headers, e.g. ``{"retry-after": "2"}``.
            times: How many consecutive requests fail this way.
        """
        fault = Fail(status, body, dict(headers or {}))
        self._faults.extend([fault] * times)

    def hang_next(self, seconds: float, times: int = 1) -> None:
        """Delay the next `times` requests by `seconds` each before answering them."""
        self._faults.extend([Hang(seconds)] * times)

    def malformed_next(self, body: str | None = None, times: int = 1) -> None:
        """Answer the next `times` requests with HTTP 200 and an unusable body.

        Args:
            body: The raw body to send; None picks the fake's default malformed answer.
            times: How many consecutive requests get it.
        """
        self._faults.extend([Malformed(body)] * times)

    def clear_faults(self) -> None:
        """Forget every queued fault: the fake behaves like the real service again."""
        self._faults.clear()

    def _next_fault(self) -> Fault | None:
        """The fault for the request being handled, if one is queued."""
        return self._faults.popleft() if self._faults else None


def json_response(
    status: int, body: object, headers: Mapping[str, str] | None = None
) -> quart.Response:
    """A JSON response with the exact bytes `json.dumps` gives (non-ASCII kept)."""
    return quart.Response(
        json.dumps(body, ensure_ascii=False),
        status=status,
        headers=dict(headers or {}),
        content_type="application/json",
    )
