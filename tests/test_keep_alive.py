"""HTTP/1.1 keep-alive over the real Hypercorn: every request on a reused connection is answered.

A client that writes a request's headers and its body apart (httpx and browsers do) and is
answered before the body is read — 401, 404, 405 — left the connection so that its next request
was never answered (`balto.web.final_send`). Each case here sends three such requests on one
connection, with the body 0-15 ms after the headers, and wants three responses on it (the app
reads a small body before anything answers: `balto.web.app.read_small_body`); never silence.
"""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

import h11
import pytest
import trio

from tests.conftest import ADMIN, start_server

ANSWER_S = 5.0  # not a timing bound: far beyond any answer; silence past it is the bug
CASES = [  # (method, path, authorised)
    ("DELETE", "/admin/clientes", True),  # 405
    ("POST", "/nao/existe", True),  # 404
    ("POST", "/admin/clientes", False),  # 401
]


async def _status(stream: trio.SocketStream, client: h11.Connection) -> str | None:
    """The status of the next whole response, None when the server closed instead."""
    status = None
    while True:
        event = client.next_event()
        if event is h11.NEED_DATA:
            client.receive_data(await stream.receive_some(65536))
        elif isinstance(event, h11.Response):
            status = str(event.status_code)
        elif isinstance(event, h11.EndOfMessage):
            return status
        elif isinstance(event, h11.ConnectionClosed):
            return None


async def _three_requests(
    host: str, port: int, method: str, path: str, auth: bool, gap_s: float
) -> list[str]:
    """Three requests on one connection, each body written `gap_s` after its headers."""
    stream = await trio.open_tcp_stream(host, port)
    stream.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    headers = [("Host", "balto"), ("Content-Type", "application/json"), ("Content-Length", "2")]
    if auth:
        headers.append(("Authorization", ADMIN["Authorization"]))
    client = h11.Connection(h11.CLIENT)
    got: list[str] = []
    async with stream:
        for _ in range(3):
            try:
                await stream.send_all(
                    client.send(h11.Request(method=method, target=path, headers=headers))
                )
                await trio.sleep(gap_s)
                await stream.send_all(client.send(h11.Data(data=b"{}")))
                client.send(h11.EndOfMessage())
            except trio.BrokenResourceError:
                got.append("closed")
                break
            with trio.move_on_after(ANSWER_S):
                status = await _status(stream, client)
                got.append(status or "closed")
                if status is None or client.our_state is not h11.DONE:
                    break
                try:
                    client.start_next_cycle()
                except h11.LocalProtocolError:  # the server said it would close
                    break
                continue
            got.append("no answer")
            break
    return got


@pytest.mark.parametrize(("method", "path", "auth"), CASES)
async def test_a_request_answered_before_its_body_arrived_leaves_the_connection_usable(
    nursery: trio.Nursery, database_url: str, method: str, path: str, auth: bool
) -> None:
    running = await start_server(nursery, database_url)
    url = urlsplit(running.base_url)
    outcomes = [
        await _three_requests(url.hostname or "", url.port or 0, method, path, auth, gap_s)
        for gap_s in (0.0, 0.005, 0.015) * 4
    ]
    assert not [o for o in outcomes if "no answer" in o], outcomes
    # each request answered, and the connection kept for the next (the body is read first:
    # closing after an early answer left clients sending into a closing connection)
    assert all(len(o) == 3 and "closed" not in o for o in outcomes), outcomes
