"""Decoder latency: first chunk in → first PCM out, and each chunk in → its audio out.

Feeds `tests/fixtures/two_utterances.webm` in 250 ms chunks (as fast as the decoder takes them,
one chunk at a time) through the real decoder actor, decoding in process (PyAV; what it does
without front-end workers; with them the same decoding runs in the worker, in the VAD's request).
The ffmpeg figures this script used to give (forced vs probed input) are in docs/BENCHMARKS.md.

    .venv/bin/python bench/decoder_latency.py [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import trio

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from actors import decoder  # noqa: E402
from actors.context import ActorContext, ActorHealth, SessionInfo  # noqa: E402
from balto.device import plan_chunks  # noqa: E402
from balto.messages import AudioChunk, PcmFrame  # noqa: E402

WEBM = ROOT / "tests" / "fixtures" / "two_utterances.webm"


async def measure() -> tuple[float, list[float]]:
    """Return (first PCM latency, per-chunk latencies) in seconds."""
    chunks = plan_chunks(WEBM.read_bytes(), 0.25)
    info = SessionInfo("bench", "bench", "bench", "bench")
    ctx = ActorContext(info, ActorHealth("decoder"))
    in_tx, in_rx = trio.open_memory_channel[AudioChunk](0)
    out_tx, out_rx = trio.open_memory_channel[PcmFrame](10_000)
    latencies: list[float] = []
    out_to = 0.0  # audio time decoded so far
    async with trio.open_nursery() as nursery:
        nursery.start_soon(decoder.run_decoder, in_rx, out_tx, ctx)
        async with in_tx:
            for seq, (end_at, data) in enumerate(chunks[:-1]):
                sent = trio.current_time()
                await in_tx.send(AudioChunk(seq, data, sent))
                # wait until the audio up to this chunk's end (less one Opus frame) is out
                with trio.move_on_after(5):
                    while out_to < end_at - 0.03:
                        frame = await out_rx.receive()
                        out_to = frame.start + frame.duration
                latencies.append(trio.current_time() - sent)
            await in_tx.send(AudioChunk(len(chunks), chunks[-1][1], trio.current_time()))
        async for _ in out_rx:  # drain to the end of the stream
            pass
    return latencies[0], latencies


async def main(runs: int) -> None:
    """Print first-PCM and per-chunk latency."""
    for label in ("in process",):
        firsts: list[float] = []
        per_chunk: list[float] = []
        for _ in range(runs):
            first, chunks = await measure()
            firsts.append(first)
            per_chunk.extend(chunks)
        per_chunk.sort()
        p99 = per_chunk[int(0.99 * (len(per_chunk) - 1))]
        first_ms = statistics.median(firsts) * 1000
        chunk_ms = statistics.median(per_chunk) * 1000
        print(
            f"{label} first PCM p50 {first_ms:7.1f} ms | per chunk p50 {chunk_ms:5.1f} ms"
            f" p99 {p99 * 1000:6.1f} ms ({len(per_chunk)} chunks)"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    trio.run(main, parser.parse_args().runs)
