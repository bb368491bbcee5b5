"""What a front-end worker's stages cost when each request comes alone, after a sleep.

    .venv/bin/python bench/worker_wakeups.py [--sessions 20] [--chunks 200] [--gap 0.002]
        [--polluter]

Feeds the capacity bench's stream (`bench/frontend_cpu.py`'s, 250 ms chunks) to `--sessions`
front ends and Opus decoders in turn, as a worker serves interleaved sessions, once back to back
and once sleeping `--gap` seconds before each request (a worker idle between requests, as at
real time), and prints the thread CPU per audio-second of decoding, denoise and VAD for both.
``--polluter`` runs, on the same core (both pinned to the last CPU), a process touching a few
hundred MB at random, which is what the server's Python process does to the caches between two
requests. Why it exists: the capacity bench's stage figures under load were 30-60% over this
machine's `frontend_cpu` figures for the same work; the rise came with the sleeps, not the
number of sessions (docs/BENCHMARKS.md, Capacity, 2026-12-05 fifth session). Holding the
requests that could not end a segment, so that a worker took several per wake-up, did not make
the capacity bench cheaper (measured there, and reverted).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from balto.audio.frontend import FrontEnd  # noqa: E402
from balto.audio.opus_decoder import OpusDecoder  # noqa: E402
from bench.frontend_cpu import _requests, _stream  # noqa: E402

_POLLUTER = """
import random
table = {i: [i] * 4 for i in range(2_000_000)}
keys = list(table)
while True:
    for k in random.sample(keys, 10_000):
        table[k][0] += 1
"""


def run(sessions: int, chunks: list[list[bytes]], head: bytes | None, gap: float) -> str:
    """One pass; the per-stage CPU per audio-second, as a line."""
    fronts = [(FrontEnd(voices=False), OpusDecoder(head)) for _ in range(sessions)]
    decode = denoise = vad = 0.0
    for packets in chunks:
        for front, decoder in fronts:
            if gap:
                time.sleep(gap)
            t0 = time.thread_time()
            pcm = decoder.decode(packets)
            decode += time.thread_time() - t0
            before = (front.denoise_cpu_s, front.vad_cpu_s)
            front.feed(pcm)
            denoise += front.denoise_cpu_s - before[0]
            vad += front.vad_cpu_s - before[1]
    audio = sessions * len(chunks) * 0.25
    per = 1000.0 / audio
    return f"decode {decode * per:.2f}  denoise {denoise * per:.2f}  vad {vad * per:.2f} ms/audio-s"


def main() -> None:
    """Print both passes."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--chunks", type=int, default=200)
    parser.add_argument("--gap", type=float, default=0.002)
    parser.add_argument("--polluter", action="store_true")
    args = parser.parse_args()
    head, chunks = _requests(_stream())
    chunks = chunks[: args.chunks]
    polluter = None
    if args.polluter:
        cpu = max(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        polluter = subprocess.Popen([sys.executable, "-c", _POLLUTER])
        os.sched_setaffinity(polluter.pid, {cpu})
        time.sleep(3.0)  # its table built
    try:
        print(f"back to back:        {run(args.sessions, chunks, head, 0.0)}")
        slept = run(args.sessions, chunks, head, args.gap)
        print(f"{args.gap * 1000:.0f} ms sleep before each: {slept}")
    finally:
        if polluter is not None:
            polluter.kill()


if __name__ == "__main__":
    main()
