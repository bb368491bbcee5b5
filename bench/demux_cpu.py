"""CPU the server's one thread spends on a device's WebM/Opus stream before the front-end worker.

    .venv/bin/python bench/demux_cpu.py [--repeats 15] [--digest]

The stream is the capacity bench's (as in `bench/frontend_cpu.py`: 87.6 s of 48 kHz WebM/Opus,
cached in ``var/cache/``), cut into the device's 250 ms chunks (`balto.device.plan_chunks`). Per
stage, thread CPU per audio-second over the whole stream, the best and the median of the repeats
(the machine is shared: compare two versions back to back, several times):
- demux: the chunks through `OpusDemuxer.feed` (the container read, the packets stamped);
- decoder: the decoder actor in Trio (`run_decoder` with front-end workers, so `OpusFrame`s out),
  a chunk in and a frame out at a time: the demux, its pending packets, the frames, and the Trio
  channel hops of a chunk (this bench's side of them included);
- hand-off: what the VAD actor does with a frame before its worker: `_Batch.add_opus`, and the
  request pickled and framed as `balto.audio.workers._Worker.call` does it.
``--digest`` prints a hash of everything the demuxer gives (per chunk: each packet's time,
duration, data and gap; then the OpusHead, lost time, resyncs, any error) for the stream and every
corpus clip, whole, in device chunks, in random pieces, and damaged (bytes flipped, removed,
inserted or repeated) in random pieces: two versions that demux alike print the same hash.
"""

from __future__ import annotations

import argparse
import hashlib
import pickle
import random
import statistics
import struct
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import trio

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from actors.context import ActorContext, ActorHealth, SessionInfo, SessionStats  # noqa: E402
from actors.decoder import run_decoder  # noqa: E402
from actors.vad import _Batch  # noqa: E402
from balto.audio.formats import AudioFormat  # noqa: E402
from balto.audio.opus_demux import OpusDemuxer  # noqa: E402
from balto.audio.workers import FrontEndPool  # noqa: E402
from balto.device import plan_chunks  # noqa: E402
from balto.messages import AudioChunk, OpusFrame  # noqa: E402
from bench.frontend_cpu import CORPUS, _stream  # noqa: E402
from tests.fixtures.damage import damaged  # noqa: E402

_HEADER = struct.Struct("!i")  # as balto.audio.workers frames a request


def demux_pass(chunks: list[bytes]) -> float:
    """Thread CPU seconds to demux the chunks."""
    start = time.thread_time()
    demux = OpusDemuxer(AudioFormat.WEBM)
    for chunk in chunks:
        demux.feed(chunk)
    return time.thread_time() - start


def decoder_pass(chunks: list[bytes]) -> float:
    """Thread CPU seconds for the decoder actor to take the chunks and hand on their frames."""

    async def run() -> float:
        info = SessionInfo(session_id="s" * 36, balcao_id="b", cliente_id="c", nome_balcao="b")
        ctx = ActorContext(info, ActorHealth("decoder"), SessionStats())
        in_tx, in_rx = trio.open_memory_channel[AudioChunk](1)
        out_tx, out_rx = trio.open_memory_channel[Any](1)
        workers = cast(FrontEndPool, object())  # only its presence matters: OpusFrames out
        async with trio.open_nursery() as nursery:
            nursery.start_soon(lambda: run_decoder(in_rx, out_tx, ctx, workers=workers))
            start = time.thread_time()
            async with in_tx:
                for seq, data in enumerate(chunks):
                    await in_tx.send(AudioChunk(seq=seq, data=data, received_at=0.0))
                    if seq:  # the first chunk is mostly header; then a frame per chunk
                        await out_rx.receive()
            async for _ in out_rx:
                pass
            return time.thread_time() - start

    return trio.run(run)


def hand_off_pass(frames: list[OpusFrame]) -> float:
    """Thread CPU seconds for the VAD's side of the frames: batched, the worker requests built."""
    start = time.thread_time()
    for frame in frames:
        batch = _Batch(16_000)
        batch.add_opus(frame, frame.gap_s)
        arg = (batch.runs, batch.head, batch.first, True)
        request = pickle.dumps(("feed_opus", 1, arg), protocol=pickle.HIGHEST_PROTOCOL)
        _ = (_HEADER.pack(len(request)), request)
    return time.thread_time() - start


def _frames(chunks: list[bytes]) -> list[OpusFrame]:
    """The frames the decoder hands on for the chunks, one per chunk with packets."""
    demux, frames, samples = OpusDemuxer(AudioFormat.WEBM), [], 0.0
    for chunk in chunks:
        if packets := demux.feed(chunk):
            duration = sum(p.duration for p in packets)
            data = tuple(p.data for p in packets)
            frames.append(OpusFrame(data, demux.head, samples, duration, first=not frames))
            samples += duration
    return frames


def _pieces(data: bytes, rng: random.Random) -> list[bytes]:
    out, pos = [], 0
    while pos < len(data):
        size = rng.choice([1, 2, 3, 50, 333, 700, 1500, 4000])
        out.append(data[pos : pos + size])
        pos += size
    return out


def digest() -> str:
    """A hash of what the demuxer gives for the clips and their variants (see the docstring)."""
    clips = {"stream": _stream()} | {p.stem: p.read_bytes() for p in sorted(CORPUS.glob("*.webm"))}
    cases: list[list[bytes]] = []
    for name, data in clips.items():
        rng = random.Random(name)
        cases += [[data], [c for _, c in plan_chunks(data, 0.25)], _pieces(data, rng)]
        cases += [_pieces(damaged(data, rng), rng) for _ in range(10)]
    sha = hashlib.sha256()
    for chunks in cases:
        demux, error = OpusDemuxer(AudioFormat.WEBM), ""
        try:
            for chunk in chunks:
                packets = [(p.time, p.duration, p.data, p.gap_s) for p in demux.feed(chunk)]
                sha.update(pickle.dumps(packets, protocol=5))
        except Exception as exc:  # an error is an outcome to compare too
            error = f"{type(exc).__name__}: {exc}"
        sha.update(pickle.dumps((demux.head, demux.lost_s, demux.resyncs, error), protocol=5))
    return f"{len(cases)} cases, digest {sha.hexdigest()}"


def main() -> None:
    """Print the per-stage table (and the digest)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--digest", action="store_true")
    args = parser.parse_args()
    chunks = [chunk for _, chunk in plan_chunks(_stream(), 0.25)]
    frames = _frames(chunks)
    audio_s = sum(f.duration for f in frames)
    stages: dict[str, Callable[[], float]] = {
        "demux": lambda: demux_pass(chunks),
        "decoder": lambda: decoder_pass(chunks),
        "hand-off": lambda: hand_off_pass(frames),
    }
    print(f"{audio_s:.1f} s of audio, {len(chunks)} chunks, {args.repeats} repeats")
    for stage, run in stages.items():
        run()  # warm up
        per = [1000.0 * run() / audio_s for _ in range(args.repeats)]
        print(
            f"{stage:8} best {min(per):6.3f}  median {statistics.median(per):6.3f} ms per audio-s"
        )
    if args.digest:
        print(digest())


if __name__ == "__main__":
    main()
