"""Chaos over real sockets: 20 devices stream real audio for 32 s into a server process while
planned faults crash, hang and slow every actor kind and the provider fakes answer 429, 5xx and
hang. Afterwards nothing is lost or left behind, and a new device is served normally."""

from __future__ import annotations

import random
import subprocess
import wave
from pathlib import Path
from typing import Any

import httpx
import imageio_ffmpeg
import trio

from balto.device import DeviceRun, stream_file
from tests.conftest import ADMIN, FIXTURES, query, register_balcao
from tests.fakes.elevenlabs import FakeElevenLabs
from tests.fakes.openai_compat import FakeOpenAICompat
from tests.fakes.wiring import provider_env
from tests.server_process import ServerProcess, server_process

DEVICES = 20
TILES = 4  # 4 × the 8 s two-utterance recording: 32 s per device
SEED = 20261124
ACTORS = ("receiver", "decoder", "vad", "transcriber", "advisor", "sender")
# How many messages each actor takes in 32 s (a fault must land inside the run):
# 250 ms frames, ~20 ms PCM packets, a segment every ~4 s, about one recommendation per 8 s.
REACH = {"receiver": 100, "decoder": 100, "vad": 600, "transcriber": 6, "advisor": 5, "sender": 2}
RSS_TOLERANCE = 0.10
KEEP_ALIVE_S = 5.0  # Hypercorn's keep_alive_timeout (balto.web.server.make_config leaves it)


def _long_audio(tmp: Path) -> tuple[Path, Path]:
    """A 32 s WAV and WebM/Opus (48 kHz, like a browser) of the fixture, tiled."""
    with wave.open(str(FIXTURES / "two_utterances.wav"), "rb") as source:
        params, frames = source.getparams(), source.readframes(source.getnframes())
    wav = tmp / "long.wav"
    with wave.open(str(wav), "wb") as out:
        out.setparams(params)
        out.writeframes(frames * TILES)
    webm = tmp / "long.webm"
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    subprocess.run(
        [
            ffmpeg,
            "-loglevel",
            "error",
            "-y",
            "-i",
            str(wav),
            "-c:a",
            "libopus",
            "-ar",
            "48000",
            "-b:a",
            "32k",
            "-f",
            "webm",
            str(webm),
        ],
        check=True,
    )
    return wav, webm


def _plan(balcoes: list[str], rng: random.Random) -> list[dict[str, object]]:
    """Two faults per session; over the 20 sessions every actor kind crashes, hangs and slows."""
    faults: list[dict[str, object]] = []
    kinds = ("crash", "hang", "slow")
    for i, balcao in enumerate(balcoes):
        for actor, kind in (
            (ACTORS[i % 6], kinds[i % 3]),
            (ACTORS[(i + 3) % 6], kinds[(i + 1) % 3]),
        ):
            faults.append(
                {
                    "target": actor,
                    "kind": kind,
                    "after": rng.randrange(REACH[actor]),
                    "delay_s": 0.5,
                    "balcao_id": balcao,
                }
            )
        if i % 4 == 0:
            faults.append(
                {
                    "target": "stt",
                    "kind": "fail",
                    "category": rng.choice(["rate_limited", "server", "timeout"]),
                    "after": rng.randrange(4),
                    "balcao_id": balcao,
                }
            )
    return faults


async def _provider_trouble(stt: FakeElevenLabs, llm: FakeOpenAICompat, rng: random.Random) -> None:
    """Every so often the providers answer 429 (with Retry-After), 5xx, or hang past the budget."""
    while True:
        await trio.sleep(rng.uniform(1.0, 2.5))
        for fake in (stt, llm):
            match rng.randrange(3):
                case 0:
                    fake.fail_next(429, headers={"retry-after": "1"})
                case 1:
                    fake.fail_next(rng.choice([500, 502, 503]))
                case _:
                    fake.hang_next(3.0)


