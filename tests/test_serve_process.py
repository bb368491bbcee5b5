"""``balto serve`` as a real process: it starts, serves a device, and stops cleanly on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys

import pytest
import trio
from trio_websocket import ConnectionClosed, open_websocket_url

from tests.conftest import register_balcao


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
async def test_signal_closes_devices_with_1001_and_exits_zero(
    database_url: str, signum: signal.Signals
) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "BALTO_DATABASE_URL": database_url,
        "ADMIN_SECRET": "test-admin-secret",
        "PORT": str(port),
    }
    env.pop("ELEVENLABS_API_KEY", None)
    process = await trio.lowlevel.open_process(
        [sys.executable, "-m", "balto", "serve"], env=env, stderr=subprocess.PIPE
    )
    assert process.stderr is not None
    log = bytearray()
    try:
        with trio.fail_after(30):
            while b"Balto listening on" not in log:
                chunk = await process.stderr.receive_some(4096)
                assert chunk, log.decode()
                log.extend(chunk)
        stderr = process.stderr

        async def drain() -> None:  # a full pipe would block the server's logging
            while chunk := await stderr.receive_some(4096):
                log.extend(chunk)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(drain)
            api_key, _ = await register_balcao(f"http://127.0.0.1:{port}")
            async with open_websocket_url(f"ws://127.0.0.1:{port}/ws") as ws:
                await ws.send_message(json.dumps({"api_key": api_key}))
                await trio.sleep(0.3)
                process.send_signal(signum)
                with trio.fail_after(5), pytest.raises(ConnectionClosed) as closed:
                    await ws.get_message()
            assert closed.value.reason.code == 1001
            with trio.fail_after(10):
                code = await process.wait()
        assert code == 0, log.decode()
        assert b"Balto stopped" in log
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
