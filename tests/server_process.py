"""`balto serve` as a separate process, for tests that measure the server itself (RSS, tasks,
children) or stop it with a signal."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import trio

from tests.conftest import ADMIN

LOG_TAIL = 64 * 1024  # keep the end of the server's log for failure messages


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServerProcess:
    """A running server process: its URL, its log, admin helpers."""

    process: trio.Process
    port: int
    log: bytearray = field(default_factory=bytearray)

    @property
    def base_url(self) -> str:
        """The HTTP root."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        """The device socket."""
        return f"ws://127.0.0.1:{self.port}/ws"

    def log_text(self) -> str:
        """The end of the server's log."""
        return self.log.decode(errors="replace")

    async def admin(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One admin request with the secret."""
        async with httpx.AsyncClient(base_url=self.base_url, timeout=10) as http:
            return await http.request(method, path, headers=ADMIN, **kwargs)

    async def runtime(self, *, gc: bool = False) -> dict[str, Any]:
        """The server's `/admin/runtime` facts."""
        response = await self.admin("GET", "/admin/runtime", params={"gc": "1"} if gc else None)
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body

    async def stop(self, timeout_s: float = 30.0) -> int:
        """SIGTERM, as an operator stops it, and wait for the exit: a server on an embedded
        database stops that PostgreSQL on its way out (the SIGKILL on leaving would orphan it).
        """
        self.process.send_signal(signal.SIGTERM)
        with trio.fail_after(timeout_s):
            return await self.process.wait()

    def children(self) -> list[str]:
        """Names of the server's child processes (read from /proc, not from the server)."""
        names = []
        for entry in Path("/proc").glob("[0-9]*"):
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            name, _, rest = stat.rpartition(") ")
            if rest and int(rest.split()[1]) == self.process.pid:
                names.append(name.partition("(")[2])
        return names


async def _until_ready(server: ServerProcess) -> None:
    """Poll ``/readyz`` (the log may be quieted below INFO) until the server answers 200."""
    with trio.fail_after(60):
        while True:
            assert server.process.returncode is None, server.log_text()
            try:
                async with httpx.AsyncClient(timeout=2) as http:
                    if (await http.get(server.base_url + "/readyz")).status_code == 200:
                        return
            except httpx.TransportError:
                pass
            await trio.sleep(0.1)


@asynccontextmanager
async def server_process(
    env: Mapping[str, str], *, port: int | None = None
) -> AsyncIterator[ServerProcess]:
    """Start ``python -m balto serve`` with `env` on `port` (else a free one); kill it on the way
    out."""
    port = port or free_port()
    full_env = {**os.environ, "ADMIN_SECRET": "test-admin-secret", "PORT": str(port), **env}
    for name in ("ELEVENLABS_API_KEY", "XAI_API_KEY", "OPENAI_API_KEY", "ASSEMBLYAI_API_KEY"):
        if name not in env:
            full_env.pop(name, None)
    process = await trio.lowlevel.open_process(
        [sys.executable, "-m", "balto", "serve"], env=full_env, stderr=subprocess.PIPE
    )
    assert process.stderr is not None
    stderr = process.stderr
    server = ServerProcess(process, port)

    def keep(chunk: bytes) -> None:
        server.log.extend(chunk)
        del server.log[:-LOG_TAIL]

    try:

        async def drain() -> None:  # a full pipe would block the server's logging
            while chunk := await stderr.receive_some(65536):
                keep(chunk)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(drain)
            await _until_ready(server)
            yield server
            nursery.cancel_scope.cancel()
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGKILL)
            with trio.CancelScope(shield=True):
                await process.wait()
