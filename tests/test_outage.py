"""A database outage costs no data (issue 14): the embedded PostgreSQL SIGKILLed under load.

One server process with its embedded PostgreSQL, the loopback ElevenLabs fake (so segments have
transcripts) and the catalog advisor (no LLM). Five devices stream the two-utterance WebM in real
time, reconnecting after each pass, for 60 s; the postmaster (pid from pgserver's
``postmaster.pid``) is SIGKILLed twice. The keeper waits ``BALTO_PG_RESTART_S`` before restarting
it, so each outage lasts a few seconds; during each, a key never used before gets 4008. Then the
same again with SIGTERM sent mid-outage, and a restart on the same data directory that replays
the spool.
"""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import trio
from pgserver.utils import PostmasterInfo
from trio_websocket import ConnectionClosed, HandshakeError, open_websocket_url

from balto.device import stream_file
from balto.store.embedded import _alive
from tests.conftest import FIXTURES, register_balcao
from tests.fakes.elevenlabs import FakeElevenLabs
from tests.fakes.wiring import provider_env
from tests.painel_sums import sums_mismatch_at
from tests.server_process import ServerProcess, server_process
from tests.webhook_receiver import Receiver, receiver

DEVICES = 5
RUN_S = 60.0
KILLS_AT = (12.0, 36.0)  # seconds into the run
OUTAGE_S = 5.0  # BALTO_PG_RESTART_S: how long the keeper leaves the database down
WEBM = FIXTURES / "two_utterances.webm"


def _postmaster(pgdata: Path) -> PostmasterInfo | None:
    info = PostmasterInfo.read_from_pgdata(pgdata)
    return info if info is not None and info.pid is not None and _alive(info.pid) else None


def _rows(pgdata: Path, sql: str) -> list[tuple[Any, ...]]:
    info = _postmaster(pgdata)
    assert info is not None, "no PostgreSQL runs on " + str(pgdata)
    with psycopg.connect(info.get_uri()) as conn:
        return conn.execute(sql.encode()).fetchall()


def _sums_mismatch(pgdata: Path) -> int:
    info = _postmaster(pgdata)
    assert info is not None, "no PostgreSQL runs on " + str(pgdata)
    return sums_mismatch_at(info.get_uri())


class Outage:
    """One kill: when it happened, when /readyz first said 503, when it said 200 again."""

    def __init__(self) -> None:
        self.killed_at = self.saw_503_at = self.back_at = float("nan")
        self.reason: object = None
        self.unknown_key_close: tuple[int | None, float] | None = None


async def _handshake_close(url: str, api_key: str) -> tuple[int | None, float]:
    """Connect with `api_key`; the close code the server answers with, and how long it took."""
    async with open_websocket_url(url) as ws:
        sent = trio.current_time()
        await ws.send_message(json.dumps({"api_key": api_key}))
        with pytest.raises(ConnectionClosed) as closed:
            await ws.get_message()
        reason = closed.value.reason
        return (reason.code if reason else None), trio.current_time() - sent


async def _kill_and_watch(
    server: ServerProcess, pgdata: Path, outage: Outage, unknown_key: str
) -> None:
    info = _postmaster(pgdata)
    assert info is not None
    os.kill(info.pid, signal.SIGKILL)
    outage.killed_at = trio.current_time()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=5) as http:
        with trio.move_on_after(30):
            while (response := await http.get("/readyz")).status_code != 503:  # noqa: ASYNC110 - polling the server
                await trio.sleep(0.1)
            outage.saw_503_at = trio.current_time()
            outage.reason = response.json().get("reason")
            # a key this server never confirmed cannot be checked now: "try again", promptly
            outage.unknown_key_close = await _handshake_close(server.ws_url, unknown_key)
            while (await http.get("/readyz")).status_code != 200:  # noqa: ASYNC110 - polling the server
                await trio.sleep(0.1)
            outage.back_at = trio.current_time()
    if outage.back_at != outage.back_at:  # NaN: it never came back
        raise AssertionError(server.log_text()[-8000:])


async def _device(
    url: str, api_key: str, delay: float, until: float, got: list[tuple[float, str]]
) -> None:
    """After `delay`, stream the fixture again and again until `until`; note recommendations.

    Devices start staggered so their recommendations (one per pass) spread over the pass, and
    any few seconds of the run see some.
    """
    await trio.sleep(delay)
    while trio.current_time() < until:
        try:
            run = await stream_file(url, api_key, WEBM, linger_s=1.0)
        except (ConnectionClosed, HandshakeError, OSError):
            await trio.sleep(0.5)  # e.g. 4008 "try again": a device retries
            continue
        for at, frame in run.frames:
            if frame.get("comando") == "recomendar":
                got.append((run.started_at + at, str(frame["id"])))


async def _metric(server: ServerProcess, name: str) -> float:
    body = (await server.admin("GET", "/metrics")).text
    for line in body.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not in /metrics")


def _exactly_once(pgdata: Path) -> list[tuple[Any, ...]]:
    """Per ended session: segments the VAD emitted vs rows stored (and distinct seqs)."""
    return _rows(
        pgdata,
        "SELECT s.id, s.segments_emitted, count(g.id), count(DISTINCT g.seq)"
        " FROM sessions s LEFT JOIN segments g ON g.session_id = s.id"
        " GROUP BY s.id, s.segments_emitted",
    )


