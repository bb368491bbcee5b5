"""The benches' server under test: the STT stub, then ``bench/_capacity_server.py`` (what
``python -m balto serve`` runs, plus the loop-lag probe writing `stats`) on a free port.

Used by `bench/capacity.py` (one level after another) and `bench/soak.py` (waves of sessions
for an hour), so both measure the same process started the same way.
"""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import httpx
import trio

from bench._stt_stub import SttStub
from tests.server_process import free_port

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class BenchServer:
    """A running server process, its URL and the STT stub it calls."""

    proc: trio.Process
    base_url: str
    stt: SttStub


async def _wait_ready(base_url: str, proc: trio.Process) -> None:
    with trio.fail_after(60):
        while True:
            assert proc.returncode is None, "server exited"
            try:
                async with httpx.AsyncClient(timeout=2) as http:
                    if (await http.get(base_url + "/readyz")).status_code == 200:
                        return
            except httpx.TransportError:
                pass
            await trio.sleep(0.2)


@asynccontextmanager
async def bench_server(data_dir: Path, stats: Path, workers: str) -> AsyncIterator[BenchServer]:
    """Start the stub and the server (data and embedded PostgreSQL under `data_dir`), wait
    until ``/readyz`` says 200; terminate both on exit."""
    async with trio.open_nursery() as nursery:
        stt = SttStub()
        stt_port = await nursery.start(stt.serve)
        port = free_port()
        env = {
            **os.environ,
            "ADMIN_SECRET": "test-admin-secret",
            "BALTO_DATA_DIR": str(data_dir),
            "BALTO_LOG_LEVEL": "WARNING",
            "PORT": str(port),
            "BENCH_STATS": str(stats),
            "BALTO_VAD_WORKERS": workers,  # 0: the front end runs in the server process
            "ELEVENLABS_API_KEY": "bench-key",
            "ELEVENLABS_BASE_URL": f"http://127.0.0.1:{stt_port}",
            "BALTO_STT": "elevenlabs",
        }
        for name in ("XAI_API_KEY", "OPENAI_API_KEY", "ASSEMBLYAI_API_KEY"):
            env.pop(name, None)
        proc = await nursery.start(
            partial(
                trio.run_process,
                [sys.executable, str(ROOT / "bench" / "_capacity_server.py")],
                env=env,
                check=False,
            )
        )
        base_url = f"http://127.0.0.1:{port}"
        try:
            await _wait_ready(base_url, proc)
            yield BenchServer(proc, base_url, stt)
        finally:
            proc.terminate()
            with trio.move_on_after(10):
                await proc.wait()
            nursery.cancel_scope.cancel()