async def _runtime(http: httpx.AsyncClient, *, gc: bool = False) -> dict[str, Any]:
    response = await http.get("/admin/runtime", params={"gc": "1"} if gc else None)
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    return body


async def _until_idle(http: httpx.AsyncClient, timeout: float) -> dict[str, Any]:
    """No session, no ffmpeg, and the task count settled, read over one kept-alive connection.

    A session leaves the registry before its socket handler has finished recording its close,
    so its tasks outlive it briefly; and an HTTP connection the test closed keeps its tasks
    until Hypercorn's keep-alive timer ends (`KEEP_ALIVE_S`): settled is the same count over
    longer than that.
    """
    with trio.fail_after(timeout):
        previous: int | None = None
        since = trio.current_time()
        while True:
            runtime = await _runtime(http)
            idle = runtime["sessions"] == 0 and runtime["ffmpeg_processes"] == 0
            if not idle or runtime["tasks"] != previous:
                previous, since = (runtime["tasks"] if idle else None), trio.current_time()
            elif trio.current_time() - since > KEEP_ALIVE_S:
                return runtime
            await trio.sleep(1.0)


async def _until_breakers_closed(server: ServerProcess, timeout: float) -> None:
    with trio.fail_after(timeout):
        while True:
            breakers = (await server.runtime())["breakers"]
            assert breakers, "the runtime route lists the providers' breakers"
            if all(b["state"] == "closed" for b in breakers):
                return
            await trio.sleep(0.25)


async def _stream_all(server: ServerProcess, keys: list[str], files: list[Path]) -> list[DeviceRun]:
    runs: list[DeviceRun] = []

    async def one(key: str, path: Path) -> None:
        runs.append(await stream_file(server.ws_url, key, path, linger_s=3.0))

    async with trio.open_nursery() as nursery:
        for key, path in zip(keys, files, strict=True):
            nursery.start_soon(one, key, path)
    return runs


