"""The garbage collector's pauses in a front-end worker carrying many sessions.

    .venv/bin/python bench/worker_gc.py [--sessions 100] [--chunks 200] [--as-worker]

Runs what a worker does (`balto.audio.worker_loop.answer`: each request unpickled, its Opus
decoded, denoise + VAD, the reply pickled) for `--sessions` front ends fed the capacity stream
(`bench/frontend_cpu.py`'s) interleaved chunk by chunk, as a worker sees them, and times every
collection (wall time: the worker answers nobody meanwhile). Without `--as-worker` the collector
has CPython's defaults; with it, what `run_worker` sets (imports frozen, thresholds
`_GC_THRESHOLDS`). Prints per generation: collections, median and worst pause, total.
"""

from __future__ import annotations

import argparse
import gc
import pickle
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from balto.audio.frontend import FrontEnd  # noqa: E402
from balto.audio.opus_decoder import OpusDecoder  # noqa: E402
from balto.audio.worker_loop import _GC_THRESHOLDS, Request, answer  # noqa: E402
from bench.frontend_cpu import _requests, _stream  # noqa: E402


def main() -> None:
    """Feed the sessions, then print the collections' pauses."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=100)
    parser.add_argument("--chunks", type=int, default=200, help="250 ms chunks per session")
    parser.add_argument("--as-worker", action="store_true", help="the worker's collector settings")
    args = parser.parse_args()
    head, chunks = _requests(_stream())
    fronts: dict[int, FrontEnd] = {}
    decoders: dict[int, OpusDecoder] = {}
    for key in range(args.sessions):
        answer(Request(0, "open", key, ((16_000, 0.5, 15.0), {}), 0.0, False), fronts, decoders)
    if args.as_worker:
        gc.collect()
        gc.freeze()
        gc.set_threshold(*_GC_THRESHOLDS)
    pauses: dict[int, list[float]] = defaultdict(list)
    started = [0.0]

    def timer(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            pauses[info["generation"]].append(1000 * (time.perf_counter() - started[0]))

    gc.callbacks.append(timer)
    cpu, seq = time.process_time(), 0
    for index, packets in enumerate(chunks[: args.chunks]):
        for key in range(args.sessions):
            arg = ([(0, tuple(packets))], head, index == 0, False, 0.25)
            request = pickle.loads(pickle.dumps((seq, "feed_opus", key, arg), protocol=5))
            pickle.dumps(answer(Request(*request, 0.0, False), fronts, decoders), protocol=5)
            seq += 1
    gc.callbacks.remove(timer)
    audio_s = args.sessions * min(args.chunks, len(chunks)) * 0.25
    settings = f"as the worker sets it {_GC_THRESHOLDS}" if args.as_worker else "CPython's defaults"
    print(f"{args.sessions} sessions, {audio_s:.0f} s of their audio, collector: {settings}; "
          f"{time.process_time() - cpu:.1f} s CPU")  # fmt: skip
    for generation in sorted(pauses):
        ms = pauses[generation]
        median, worst, total = statistics.median(ms), max(ms), sum(ms)
        print(f"  gen {generation}: {len(ms)} collections, pause median {median:.1f} / max "
              f"{worst:.1f} ms, {total:.0f} ms in all")  # fmt: skip


if __name__ == "__main__":
    main()
