"""The capacity bench's device process: N simulated counters streaming one clip in real time.

Reads a JSON job on stdin (``url``, ``keys``, ``clip``, ``chunk_s``, ``stagger_s``, ``linger_s``,
``first``: this process's index offset for the stagger), streams the clip from every key like
`balto.device.stream_file` (handshake, then each chunk when its audio would have been recorded)
and prints one JSON line: per device, the ``time.monotonic()`` at which each chunk was handed to
the socket (system-wide clock, comparable with the bench's), and this process's CPU seconds.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import trio
from trio_websocket import ConnectionClosed, open_websocket_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from balto.device import plan_chunks  # noqa: E402


async def _device(
    job: dict, i: int, chunks: list[tuple[float, bytes]], sent: list[list[float]]
) -> None:
    await trio.sleep((job["first"] + i) * job["stagger_s"])
    times = sent[i]
    async with open_websocket_url(job["url"], max_message_size=1 << 20) as ws:
        await ws.send_message(json.dumps({"api_key": job["keys"][i]}))
        t0 = trio.current_time()

        async def read() -> None:
            try:
                while True:
                    await ws.get_message()
            except ConnectionClosed:
                pass

        async with trio.open_nursery() as nursery:
            nursery.start_soon(read)
            try:
                for end_at, chunk in chunks:
                    await trio.sleep_until(t0 + end_at)
                    await ws.send_message(chunk)
                    times.append(time.monotonic())
                await trio.sleep(job["linger_s"])
            except ConnectionClosed:
                pass
            nursery.cancel_scope.cancel()


async def _main(job: dict) -> None:
    chunks = plan_chunks(await trio.Path(job["clip"]).read_bytes(), job["chunk_s"])
    sent: list[list[float]] = [[] for _ in job["keys"]]
    async with trio.open_nursery() as nursery:
        for i in range(len(job["keys"])):
            nursery.start_soon(_device, job, i, chunks, sent)
    print(json.dumps({"sent": sent, "cpu_s": time.process_time()}), flush=True)


if __name__ == "__main__":
    trio.run(_main, json.loads(sys.stdin.read()))