async def test_chaos(nursery: trio.Nursery, database_url: str, tmp_path: Path) -> None:
    rng = random.Random(SEED)
    stt = FakeElevenLabs()
    llm = FakeOpenAICompat("xai")
    products = ["Dipirona Monoidratada 500 mg", "Soro Fisiológico Nasal 0,9%"]
    llm.respond = lambda body: {
        "recomendar": True,
        "produto": rng.choice(products),
        "explicacao": "Indicado pelo fake.",
    }
    env = {
        "BALTO_DATABASE_URL": database_url,
        "BALTO_FAULTS": "1",
        "BALTO_WATCHDOG_S": "2",
        "BALTO_STT_TIMEOUT": "1.5",
        "BALTO_LLM_TIMEOUT": "1.5",
        "BALTO_LOG_LEVEL": "WARNING",
        "BALTO_BREAKER_PROBE_S": "1",
        **await provider_env(nursery, stt=stt, llm=llm),
    }
    wav, webm = _long_audio(tmp_path)
    async with (
        server_process(env) as server,
        httpx.AsyncClient(base_url=server.base_url, headers=ADMIN, timeout=10) as http,
    ):
        registered = [
            await register_balcao(server.base_url, f"Balcão {i}") for i in range(DEVICES + 1)
        ]
        keys = [key for key, _ in registered]
        balcoes = [balcao for _, balcao in registered]

        # Warm up with the same load (no faults), so the baseline holds what 20 sessions leave
        # allocated in a healthy process; a leak shows as growth on top of it.
        warm = [FIXTURES / "two_utterances.wav", FIXTURES / "two_utterances.webm"]
        await _stream_all(server, keys[:DEVICES], [warm[i % 2] for i in range(DEVICES)])
        before = await _until_idle(http, 30)
        before = await _runtime(http, gc=True)

        for fault in _plan(balcoes[:DEVICES], rng):
            response = await server.admin("POST", "/admin/faults", json=fault)
            assert response.status_code == 201, response.text
        async with trio.open_nursery() as chaos:
            chaos.start_soon(_provider_trouble, stt, llm, rng)
            runs = await _stream_all(
                server, keys[:DEVICES], [(wav, webm)[i % 2] for i in range(DEVICES)]
            )
            chaos.cancel_scope.cancel()
        stt.clear_faults()
        llm.clear_faults()
        assert (await server.admin("DELETE", "/admin/faults")).status_code == 200
        await _until_idle(http, 30)
        await _until_breakers_closed(server, 30)  # the recovery probes bring the providers back

        # Faults really happened, to every actor kind.
        restarted = query(
            database_url,
            "SELECT count(*), coalesce(sum(restarts), 0) FROM sessions"
            " WHERE started_at > now() - interval '5 minutes' AND restarts > 0",
        )
        assert restarted[0][0] >= DEVICES // 2, (restarted, server.log_text()[-4000:])
        log = server.log_text()
        for actor in ACTORS:
            assert f"actor {actor} failed" in log, actor
        assert "watchdog:" in log
        assert len(runs) == DEVICES

        # Every segment the VAD emitted is stored, transcribed or failed with a reason.
        sessions = query(
            database_url,
            "SELECT s.id, s.segments_emitted, count(g.id),"
            " count(*) FILTER (WHERE g.status = 'pending'),"
            " count(*) FILTER (WHERE g.status = 'failed' AND coalesce(g.error, '') = '')"
            " FROM sessions s LEFT JOIN segments g ON g.session_id = s.id GROUP BY s.id",
        )
        assert len(sessions) == 2 * DEVICES
        for session_id, emitted, stored, pending, unexplained in sessions:
            assert emitted is not None, session_id
            assert stored == emitted, (session_id, emitted, stored)
            assert pending == 0 and unexplained == 0, session_id
        total = sum(row[1] for row in sessions)
        summary = query(
            database_url,
            "SELECT coalesce(close_code::text, 'device'), count(*), sum(restarts),"
            " sum(segments_emitted), sum(segments_dropped) FROM sessions GROUP BY 1 ORDER BY 1",
        )
        outcomes = query(database_url, "SELECT status, count(*) FROM segments GROUP BY 1")
        print(f"\nchaos sessions (close, n, restarts, segments, dropped): {summary}")
        print(f"chaos segments: {outcomes}; STT requests {len(stt.requests)}")
        failed = query(database_url, "SELECT count(*) FROM segments WHERE status = 'failed'")
        assert total > 4 * DEVICES, total  # real speech was cut, not an empty run
        assert failed[0][0] > 0  # and the provider trouble did cost some

        # A new device is served normally.
        stt_requests = len(stt.requests)
        fresh = await stream_file(server.ws_url, keys[DEVICES], FIXTURES / "two_utterances.webm")
        assert fresh.close_code == 1000, (fresh.close_code, fresh.close_reason)
        assert [f["comando"] for _, f in fresh.frames] == ["recomendar"] * len(fresh.frames)
        assert len(fresh.frames) >= 1
        assert len(stt.requests) - stt_requests == 2
        rows = query(
            database_url,
            "SELECT g.status FROM segments g JOIN sessions s ON s.id = g.session_id"
            " WHERE s.balcao_id = %s",
            balcoes[DEVICES],
        )
        assert [status for (status,) in rows] == ["transcribed", "transcribed"]

        # Nothing left behind, memory back.
        after = await _until_idle(http, 30)
        after = await _runtime(http, gc=True)
        assert after["tasks"] == before["tasks"], (before, after)
        assert after["ffmpeg_processes"] == 0
        assert not [name for name in server.children() if "ffmpeg" in name]
        growth = after["rss_bytes"] / before["rss_bytes"] - 1
        print(
            f"\nchaos: RSS before {before['rss_bytes'] / 2**20:.1f} MiB, after "
            f"{after['rss_bytes'] / 2**20:.1f} MiB ({growth:+.1%}); tasks {after['tasks']}"
        )
        assert abs(growth) <= RSS_TOLERANCE, (before, after)
