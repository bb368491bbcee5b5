"""A chain's system as a webhook receiver: a real HTTP server on loopback, in its own thread.

Plain HTTP, or HTTPS under a name of the test's choosing. It keeps every request (headers and raw
body) and answers with the statuses it is told, in order (then 200), or holds a request past the
sender's time limit, as real receivers do when they fail.
"""

from __future__ import annotations

import json
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import trio
import trustme


@dataclass
class Received:
    """One request as it arrived."""

    path: str
    headers: dict[str, str]
    body: bytes
    status: int
    at: float = 0.0  # time.perf_counter() when it was answered

    def json(self) -> Any:
        """The body parsed."""
        return json.loads(self.body)


@dataclass
class Receiver:
    """What the receiver was sent, and how it will answer next."""

    url: str
    answers: list[int] = field(default_factory=list)  # statuses to give, in order, then 200
    hold_s: float = 0.0  # wait this long before answering (a slow receiver)
    received: list[Received] = field(default_factory=list)
    arrived: int = 0  # requests that reached the handler, answered or not yet
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_status(self) -> int:
        """The status for the request being answered."""
        with self.lock:
            return self.answers.pop(0) if self.answers else 200

    def keep(self, item: Received) -> None:
        """Remember a request."""
        with self.lock:
            self.received.append(item)

    def ok(self) -> list[Received]:
        """The requests answered 2xx."""
        with self.lock:
            return [r for r in self.received if 200 <= r.status < 300]

    async def wait_for(self, count: int, timeout_s: float = 15.0) -> list[Received]:
        """The requests answered 2xx once there are `count` (fails after `timeout_s`)."""
        with trio.fail_after(timeout_s):
            for _ in range(100_000):
                if len(got := self.ok()) >= count:
                    return got
                await trio.sleep(0.05)
        raise AssertionError(f"fewer than {count} deliveries arrived")


@contextmanager
def receiver(tls: trustme.CA | None = None, name: str = "localhost") -> Iterator[Receiver]:
    """Serve on 127.0.0.1 (a free port) until the block ends.

    With `tls`, over HTTPS with a certificate `tls` issued for `name`, which the URL then names
    (whoever sends to it must resolve `name` to 127.0.0.1 and trust `tls`).
    """
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with state.lock:
                state.arrived += 1
            status = state.next_status()
            if state.hold_s:
                time.sleep(state.hold_s)
            at = time.perf_counter()
            state.keep(Received(self.path, dict(self.headers.items()), body, status, at))
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}/balto"
    if tls is not None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.issue_cert(name).configure_cert(context)
        # a client refusing the certificate fails the accept's handshake, which the server drops
        server.socket = context.wrap_socket(server.socket, server_side=True)
        state.url = f"https://{name}:{server.server_address[1]}/balto"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
