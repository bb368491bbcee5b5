"""A shift in one session: does anything grow while a counter stays connected for hours?

A counter page or device stays connected through a shift, customer after customer (atendimentos),
and the soak bench (`bench/soak.py`) only measures sessions that last one clip. This runs the
same server process (``bench/_bench_serve.py``: ``balto serve``, embedded PostgreSQL, front-end
workers, the loopback STT stub whose transcripts all differ) and ``--devices`` devices that each
stream one long WebM/Opus recording (the ``two_utterances`` clip looped to ``--hours`` of audio,
encoded once by ffmpeg) at ``--speed`` times real time, saying ``novo_atendimento`` every
``--customer-s`` seconds of audio. Every ``--sample-s`` seconds it reads the server's RSS after a
full collection and its Trio tasks (``/admin/runtime?gc=1``), the tree's PSS (server + workers),
file descriptors and threads, and how many segments reached the STT.

At the end: the growth of each per audio-hour of every session, fitted after the first quarter
of the run (caches filling) and over its two halves apart: a leak is a slope that stays.

    PYTHONPATH=$PWD .venv/bin/python bench/long_session.py [--devices 8] [--hours 1]
        [--speed 6] [--customer-s 60] [--sample-s 30] [--workers auto]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import imageio_ffmpeg
import psutil
import trio
from trio_websocket import ConnectionClosed, open_websocket_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from balto.device import plan_chunks  # noqa: E402
from bench._bench_serve import bench_server  # noqa: E402
from bench._capacity_readings import tree  # noqa: E402
from bench._growth import print_growth  # noqa: E402
from bench.soak import _fds_threads  # noqa: E402
from tests.conftest import ADMIN, FIXTURES, register_balcao  # noqa: E402

CLIP_S = 8.0  # two_utterances.wav
SERIES = ("rss_mb", "pss_mb", "tasks", "fds", "threads")


def _long_webm(hours: float, out: Path) -> Path:
    """The clip looped to `hours` of audio, one WebM/Opus stream (48 kHz, as browsers send)."""
    loops = max(1, round(hours * 3600 / CLIP_S))
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    source = str(FIXTURES / "two_utterances.wav")
    subprocess.run(
        [ffmpeg, "-loglevel", "error", "-y", "-stream_loop", str(loops - 1), "-i", source,
         "-ar", "48000", "-c:a", "libopus", "-b:a", "32k", "-f", "webm", str(out)],
        check=True,
    )  # fmt: skip
    return out


async def _device(
    url: str, key: str, chunks: list[tuple[float, bytes]], speed: float, customer_s: float
) -> None:
    """Stream `chunks` at `speed`× real time, the next customer every `customer_s` of audio."""
    async with open_websocket_url(url, max_message_size=1 << 24) as ws:
        await ws.send_message(json.dumps({"api_key": key}))

        async def drain() -> None:
            try:
                while True:
                    await ws.get_message()
            except ConnectionClosed:
                pass

        async with trio.open_nursery() as inner:
            inner.start_soon(drain)
            t0, next_customer = trio.current_time(), customer_s
            for end_at, chunk in chunks:
                if end_at >= next_customer:
                    await ws.send_message(json.dumps({"comando": "novo_atendimento"}))
                    next_customer += customer_s
                await trio.sleep_until(t0 + end_at / speed)
                await ws.send_message(chunk)
            await trio.sleep(2.0)
            inner.cancel_scope.cancel()


async def main(args: argparse.Namespace) -> None:
    """Stream, sample, print a row per sample and the slopes at the end."""
    with tempfile.TemporaryDirectory() as tmp:
        webm = _long_webm(args.hours, Path(tmp) / "shift.webm")
        chunks = plan_chunks(webm.read_bytes(), 0.25)
        audio_s = chunks[-1][0]
        stats = Path(tmp) / "stats.jsonl"
        stats.touch()
        async with (
            bench_server(Path(tmp), stats, args.workers) as running,
            httpx.AsyncClient(base_url=running.base_url, timeout=30) as http,
        ):
            server = psutil.Process(running.proc.pid)
            keys = [(await register_balcao(running.base_url, f"Turno {i}"))[0]
                    for i in range(args.devices)]  # fmt: skip
            ws = running.base_url.replace("http", "ws", 1) + "/ws"
            print(
                f"server pid {server.pid}; {args.devices} devices × {audio_s / 3600:.2f} h of"
                f" audio at {args.speed}×, the next customer every {args.customer_s:.0f} s"
            )
            print("| real min | audio h per session | STT requests | server RSS MiB "
                  "| tree PSS MiB | tasks | fds | threads |")  # fmt: skip
            print("|---|---|---|---|---|---|---|---|")
            rows: list[dict] = []
            started = time.monotonic()
            async with trio.open_nursery() as nursery:
                for key in keys:
                    nursery.start_soon(_device, ws, key, chunks, args.speed, args.customer_s)
                while (elapsed := time.monotonic() - started) * args.speed < audio_s:
                    await trio.sleep(args.sample_s)
                    elapsed = time.monotonic() - started
                    runtime = (await http.get("/admin/runtime", params={"gc": "1"},
                                              headers=ADMIN)).json()  # fmt: skip
                    _, _, pss, _, _ = tree(server)
                    fds, threads = _fds_threads(server)
                    row = {
                        "audio_h": min(audio_s, elapsed * args.speed) / 3600,
                        "rss_mb": runtime["rss_bytes"] / 2**20,
                        "pss_mb": pss / 2**20,
                        "tasks": runtime["tasks"],
                        "fds": fds,
                        "threads": threads,
                    }
                    rows.append(row)
                    print(
                        f"| {elapsed / 60:.1f} | {row['audio_h']:.2f} | {len(running.stt.requests)}"
                        f" | {row['rss_mb']:.1f} | {row['pss_mb']:.1f} | {row['tasks']}"
                        f" | {fds} | {threads} |",
                        flush=True,
                    )
            print("\nGrowth per audio-hour of each session, after the first quarter"
                  " (all / first half / second half):")  # fmt: skip
            print_growth(rows[len(rows) // 4 :], "audio_h", SERIES)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--devices", type=int, default=8)
    parser.add_argument("--hours", type=float, default=1.0, help="audio per session")
    parser.add_argument("--speed", type=float, default=6.0, help="times real time")
    parser.add_argument("--customer-s", type=float, default=60.0)
    parser.add_argument("--sample-s", type=float, default=30.0)
    parser.add_argument("--workers", default="auto", help="BALTO_VAD_WORKERS for the server")
    trio.run(main, parser.parse_args())
