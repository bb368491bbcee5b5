"""Cluster costs per instance: database writes per segment, heartbeat and control-plane traffic.

Two ``balto serve`` processes (real subprocesses) on one embedded PostgreSQL, the loopback
provider fakes (``python -m tests.fakes``: Scribe and an OpenAI-compatible chat), N WebSocket
devices streaming ``tests/fixtures/two_utterances.wav`` in real time, split over the two
instances. Measured from PostgreSQL's own counters (``pg_stat_database``,
``pg_stat_user_tables``) over a steady window, so the figures are the database's view:

- commits and row writes per second and per stored segment (everything a session writes);
- the same with no device connected (heartbeats, snapshot refreshes, reaping);
- ``/admin/sessions`` latency on one instance with N sessions across both;
- a remote restart's latency (instance B → NOTIFY → instance A → acknowledgement → 202).

    .venv/bin/python bench/cluster_load.py [--devices 20] [--seconds 30]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import AsyncExitStack
from pathlib import Path

import httpx
import pgserver
import psycopg
import trio
from trio_websocket import ConnectionClosed, open_websocket_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import ADMIN, register_balcao  # noqa: E402
from tests.server_process import server_process  # noqa: E402

WAV = (ROOT / "tests" / "fixtures" / "two_utterances.wav").read_bytes()
HEADER, PCM = WAV[:44], WAV[44:]
CHUNK = 8000  # 0.25 s of 16 kHz s16le mono, every 0.25 s
_COUNTERS = (
    "SELECT xact_commit, tup_inserted, tup_updated, tup_deleted FROM pg_stat_database"
    " WHERE datname = current_database()"
)


def _counters(url: str) -> tuple[int, ...]:
    with psycopg.connect(url) as conn:
        conn.execute("SELECT pg_stat_clear_snapshot()")
        row = conn.execute(_COUNTERS).fetchone()
        assert row is not None
        return tuple(int(v) for v in row)


def _snapshot_bytes(url: str) -> float:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT avg(pg_column_size(snapshot)) FROM live_sessions").fetchone()
        return float(row[0]) if row and row[0] is not None else 0.0


def _segments(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM segments").fetchone()
        return int(row[0]) if row else 0


async def _device(url: str, key: str, stop: trio.Event) -> None:
    try:
        async with open_websocket_url(url) as ws:
            await ws.send_message(json.dumps({"api_key": key}))
            await ws.send_message(HEADER)
            offset = 0
            while not stop.is_set():
                await ws.send_message(PCM[offset : offset + CHUNK])
                offset = (offset + CHUNK) % len(PCM)
                await trio.sleep(CHUNK / 32_000)
    except ConnectionClosed:
        pass


async def _window(url: str, seconds: float) -> tuple[list[float], int]:
    before = await trio.to_thread.run_sync(_counters, url)
    segs = await trio.to_thread.run_sync(_segments, url)
    await trio.sleep(seconds)
    after = await trio.to_thread.run_sync(_counters, url)
    segs2 = await trio.to_thread.run_sync(_segments, url)
    return [(b - a) / seconds for a, b in zip(before, after, strict=True)], segs2 - segs


def _row(label: str, rates: list[float], per: float | None) -> str:
    cells = [f"{r:.1f}" for r in rates]
    extra = [f"{r / per:.1f}" for r in rates] if per else ["-"] * 4
    return f"| {label} | " + " | ".join(cells) + " | " + " | ".join(extra) + " |"


async def measure(url: str, devices: int, seconds: float) -> None:
    """Run the measurement against the database at `url` and print a Markdown table."""
    env = {
        "BALTO_DATABASE_URL": url,
        "BALTO_LOG_LEVEL": "WARNING",
        "BALTO_DENOISE": "0",
        "BALTO_VAD_WORKERS": "0",
        "ELEVENLABS_API_KEY": "fake-elevenlabs-key",
        "ELEVENLABS_BASE_URL": "http://127.0.0.1:9301",
        "OPENAI_API_KEY": "fake-openai-key",
        "OPENAI_BASE_URL": "http://127.0.0.1:9302/v1",
        "BALTO_LLM": "openai,catalog",
    }
    async with AsyncExitStack() as stack:
        a = await stack.enter_async_context(server_process({**env, "BALTO_INSTANCE_ID": "a"}))
        b = await stack.enter_async_context(server_process({**env, "BALTO_INSTANCE_ID": "b"}))
        await trio.sleep(3)
        idle, _ = await _window(url, seconds / 2)
        keys = [await register_balcao(a.base_url, f"B{i}") for i in range(devices)]
        stop = trio.Event()
        async with trio.open_nursery() as nursery:
            for i, (key, _) in enumerate(keys):
                nursery.start_soon(_device, (a if i % 2 else b).ws_url, key, stop)
            await trio.sleep(5)  # past the connection ramp
            busy, segments = await _window(url, seconds)
            listing, restart = [], []
            async with httpx.AsyncClient(headers=ADMIN, timeout=10) as http:
                for i in range(20):
                    t = time.perf_counter()
                    r = await http.get(a.base_url + "/admin/sessions")
                    listing.append(time.perf_counter() - t)
                    assert len(r.json()["sessions"]) == devices
                    balcao = keys[1 + 2 * (i % (devices // 2))][1]  # held by a
                    t = time.perf_counter()
                    r = await http.post(f"{b.base_url}/admin/sessions/{balcao}/restart")
                    restart.append(time.perf_counter() - t)
                    assert r.status_code in (202, 409), r.text
                    await trio.sleep(0.3)
            stop.set()
        size = await trio.to_thread.run_sync(_snapshot_bytes, url)
        for server in (a, b):
            server.process.send_signal(signal.SIGTERM)
            await server.process.wait()
    print(f"{devices} devices over 2 instances, {seconds:.0f} s windows, {segments} segments")
    print(
        "| window | commits/s | inserts/s | updates/s | deletes/s | per segment: commits |"
        " inserts | updates | deletes |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    print(_row("idle (2 instances, no device)", idle, None))
    print(_row(f"{devices} devices streaming", busy, segments / seconds if segments else None))

    def ms(values: list[float]) -> str:
        q = statistics.quantiles(values, n=20)
        return f"p50 {statistics.median(values) * 1000:.1f} ms, p95 {q[18] * 1000:.1f} ms"

    print(f"GET /admin/sessions ({devices} sessions, 2 instances): {ms(listing)}")
    print(f"remote restart (b → a, acknowledged): {ms(restart)}")
    print(f"live_sessions.snapshot: {size:.0f} bytes stored per session (jsonb, compressed)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--devices", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.mkdtemp())
    with tempfile.TemporaryDirectory() as tmp:
        pg = pgserver.get_server(Path(tmp) / "pg", cleanup_mode="delete")
        fakes = subprocess.Popen(
            [sys.executable, "-m", "tests.fakes", "--stt-port", "9301", "--llm-port", "9302"],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            trio.run(measure, pg.get_uri(), args.devices, args.seconds)
        finally:
            fakes.terminate()
            fakes.wait()
            pg.cleanup()
