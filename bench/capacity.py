"""Capacity: N simulated devices through the real server process, N rising until it falls behind.

Three kinds of process, so the server's figures are the server's alone:
- the server: ``bench/_capacity_server.py`` = ``python -m balto serve`` (Hypercorn, embedded
  PostgreSQL, Opus decoding + denoise + VAD in the front-end workers) plus a 10 ms loop-lag
  probe and the per-stage CPU totals, written to a stats file once a second;
- the devices: ``bench/_capacity_devices.py``, N WebSocket clients streaming a corpus clip
  (WebM/Opus, 250 ms chunks) in real time, started `STAGGER_S` apart, recording when each chunk
  was sent (``time.monotonic()``, a system-wide clock);
- this process: a raw-HTTP ElevenLabs stand-in (`bench/_stt_stub.py`, which stamps each request
  when its first bytes arrive), registration, sampling and the table.

Per N it prints: the server's CPU per audio-second (the Python process plus its children: the
front-end workers unless ``--workers 0``, where Opus decoding, denoise and VAD run; the decode,
denoise and VAD stages from `balto.audio.opus_decoder.OPUS_CPU` and
`balto.audio.frontend.STAGE_CPU`, wherever they ran), the sessions one core carries at that cost,
event-loop lag p50/p99, memory per added session (the server's tree at the peak, above the idle
server: RSS, and PSS, which splits shared pages between the processes mapping them), the
processes in the server's tree idle and at the peak, and end-of-pause → STT-request latency
p50/p99. That latency runs from when the device wrote the chunk holding the audio that completes
the pause (on loopback, its arrival at the server) to the kernel's receive stamp of the STT
request's first byte at the stub (on loopback, when the server wrote it); beside it the same by
the processes' own clock reads (the device's after its send returned, the stub's when it got a
core to read), as measured before 2026-12-06. Which chunk completes the pause comes from
running the same demuxer, decoder and front end over the clip offline, chunk by chunk. The
device's view (from the reference utterance end + the pause, so including up to one chunk of
waiting for the audio and the VAD's end error) is printed too, and the latency per segment of the
clip: the first one's cut falls in the connection ramp.
A level keeps up when every utterance reached the STT and the p99 stays under 1 s.

The lag is also given over the stretch where every device is streaming (after the last one
connected, before the first one finished), without the connection ramp: each new session costs a
WebSocket handshake and database rows.

    .venv/bin/python bench/capacity.py [--levels 10,50,100,130] [--clip receita_shop_10db]
        [--stagger 0.02] [--workers auto] [--enroll] [--server-slice-us US]

``--enroll``: every balcão under one cliente with an enrolled attendant, so every segment is
embedded and scored (``bench/_capacity_voices.py``): what speaker identification costs at load.
``--server-slice-us``: the server's threads (not its workers) get that EEVDF slice
(``bench/_sched_slice.py``), an experiment on the STT latency's tail.
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
import numpy as np
import psutil
import trio

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from balto.audio.formats import AudioFormat  # noqa: E402
from balto.audio.frontend import FrontEnd  # noqa: E402
from balto.audio.opus_decoder import OpusDecoder  # noqa: E402
from balto.audio.opus_demux import OpusDemuxer  # noqa: E402
from balto.device import plan_chunks  # noqa: E402
from bench._bench_serve import bench_server  # noqa: E402
from bench._capacity_devices import run_devices  # noqa: E402
from bench._capacity_readings import PAUSE_S, latencies, read_stats, stored_owners, tree  # noqa: E402
from bench._capacity_voices import enrolled_cliente, register_under  # noqa: E402
from bench._sched_slice import set_process_slice, slice_ns  # noqa: E402
from bench._stt_stub import SttStub  # noqa: E402
from tests.conftest import ADMIN, register_balcao  # noqa: E402
from tests.fixtures.make_audio import encode_webm  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures"
CORPUS = FIXTURES / "corpus"
CHUNK_S = 0.25  # what browsers and the device simulator send
STAGGER_S = 0.02
LINGER_S = 1.5
SAMPLE_S = 4.0
CORES = psutil.cpu_count() or 1


_MIXES: dict[str, tuple[Path, dict]] = {}  # "a+b+c" → (its WebM, its meta), built by `build_mix`


def clip_path(clip: str) -> Path:
    if clip in _MIXES:
        return _MIXES[clip][0]
    return FIXTURES / f"{clip}.webm" if clip == "two_utterances" else CORPUS / f"{clip}.webm"


def _clip_meta(clip: str) -> dict:
    if clip in _MIXES:
        return _MIXES[clip][1]
    if clip == "two_utterances":
        return json.loads((FIXTURES / "two_utterances.json").read_text())
    return json.loads((CORPUS / "corpus.json").read_text())["clips"][clip]


def _decode(path: Path) -> bytes:
    return subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(path),
         "-ac", "1", "-ar", "16000", "-f", "s16le", "pipe:1"],
        check=True, capture_output=True,
    ).stdout  # fmt: skip


def build_mix(clip: str, into: Path) -> None:
    """``a+b+c``: the corpus clips one after another as one WebM/Opus stream (utterances shifted),
    so a device can stream longer than the connection ramp lasts."""
    pcm, utterances, offset = b"", [], 0.0
    for part in clip.split("+"):
        audio = _decode(clip_path(part))
        utterances += [[a + offset, b + offset] for a, b in _clip_meta(part)["utterances"]]
        pcm += audio
        offset += len(audio) / 2 / 16_000
    path = into / "mix.webm"
    encode_webm(pcm, 16_000, to=str(path))
    _MIXES[clip] = (path, {"duration": offset, "utterances": utterances})


def completing_chunks(clip: str) -> list[tuple[int, float]]:
    """(index of the chunk whose audio completes the pause, segment length) per cut segment.

    Replays the live decode: the decoder's own demuxer and Opus decoder are fed one chunk at a
    time and whatever PCM they give for that chunk is one front-end block, as in the server.
    Decoding the whole file instead would be off by a chunk for a pause that completes in a
    chunk's last few milliseconds, which the resampler holds back until the next chunk.
    """
    chunks = plan_chunks(clip_path(clip).read_bytes(), CHUNK_S)
    demux = OpusDemuxer(AudioFormat.WEBM)
    decoder: OpusDecoder | None = None
    front = FrontEnd(16_000, PAUSE_S)
    out: list[tuple[int, float]] = []
    for k, (_, chunk) in enumerate(chunks):
        packets = demux.feed(chunk)
        if decoder is None and demux.head is not None:
            decoder = OpusDecoder(demux.head)
        if decoder is None:
            continue
        for cut in front.feed(decoder.decode([p.data for p in packets])):
            out.append((k, cut.duration))
    return out


async def one_level(
    n: int,
    clip: str,
    base_url: str,
    server: psutil.Process,
    stt: SttStub,
    stats: Path,
    stagger_s: float = STAGGER_S,
    codigo: str | None = None,
) -> dict[str, float]:
    """Stream `clip` from `n` devices at once; return the level's figures.

    `codigo`: every balcão joins that cliente (``--enroll``); else each gets a cliente of its own.
    """
    meta = _clip_meta(clip)
    cuts = completing_chunks(clip)
    chunk_ends = [end for end, _ in plan_chunks(clip_path(clip).read_bytes(), CHUNK_S)]
    names = [f"Balcão {n}-{i}" for i in range(n)]
    if codigo:
        registered = [await register_under(base_url, codigo, name) for name in names]
    else:
        registered = [await register_balcao(base_url, name) for name in names]
    keys = [key for key, _ in registered]
    stt.clear()
    async with httpx.AsyncClient(base_url=base_url) as http:  # settle: a GC'd, idle server
        await http.get("/admin/runtime", params={"gc": "1"}, headers=ADMIN)
    await trio.sleep(1.0)
    cpu0, child0, pss0, rss0, procs0 = tree(server)
    peak = (pss0, rss0, procs0)
    mono0 = time.monotonic()
    done = trio.Event()

    async def sample() -> None:
        nonlocal peak
        while not done.is_set():
            # Reading smaps_rollup of 100+ processes costs a few % of a core: not every second.
            await trio.sleep(SAMPLE_S)
            _, _, pss, rss, procs = await trio.to_thread.run_sync(tree, server)
            if pss > peak[0]:
                peak = (pss, rss, procs)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(sample)
        devices = await run_devices(base_url, keys, clip_path(clip), CHUNK_S, stagger_s, LINGER_S)
        done.set()
    await trio.sleep(1.5)  # the last stats line
    mono1 = time.monotonic()
    cpu1, child1, _, _, _ = tree(server)
    sent = devices["sent"]
    steady = (max(t[0] for t in sent), min(t[-1] for t in sent))  # every device streaming
    lags, steady_lags, stage = read_stats(stats, mono0, mono1, steady)
    audio_s = n * meta["duration"]
    owners = await stored_owners(base_url, [balcao for _, balcao in registered])
    # The latency by the kernel's clocks: a chunk's write by the device, the request's arrival at
    # the stub (its first byte's receive stamp); then by the processes' own reads of the clock,
    # as this bench measured before 2026-12-06, which add the device's send checkpoint (earlier)
    # and the stub process's wait for a core (later).
    kernel, unstamped = stt.by_kernel()
    arrival, device_view, steady_arrival = latencies(
        cuts, meta, chunk_ends, devices["before"], kernel, owners, steady
    )
    user, _, _ = latencies(
        cuts, meta, chunk_ends, devices["sent"], stt.requests, owners, steady, quiet=True
    )
    if unstamped:
        print(f"  {unstamped} requests without a kernel stamp (their read time used)")
    python_ms = 1000 * (cpu1 - cpu0) / audio_s
    children_ms = 1000 * (child1 - child0) / audio_s

    def pct(xs: list[float], q: float) -> float:
        return 1000 * float(np.percentile(xs, q)) if xs else float("nan")

    return {
        "n": n,
        "wall_s": mono1 - mono0,
        "python_ms": python_ms,
        "children_ms": children_ms,
        "denoise_ms": 1000 * stage[1] / max(stage[0], 1e-9),
        "vad_ms": 1000 * stage[2] / max(stage[0], 1e-9),
        "decode_ms": 1000 * stage[4] / max(stage[3], 1e-9),
        "per_core": 1000 / (python_ms + children_ms),
        "server_share": (cpu1 - cpu0 + child1 - child0) / (mono1 - mono0) / CORES,
        "devices_cpu_share": devices["cpu_s"] / (mono1 - mono0) / CORES,
        "lag_p50": pct(lags, 50),
        "lag_p99": pct(lags, 99),
        "lag_max": pct(lags, 100),
        "steady_p99": pct(steady_lags, 99),
        "pss_mb": (peak[0] - pss0) / n / 2**20,
        "rss_mb": (peak[1] - rss0) / n / 2**20,
        "procs": peak[2],
        "procs_idle": procs0,
        "stt_requests": len(stt.requests),
        "expected": n * len(cuts),
        "p50": pct(arrival, 50),
        "p99": pct(arrival, 99),
        "user_p50": pct(user, 50),
        "user_p99": pct(user, 99),
        "stream_n": len(steady_arrival),
        "stream_p50": pct(steady_arrival, 50),
        "stream_p99": pct(steady_arrival, 99),
        "dev_p50": pct(device_view, 50),
        "dev_p99": pct(device_view, 99),
    }


def _row(r: dict[str, float]) -> str:
    return (
        f"| {r['n']} | {r['server_share']:.0%} (+{r['devices_cpu_share']:.0%}) "
        f"| **{r['python_ms'] + r['children_ms']:.1f}** = {r['python_ms']:.1f} "
        f"+ {r['children_ms']:.1f} "
        f"| {r['decode_ms']:.1f} / {r['denoise_ms']:.1f} / {r['vad_ms']:.1f} "
        f"| {r['per_core']:.0f} | {r['lag_p50']:.1f} / {r['lag_p99']:.1f} ({r['lag_max']:.0f}) ms "
        f"| {r['steady_p99']:.1f} ms "
        f"| {r['pss_mb']:.2f} / {r['rss_mb']:.2f} | {r['procs_idle']:.0f} → {r['procs']:.0f} "
        f"| {r['stt_requests']}/{r['expected']} "
        f"| {r['p50']:.0f} / {r['p99']:.0f} ms "
        f"| {r['user_p50']:.0f} / {r['user_p99']:.0f} ms "
        f"| {r['stream_p50']:.0f} / {r['stream_p99']:.0f} ms ({r['stream_n']:.0f}) "
        f"| {r['dev_p50']:.0f} / {r['dev_p99']:.0f} ms |"
    )


async def main(
    levels: list[int],
    clip: str,
    stagger_s: float,
    workers: str,
    enroll: bool = False,
    slice_us: int = 0,
) -> None:
    """Start the fake STT and the server process, run each level once, print a table."""
    with tempfile.TemporaryDirectory() as tmp:
        stats = Path(tmp) / "stats.jsonl"
        stats.touch()
        if "+" in clip:
            build_mix(clip, Path(tmp))
        async with bench_server(Path(tmp), stats, workers) as running:
            proc, base_url, stt = running.proc, running.base_url, running.stt
            server = psutil.Process(proc.pid)
            if slice_us:  # the server's threads only: the workers keep the default
                tids = set_process_slice(proc.pid, slice_us * 1000)
                print(f"server threads {tids}: slice {slice_ns(proc.pid) / 1000:.0f} µs")
            codigo = await enrolled_cliente(base_url) if enroll else None
            print(
                f"server pid {proc.pid}, {CORES} cores, BALTO_VAD_WORKERS={workers}; "
                f"clip {clip}; devices {stagger_s} s apart; "
                f"segments completed by chunks {completing_chunks(clip)}"
            )
            print(
                "| N | server CPU share (+devices) "
                "| CPU ms per session-second = server + children "
                "| decode / denoise / VAD ms/s | sessions/core at that cost "
                "| loop lag p50 / p99 (max) "
                "| lag p99 all streaming "
                "| MB per added session PSS / RSS | processes idle → peak "
                "| STT requests | arrival → STT p50 / p99 "
                "| the same by the processes' clocks "
                "| the same, all streaming (cuts) "
                "| device view: speech end + pause → STT p50 / p99 |"
            )
            print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
            for n in levels:
                r = await one_level(n, clip, base_url, server, stt, stats, stagger_s, codigo)
                print(_row(r), flush=True)
                if r["p99"] > 1000 or r["stt_requests"] < r["expected"]:
                    print(f"N={n} falls behind real time; stopping.")
                    break


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--levels", default="10,50,100,130")
    # A 28 s corpus dialogue (6 utterances): most of it after the connection ramp. The 8 s
    # two_utterances clip is over before the ramp's backlog has drained.
    parser.add_argument("--clip", default="receita_shop_10db")
    parser.add_argument("--stagger", type=float, default=STAGGER_S, help="seconds between starts")
    parser.add_argument("--workers", default="auto", help="BALTO_VAD_WORKERS for the server")
    parser.add_argument(
        "--enroll", action="store_true", help="one cliente with an enrolled attendant"
    )
    parser.add_argument(
        "--server-slice-us", type=int, default=0,
        help="EEVDF slice for the server's threads (bench/_sched_slice.py); 0: the default",
    )  # fmt: skip
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    trio.run(main, levels, args.clip, args.stagger, args.workers, args.enroll, args.server_slice_us)
