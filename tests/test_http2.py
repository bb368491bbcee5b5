"""HTTP/2 on the plain port: off, and never a way to stop the server.

Hypercorn answered HTTP/2 with prior knowledge on the plain port, and after ``Upgrade: h2c``. A
405 (or 401, 404) answered before the request's body arrived left the body for a stream
Hypercorn had dropped; its ``KeyError`` escaped the connection and ended the whole server.
Now HTTP/2 is off on the plain port and a connection's failure ends that connection alone
(`balto.web.connection_guard`).
"""

from __future__ import annotations

from urllib.parse import urlsplit

import h2.config
import h2.connection
import h2.events
import httpx
import trio

from tests.conftest import ADMIN, start_server


async def _late_body_request(host: str, port: int) -> list[str]:
    """One HTTP/2 request with its body 20 ms after its headers; what the connection saw."""
    stream = await trio.open_tcp_stream(host, port)
    client = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    client.initiate_connection()
    seen: list[str] = []
    async with stream:
        await stream.send_all(client.data_to_send())
        sid = client.get_next_available_stream_id()
        client.send_headers(
            sid,
            [(":method", "DELETE"), (":path", "/admin/clientes"), (":scheme", "http"),
             (":authority", "balto"), ("authorization", ADMIN["Authorization"]),
             ("content-type", "application/json"), ("content-length", "2")],
        )  # fmt: skip
        await stream.send_all(client.data_to_send())
        await trio.sleep(0.02)
        client.send_data(sid, b"{}", end_stream=True)
        with trio.move_on_after(5):
            try:
                await stream.send_all(client.data_to_send())
                while data := await stream.receive_some(65536):
                    for event in client.receive_data(data):
                        if isinstance(event, h2.events.ResponseReceived):
                            seen.append(dict(event.headers)[b":status"].decode())
                    await stream.send_all(client.data_to_send())
            except trio.BrokenResourceError:
                pass
    return seen


async def test_http2_is_off_and_a_late_body_does_not_stop_the_server(
    nursery: trio.Nursery, database_url: str
) -> None:
    running = await start_server(nursery, database_url)
    url = urlsplit(running.base_url)
    for _ in range(3):
        seen = await _late_body_request(url.hostname or "", url.port or 0)
        assert seen == [], seen  # no HTTP/2 answer at all
    async with httpx.AsyncClient(base_url=running.base_url) as http:
        upgrade = {"Upgrade": "h2c", "HTTP2-Settings": "AAMAAABkAARAAAAAAAIAAAAA"}
        upgrade["Connection"] = "Upgrade, HTTP2-Settings"
        assert (await http.get("/healthz", headers=upgrade)).status_code == 200  # not 101
        assert (await http.get("/healthz")).status_code == 200
        assert (await http.get("/admin/clientes", headers=ADMIN)).status_code == 200
