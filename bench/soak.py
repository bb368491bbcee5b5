"""Soak: wave after wave of device sessions through one server process; does anything grow?

A counter's server runs for weeks while its devices connect, stream and hang up all day. The
capacity bench measures one level for a minute; the chaos test one round of 20 sessions. This
runs the same server process as `bench/capacity.py` (``bench/_bench_serve.py``: ``balto serve``,
embedded PostgreSQL, front-end workers, the loopback STT stub) and, for ``--minutes``, waves of
``--devices`` devices that each connect with their balcão's key, stream the clip in real time
(WebM/Opus, 250 ms chunks), close and, in the next wave, connect again. Between waves, once no
session is live, it reads (after a full collection, ``/admin/runtime?gc=1``) the server's RSS and
Trio task count, the tree's PSS/RSS (server + workers, `bench._capacity_readings.tree`), open file
descriptors and threads over the tree, and the embedded database's size on disk; during the wave,
the loop lag and whether every segment reached the STT.

At the end: the slope of each against sessions served, fitted over the waves after the warm-up
(the first `WARMUP` waves fill caches, pools and the allocator's arenas), and the same slopes
over the first and the second half apart: a leak is a slope that stays; a cache filling up is
one that flattens.

    PYTHONPATH=$PWD .venv/bin/python bench/soak.py [--minutes 30] [--devices 50]
        [--clip two_utterances] [--stagger 0.1] [--workers auto]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
import psutil
import trio

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._bench_serve import bench_server  # noqa: E402
from bench._capacity_devices import run_devices  # noqa: E402
from bench._capacity_readings import tree  # noqa: E402
from bench._growth import print_growth  # noqa: E402
from bench.capacity import CHUNK_S, clip_path, completing_chunks  # noqa: E402
from tests.conftest import ADMIN, register_balcao  # noqa: E402

WARMUP = 3
LINGER_S = 1.0
IDLE_TIMEOUT_S = 30.0
SERIES = ("rss_mb", "pss_mb", "tasks", "fds", "threads", "pg_mb")


def _fds_threads(server: psutil.Process) -> tuple[int, int]:
    fds = threads = 0
    for proc in [server, *server.children(recursive=True)]:
        try:
            fds += proc.num_fds()
            threads += proc.num_threads()
        except psutil.NoSuchProcess:
            pass
    return fds, threads


def _dir_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


def _lags_since(stats: Path, offset: int) -> tuple[list[float], int]:
    """The loop lags written to the stats file after byte `offset`, and the new offset."""
    with stats.open("rb") as file:
        file.seek(offset)
        data = file.read()
    whole = data.rfind(b"\n") + 1
    lags = [lag for line in data[:whole].splitlines() for lag in json.loads(line)["lags"]]
    return lags, offset + whole


async def _idle_runtime(http: httpx.AsyncClient) -> dict:
    """`/admin/runtime` after a full collection, once no session is live."""
    with trio.fail_after(IDLE_TIMEOUT_S):
        for _ in range(int(IDLE_TIMEOUT_S / 0.2)):
            if not (await http.get("/admin/runtime", headers=ADMIN)).json()["sessions"]:
                break
            await trio.sleep(0.2)
    runtime: dict = (await http.get("/admin/runtime", params={"gc": "1"}, headers=ADMIN)).json()
    return runtime


async def main(minutes: float, devices: int, clip: str, stagger_s: float, workers: str) -> None:
    """Run waves for `minutes`, printing a row per wave and the slopes at the end."""
    per_wave = len(completing_chunks(clip))
    with tempfile.TemporaryDirectory() as tmp:
        stats = Path(tmp) / "stats.jsonl"
        stats.touch()
        async with (
            bench_server(Path(tmp), stats, workers) as running,
            httpx.AsyncClient(base_url=running.base_url, timeout=30) as http,
        ):
            server = psutil.Process(running.proc.pid)
            keys = [key for key, _ in [await register_balcao(running.base_url, f"Soak {i}")
                                       for i in range(devices)]]  # fmt: skip
            print(
                f"server pid {server.pid}; {devices} devices, clip {clip} ({per_wave} segments "
                f"each), {stagger_s} s apart; {minutes:.0f} min"
            )
            print(
                "| wave | min | sessions | STT got/expected | lag p99 (max) ms | server RSS MiB "
                "| tree PSS / RSS MiB | tasks | fds | threads | database MiB |"
            )
            print("|---|---|---|---|---|---|---|---|---|---|---|")
            rows: list[dict] = []
            started, offset, sessions = time.monotonic(), stats.stat().st_size, 0
            while time.monotonic() - started < minutes * 60:
                before = len(running.stt.requests)
                await run_devices(
                    running.base_url, keys, clip_path(clip), CHUNK_S, stagger_s, LINGER_S
                )
                sessions += devices
                runtime = await _idle_runtime(http)
                lags, offset = _lags_since(stats, offset)
                _, _, pss, rss, _ = tree(server)
                fds, threads = _fds_threads(server)
                row = {
                    "sessions": sessions,
                    "stt": len(running.stt.requests) - before,
                    "rss_mb": runtime["rss_bytes"] / 2**20,
                    "pss_mb": pss / 2**20,
                    "tree_rss_mb": rss / 2**20,
                    "tasks": runtime["tasks"],
                    "fds": fds,
                    "threads": threads,
                    "pg_mb": _dir_mb(Path(tmp) / "pg"),
                }
                rows.append(row)
                p99, worst = (1000 * np.percentile(lags, [99, 100])) if lags else (0.0, 0.0)
                print(
                    f"| {len(rows)} | {(time.monotonic() - started) / 60:.1f} | {sessions} "
                    f"| {row['stt']}/{devices * per_wave} | {p99:.1f} ({worst:.0f}) "
                    f"| {row['rss_mb']:.1f} | {row['pss_mb']:.1f} / {row['tree_rss_mb']:.1f} "
                    f"| {row['tasks']} | {fds} | {threads} | {row['pg_mb']:.1f} |",
                    flush=True,
                )
            print(f"\nGrowth per 1,000 sessions after {WARMUP} warm-up waves "
                  f"(all / first half / second half):")  # fmt: skip
            print_growth(rows[WARMUP:], "sessions", SERIES, per=1000)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--devices", type=int, default=50)
    parser.add_argument("--clip", default="two_utterances")
    parser.add_argument("--stagger", type=float, default=0.1, help="seconds between starts")
    parser.add_argument("--workers", default="auto", help="BALTO_VAD_WORKERS for the server")
    args = parser.parse_args()
    trio.run(main, args.minutes, args.devices, args.clip, args.stagger, args.workers)