async def test_killing_the_embedded_database_twice_loses_nothing(tmp_path: Path) -> None:
    pgdata = tmp_path / "pg"
    async with trio.open_nursery() as fakes:
        env = await provider_env(fakes, stt=FakeElevenLabs())
        env |= {
            "BALTO_DATA_DIR": str(tmp_path),
            "BALTO_DATABASE_URL": "",
            "BALTO_VAD_WORKERS": "0",
            "BALTO_DB_TIMEOUT_S": "1",
            "BALTO_PG_RESTART_S": str(OUTAGE_S),
            "BALTO_WEBHOOKS_ALLOW_PRIVATE": "1",
            "BALTO_WEBHOOK_TIMEOUT_S": "2",
            "BALTO_WEBHOOK_RETRY_S": "1",
        }
        with receiver() as chains:
            async with server_process(env) as server:
                keys = [
                    (await register_balcao(server.base_url, f"B{i}"))[0] for i in range(DEVICES)
                ]
                for (cliente,) in _rows(pgdata, "SELECT DISTINCT cliente_id FROM balcoes"):
                    made = await server.admin(
                        "POST",
                        f"/admin/clientes/{cliente}/webhooks",
                        json={"url": chains.url, "eventos": ["recomendacao"]},
                    )
                    assert made.status_code == 201, made.text
                await _run_and_kill(server, pgdata, keys, chains)
            await _replay_on_restart(env, pgdata, tmp_path)
        fakes.cancel_scope.cancel()


async def _run_and_kill(
    server: ServerProcess, pgdata: Path, keys: list[str], chains: Receiver
) -> None:
    """Stream under two outages and check nothing was lost; then SIGTERM mid-outage."""
    unknown = [(await register_balcao(server.base_url, f"U{i}"))[0] for i in KILLS_AT]
    got: list[tuple[float, str]] = []
    outages = [Outage() for _ in KILLS_AT]
    start = trio.current_time()
    async with trio.open_nursery() as run:
        for i, key in enumerate(keys):
            run.start_soon(_device, server.ws_url, key, i * 1.9, start + RUN_S, got)
        for at, outage, key in zip(KILLS_AT, outages, unknown, strict=True):
            await trio.sleep_until(start + at)
            await _kill_and_watch(server, pgdata, outage, key)

    for outage in outages:
        assert outage.reason == "database_unreachable"
        assert outage.unknown_key_close is not None
        code, took = outage.unknown_key_close
        assert code == 4008 and took < 1.0
        during = [rid for at, rid in got if outage.killed_at <= at <= outage.back_at]
        assert during, "no recommendation reached a device during the outage"
    assert "embedded PostgreSQL restarted" in server.log_text()
    assert await _metric(server, "balto_recorder_spooled_total") > 0
    with trio.fail_after(30):
        while await _metric(server, "balto_recorder_spool_events"):  # noqa: ASYNC110 - polling the server
            await trio.sleep(0.2)
    assert await _metric(server, "balto_recorder_replayed_total") > 0
    assert await _metric(server, "balto_recorder_spool_bytes") == 0

    rows = _exactly_once(pgdata)
    assert len(rows) >= DEVICES * 2
    assert sum(emitted for _, emitted, _, _ in rows) > 0
    assert [r for r in rows if not (r[1] == r[2] == r[3])] == []
    stored = {str(r[0]) for r in _rows(pgdata, "SELECT id FROM recommendations")}
    ids = [rid for _, rid in got]
    assert len(ids) == len(set(ids)) and set(ids) <= stored
    assert _rows(pgdata, "SELECT count(*) FROM sessions WHERE ended_at IS NULL") == [(0,)]
    # spooled and replayed writes counted once in the Painel's hourly sums
    assert _rows(pgdata, "SELECT count(*) > 0 FROM provider_calls") == [(True,)]
    assert _sums_mismatch(pgdata) == 0
    # every suggestion stored, the spooled ones included, reached the chains' webhooks
    with trio.fail_after(60):
        while stored - {r.json()["recomendacao"]["id"] for r in chains.ok()}:  # noqa: ASYNC110
            await trio.sleep(0.2)

    # SIGTERM mid-outage: out within 5 s, the spool kept on disk
    keys_left = keys[:2]
    async with trio.open_nursery() as run:
        for key in keys_left:
            run.start_soon(_device, server.ws_url, key, 0, trio.current_time() + 6, [])
        await trio.sleep(3)
        info = _postmaster(pgdata)
        assert info is not None
        os.kill(info.pid, signal.SIGKILL)
        with trio.fail_after(10):
            while _alive(info.pid):  # noqa: ASYNC110 - polling another process
                await trio.sleep(0.05)
        await trio.sleep(0.5)  # the sessions' next writes meet the outage
        stopped_at = trio.current_time()
        server.process.send_signal(signal.SIGTERM)
        with trio.fail_after(5):
            await server.process.wait()
        assert trio.current_time() - stopped_at < 5
        run.cancel_scope.cancel()


async def _replay_on_restart(env: dict[str, str], pgdata: Path, tmp_path: Path) -> None:
    """The next start replays the spool: the interrupted sessions end as they did."""
    spool = tmp_path / "recorder.spool"
    assert spool.stat().st_size > 0
    async with server_process(env) as again:
        assert spool.stat().st_size == 0
        assert "replayed" in again.log_text()
        rows = _exactly_once(pgdata)
        assert [r for r in rows if not (r[1] == r[2] == r[3])] == []
        lost = _rows(pgdata, "SELECT count(*) FROM sessions WHERE close_reason = 'server lost'")
        assert lost == [(0,)]
        assert _sums_mismatch(pgdata) == 0
        again.process.send_signal(signal.SIGTERM)
        with trio.fail_after(30):
            await again.process.wait()
