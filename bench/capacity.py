"""Capacity: N simulated devices through the real server, N rising until sessions fall behind.

One `trio.run` holds the real server (Hypercorn, embedded PostgreSQL, one ffmpeg per session,
denoise + VAD in worker threads) with the loopback ElevenLabs fake, and N device simulators
streaming a corpus clip (WebM/Opus, 250 ms chunks) in real time, started 20 ms apart. The devices
run in the same process (their WebSocket client work is counted in the server's CPU: the figures
are pessimistic). Per N it prints: CPU ms per audio-second (whole process, ffmpeg children, and the
denoise / VAD stages from `balto.audio.frontend.STAGE_CPU`), sessions per core at that CPU, event
loop lag p50/p99 (a task sleeping 10 ms, measuring its overshoot), RSS per session (process +
ffmpeg children, above the idle server), and end-of-pause → STT-request latency p50/p99 beyond the
configured pause (requests are matched to utterances by audio length, then to sessions in time
order). A level "keeps up" when that p99 stays under 1 s beyond the pause. The default clip is the
clean two-utterance fixture, whose segment ends the VAD finds within a frame, so the latency is the
system's; a noisy corpus clip (``--clip dor_ac_10db``) adds the VAD's end error to it.

    .venv/bin/python bench/capacity.py [--levels 25,50,100] [--clip two_utterances]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from functools import partial
from pathlib import Path

import numpy as np
import psutil
import trio

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from balto.audio.frontend import STAGE_CPU  # noqa: E402
from balto.config import Settings  # noqa: E402
from balto.device import stream_file  # noqa: E402
from supervisors.root import Running, run_root  # noqa: E402
from tests.conftest import register_balcao  # noqa: E402
from tests.fakes.elevenlabs import FakeElevenLabs  # noqa: E402
from tests.fakes.wiring import provider_env  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures"
CORPUS = FIXTURES / "corpus"
PAUSE_S = 0.5  # BALTO_VAD_PAUSE_MS default
STAGGER_S = 0.02


def _tree_cpu_rss(proc: psutil.Process) -> tuple[float, float, float]:
    """(own CPU s, children CPU s, RSS bytes of process + children)."""
    own = proc.cpu_times()
    children_cpu, rss = 0.0, float(proc.memory_info().rss)
    for child in proc.children(recursive=True):
        try:
            t = child.cpu_times()
            children_cpu += t.user + t.system
            rss += child.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return own.user + own.system, children_cpu + own.children_user + own.children_system, rss


async def _lag_probe(lags: list[float], stop: trio.Event) -> None:
    while not stop.is_set():
        before = trio.current_time()
        await trio.sleep(0.01)
        lags.append(trio.current_time() - before - 0.01)


async def one_level(n: int, clip: str, base_url: str, stt: FakeElevenLabs) -> dict[str, float]:
    """Stream `clip` from `n` devices at once; return the level's figures."""
    meta = _clip_meta(clip)
    keys = [(await register_balcao(base_url, f"Balcão {n}-{i}"))[0] for i in range(n)]
    url = base_url.replace("http://", "ws://") + "/ws"
    proc = psutil.Process(os.getpid())
    stt.requests.clear()
    cpu0, child0, rss0 = _tree_cpu_rss(proc)
    stage0 = (STAGE_CPU.audio_s, STAGE_CPU.denoise_s, STAGE_CPU.vad_s)
    lags: list[float] = []
    starts: list[float] = []
    peak_rss = rss0
    stop = trio.Event()

    async def device(i: int) -> None:
        await trio.sleep(i * STAGGER_S)
        starts.append(trio.current_time())
        await stream_file(url, keys[i], _clip_path(clip), linger_s=1.5)

    async def sample_rss() -> None:
        nonlocal peak_rss
        while not stop.is_set():
            await trio.sleep(2.0)
            peak_rss = max(peak_rss, _tree_cpu_rss(proc)[2])

    t0 = trio.current_time()
    async with trio.open_nursery() as outer:
        outer.start_soon(_lag_probe, lags, stop)
        outer.start_soon(sample_rss)
        async with trio.open_nursery() as devices:
            for i in range(n):
                devices.start_soon(device, i)
        stop.set()
    wall = trio.current_time() - t0
    cpu1, child1, _ = _tree_cpu_rss(proc)
    audio_s = n * meta["duration"]
    stage_audio = STAGE_CPU.audio_s - stage0[0]
    latencies = _match_latencies(meta, sorted(starts), stt)
    return {
        "n": n,
        "wall_s": wall,
        "cpu_ms_per_audio_s": 1000 * (cpu1 - cpu0) / audio_s,
        "ffmpeg_ms_per_audio_s": 1000 * (child1 - child0) / audio_s,
        "denoise_ms_per_audio_s": 1000 * (STAGE_CPU.denoise_s - stage0[1]) / max(stage_audio, 1e-9),
        "vad_ms_per_audio_s": 1000 * (STAGE_CPU.vad_s - stage0[2]) / max(stage_audio, 1e-9),
        "cpu_share": (cpu1 - cpu0 + child1 - child0) / wall / psutil.cpu_count(),
        "lag_p50_ms": 1000 * float(np.percentile(lags, 50)),
        "lag_p99_ms": 1000 * float(np.percentile(lags, 99)),
        "rss_mb_per_session": (peak_rss - rss0) / n / 2**20,
        "stt_requests": len(stt.requests),
        "expected_requests": n * len(meta["utterances"]),
        "pause_to_stt_p50_ms": 1000 * float(np.percentile(latencies, 50)) if latencies else -1,
        "pause_to_stt_p99_ms": 1000 * float(np.percentile(latencies, 99)) if latencies else -1,
    }


