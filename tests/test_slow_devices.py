"""Devices that stop reading: they must not wedge their handler, the other devices, or shutdown.

Hypercorn writes to sockets inside a shielded cancel scope, so a peer that never reads can hold a
send forever. These devices make the server write (a flood of pings, each answered with a pong)
while reading slowly or not at all, until the server's socket buffers are full and its sends
block. A normal device must still be served, an admin disconnect must still work, and SIGTERM must
still stop the server within 5 s. TCP_USER_TIMEOUT is raised to 2 minutes here, so the kernel's
own timer cannot be what unwedges the sockets: only the server's send bound can.
"""

from __future__ import annotations

import itertools
import json
import signal
import socket
from collections.abc import Callable

import trio
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, Ping, Request, TextMessage

from balto.device import stream_file
from tests.conftest import FIXTURES, register_balcao
from tests.fakes.elevenlabs import FakeElevenLabs
from tests.fakes.wiring import provider_env
from tests.server_process import ServerProcess, server_process

SHUTDOWN_BUDGET_S = 5.0
FLOOD_CAP_BYTES = 64 << 20  # give up (and fail) if the server keeps reading past this


class RawDevice:
    """A WebSocket device on a bare socket with a tiny receive buffer, so it can refuse to read."""

    def __init__(self, stream: trio.SocketStream) -> None:
        self.stream = stream
        self.ws = WSConnection(ConnectionType.CLIENT)
        self.wedged = False

    @classmethod
    async def connect(cls, server: ServerProcess, api_key: str) -> RawDevice:
        sock = trio.socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        await sock.connect(("127.0.0.1", server.port))
        device = cls(trio.SocketStream(sock))
        await device.stream.send_all(device.ws.send(Request(host="127.0.0.1", target="/ws")))
        accepted = False
        while not accepted:
            device.ws.receive_data(await device.stream.receive_some(4096))
            accepted = any(isinstance(e, AcceptConnection) for e in device.ws.events())
        await device.stream.send_all(device.ws.send(TextMessage(json.dumps({"api_key": api_key}))))
        return device

    async def flood_pings(self) -> int:
        """Send pings until the server stops taking them (its pong sends are blocked)."""
        burst = self.ws.send(Ping(b"p" * 125)) * 256
        sent = 0
        while sent < FLOOD_CAP_BYTES:
            with trio.move_on_after(1.0):
                await self.stream.send_all(burst)
                sent += len(burst)
                continue
            self.wedged = True  # a whole second without the server reading: it is stuck
            return sent
        return sent

    async def read_slowly(self) -> None:
        """Read 512 bytes every 50 ms: about 10 KB/s of a much larger stream of pongs."""
        while True:
            await trio.sleep(0.05)
            if not await self.stream.receive_some(512):
                return


async def _poll(server: ServerProcess, done: Callable[[set[str]], bool], timeout: float) -> None:
    """Poll the live sessions' balcão ids until `done` holds."""
    with trio.fail_after(timeout):
        for _ in itertools.count():
            response = await server.admin("GET", "/admin/sessions")
            if done({s["balcao_id"] for s in response.json()["sessions"]}):
                return
            await trio.sleep(0.1)


async def test_non_reading_devices_wedge_nothing(nursery: trio.Nursery, database_url: str) -> None:
    stt = FakeElevenLabs()
    env = {
        "BALTO_DATABASE_URL": database_url,
        "BALTO_TCP_USER_TIMEOUT_MS": "120000",
        **await provider_env(nursery, stt=stt),
    }
    async with server_process(env) as server:
        (never_key, never_id), (slow_key, slow_id), (gone_key, gone_id), (ok_key, _) = [
            await register_balcao(server.base_url, name) for name in ("never", "slow", "gone", "ok")
        ]
        never = await RawDevice.connect(server, never_key)
        slow = await RawDevice.connect(server, slow_key)
        gone = await RawDevice.connect(server, gone_key)
        async with trio.open_nursery() as devices:
            devices.start_soon(slow.read_slowly)
            with trio.fail_after(60):
                for device in (never, gone):
                    await device.flood_pings()
                    assert device.wedged
            devices.start_soon(slow.flood_pings)
            await _poll(server, lambda live: live == {never_id, slow_id, gone_id}, 10)

            # The others are served normally while three sockets are stuck.
            run = await stream_file(server.ws_url, ok_key, FIXTURES / "two_utterances.wav")
            assert run.close_code == 1000
            assert len(stt.requests) == 2

            # An admin can still disconnect a wedged device: the close is bounded in time.
            response = await server.admin("POST", f"/admin/sessions/{gone_id}/disconnect")
            assert response.status_code == 202
            await _poll(server, lambda live: gone_id not in live, SHUTDOWN_BUDGET_S)

            # And SIGTERM still stops the server in time.
            started = trio.current_time()
            server.process.send_signal(signal.SIGTERM)
            with trio.fail_after(SHUTDOWN_BUDGET_S):
                code = await server.process.wait()
            elapsed = trio.current_time() - started
            devices.cancel_scope.cancel()
        print(f"\nshutdown with wedged devices took {elapsed:.2f} s")
        assert code == 0, server.log_text()[-3000:]
        assert "stopped reading" in server.log_text()
        for device in (never, slow, gone):
            await device.stream.aclose()