def _clip_path(clip: str) -> Path:
    return FIXTURES / f"{clip}.webm" if clip == "two_utterances" else CORPUS / f"{clip}.webm"


def _clip_meta(clip: str) -> dict:
    if clip == "two_utterances":
        return json.loads((FIXTURES / "two_utterances.json").read_text())
    return json.loads((CORPUS / "corpus.json").read_text())["clips"][clip]


def _match_latencies(meta: dict, starts: list[float], stt: FakeElevenLabs) -> list[float]:
    """end of pause → request, per utterance: requests grouped by audio length, time-ordered."""
    ends = [b for _, b in meta["utterances"]]
    lengths = np.array([b - a for a, b in meta["utterances"]])
    groups: dict[int, list[float]] = {j: [] for j in range(len(ends))}
    for request in stt.requests:
        duration = request.audio_duration() or 0.0
        j = int(np.argmin(np.abs(lengths + 0.45 - duration)))  # pre-roll + hangover ≈ 0.45 s
        groups[j].append(request.received_at)
    out: list[float] = []
    for j, times in groups.items():
        pool = sorted(times)
        for want in sorted(t + ends[j] + PAUSE_S for t in starts):
            # The first request not yet taken that could answer this utterance (a false segment
            # of similar length, e.g. from a slam, is skipped over because it comes too early).
            k = next((k for k, got in enumerate(pool) if got >= want - 0.3), None)
            if k is not None:
                out.append(pool.pop(k) - want)
    return out


async def main(levels: list[int], clip: str) -> None:
    """Run each level once and print a table."""
    with tempfile.TemporaryDirectory() as tmp:
        async with trio.open_nursery() as nursery:
            stt = FakeElevenLabs(transcripts=["Estou com dor de cabeça."] * 100_000)
            env = {
                "ADMIN_SECRET": "test-admin-secret",
                "BALTO_DATA_DIR": tmp,
                **await provider_env(nursery, stt=stt),
            }
            running: Running = await nursery.start(
                partial(run_root, Settings.from_env(env), port=0)
            )
            print(
                "| N | CPU share | proc ms/audio-s | ffmpeg ms/s | denoise ms/s | vad ms/s "
                "| loop lag p50 / p99 | RSS MB/session | STT requests | pause→STT p50 / p99 |"
            )
            print("|---|---|---|---|---|---|---|---|---|---|")
            for n in levels:
                r = await one_level(n, clip, running.base_url, stt)
                print(
                    f"| {n} | {r['cpu_share']:.0%} | {r['cpu_ms_per_audio_s']:.1f} "
                    f"| {r['ffmpeg_ms_per_audio_s']:.1f} | {r['denoise_ms_per_audio_s']:.1f} "
                    f"| {r['vad_ms_per_audio_s']:.1f} "
                    f"| {r['lag_p50_ms']:.1f} / {r['lag_p99_ms']:.1f} ms "
                    f"| {r['rss_mb_per_session']:.1f} "
                    f"| {r['stt_requests']}/{r['expected_requests']} "
                    f"| {r['pause_to_stt_p50_ms']:.0f} / {r['pause_to_stt_p99_ms']:.0f} ms |",
                    flush=True,
                )
                if r["pause_to_stt_p99_ms"] > 1000 or r["stt_requests"] < r["expected_requests"]:
                    print(f"N={n} falls behind real time; stopping.")
                    break
            nursery.cancel_scope.cancel()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--levels", default="10,25,50,100")
    parser.add_argument("--clip", default="two_utterances")
    args = parser.parse_args()
    trio.run(main, [int(x) for x in args.levels.split(",")], args.clip)
