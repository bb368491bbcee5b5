"""Three Balto processes on one PostgreSQL behind a real nginx: the cluster acceptance test.

Devices stream WAV through the proxy. Checked, in order: every instance lists every live session
with its instance; a restart asked of one instance moves the restart counter of a session another
instance holds and keeps its socket; a second connection for a balcão on another instance closes
the first with 4004; a SIGKILLed instance's devices reconnect through the proxy to the others and
its sessions are closed in the database within the heartbeat timeout (plus the one heartbeat it
takes a survivor to look); a SIGTERMed instance closes its devices with 1001, they reconnect, and
every segment its VAD emitted is stored.

Needs Debian's ``nginx`` (``nginx-light``; ``.ci/run`` installs it as root). Outside CI a machine
without it skips with that reason; under CI (``CI`` set) the test runs and fails.
"""

from __future__ import annotations

import json
import os
import signal
from collections import Counter
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import trio
from trio_websocket import ConnectionClosed, HandshakeError, open_websocket_url

from tests.conftest import FIXTURES, query, register_balcao
from tests.painel_sums import sums_mismatch_at
from tests.proxy_process import NGINX, nginx_proxy
from tests.server_process import ServerProcess, server_process

pytestmark = pytest.mark.skipif(
    NGINX is None and not os.environ.get("CI"),
    reason="needs a system nginx (apt-get install nginx-light; .ci/run installs it as root)",
)

HEARTBEAT_S = 1.0
TIMEOUT_S = 5.0  # BALTO_HEARTBEAT_TIMEOUT_S for this test (10 s by default)
DEVICES = 4
CHUNK = 8000  # 0.25 s of 16 kHz s16le mono, sent every 0.25 s: real time
WAV = (FIXTURES / "two_utterances.wav").read_bytes()
HEADER, PCM = WAV[:44], WAV[44:]


@dataclass
class Device:
    """A simulated counter: streams through the proxy, reconnects when its socket closes."""

    api_key: str
    balcao_id: str
    closes: list[int] = field(default_factory=list)
    connections: int = 0
    stop: bool = False

    async def run(self, url: str) -> None:
        """Stream, reconnect after any close (as a real device does), until `stop`."""
        while not self.stop:
            try:
                async with open_websocket_url(url) as ws:
                    self.connections += 1
                    await ws.send_message(json.dumps({"api_key": self.api_key}))
                    await ws.send_message(HEADER)
                    async with trio.open_nursery() as nursery:
                        nursery.start_soon(self._read, ws, nursery.cancel_scope)
                        offset = 0
                        while not self.stop:
                            await ws.send_message(PCM[offset : offset + CHUNK])
                            offset = (offset + CHUNK) % len(PCM)
                            await trio.sleep(CHUNK / 32_000)
                        nursery.cancel_scope.cancel()
            # The writer may hit the close before the reader does; the nursery then raises a
            # group, so both shapes are caught.
            except* ConnectionClosed as group:
                # (the reader may have recorded this close already; a repeat is harmless)
                self.closes.append(group.exceptions[0].reason.code)
            except* (OSError, HandshakeError):
                self.closes.append(-1)
            await trio.sleep(0.2)

    async def _read(self, ws: Any, scope: trio.CancelScope) -> None:
        try:
            while True:
                await ws.get_message()
        except ConnectionClosed as exc:
            self.closes.append(exc.reason.code)
            scope.cancel()


async def _sessions(server: ServerProcess) -> dict[str, dict[str, Any]]:
    response = await server.admin("GET", "/admin/sessions")
    assert response.status_code == 200, response.text
    return {s["balcao_id"]: s for s in response.json()["sessions"]}


async def _until(check: Any, timeout: float, what: str) -> Any:
    with trio.move_on_after(timeout):
        while not (result := await check()):  # noqa: ASYNC110 - polling other processes
            await trio.sleep(0.1)
        return result
    raise AssertionError(f"not within {timeout} s: {what}")


async def test_three_instances_behind_nginx(database_url: str, tmp_path: Path) -> None:
    names = ["a", "b", "c"]
    base_env = {
        "BALTO_DATABASE_URL": database_url,
        "BALTO_VAD_WORKERS": "0",
        "BALTO_DENOISE": "0",
        "BALTO_HEARTBEAT_S": str(HEARTBEAT_S),
        "BALTO_HEARTBEAT_TIMEOUT_S": str(TIMEOUT_S),
        "BALTO_LOG_LEVEL": "INFO",
    }
    async with AsyncExitStack() as stack:
        servers: dict[str, ServerProcess] = {}
        for name in names:
            env = {**base_env, "BALTO_INSTANCE_ID": name}
            servers[name] = await stack.enter_async_context(server_process(env))
        proxy = await stack.enter_async_context(
            nginx_proxy(tmp_path / "nginx", [s.port for s in servers.values()])
        )
        ws_url = proxy.replace("http://", "ws://") + "/ws"
        devices = [Device(*await register_balcao(proxy, f"Balcão {i}")) for i in range(DEVICES)]
        nursery = await stack.enter_async_context(trio.open_nursery())
        for device in devices:
            nursery.start_soon(device.run, ws_url)

        # 1. every instance lists every device's session, each with its instance
        async def all_listed() -> dict[str, dict[str, Any]] | None:
            listed = await _sessions(servers["a"])
            return listed if len(listed) == DEVICES else None

        listed = await _until(all_listed, 20, "four live sessions listed")
        holders = {b: s["instance"] for b, s in listed.items()}
        assert set(holders.values()) <= set(names)
        for server in servers.values():
            assert {b: s["instance"] for b, s in (await _sessions(server)).items()} == holders

        # 2. restart via another instance: counter moves, socket stays
        target = devices[0]
        holder = holders[target.balcao_id]
        asker = next(n for n in names if n != holder)
        connections = target.connections
        before = await servers[holder].admin("GET", f"/admin/sessions/{target.balcao_id}")
        restarts = before.json()["restarts"]
        response = await servers[asker].admin("POST", f"/admin/sessions/{target.balcao_id}/restart")
        assert response.status_code == 202, response.text
        assert response.json()["instance"] == holder

        async def restarted() -> bool:
            response = await servers[holder].admin("GET", f"/admin/sessions/{target.balcao_id}")
            return bool(response.json()["restarts"] > restarts)

        await _until(restarted, 5, "restart counter moved on the holder")
        assert target.connections == connections and target.closes == []

        async def seen_by_asker() -> bool:  # the asker's view is at most one heartbeat old
            response = await servers[asker].admin("GET", f"/admin/sessions/{target.balcao_id}")
            return bool(response.json()["restarts"] > restarts)

        await _until(seen_by_asker, 3 * HEARTBEAT_S, "the new counter seen from the asker")
        missing = await servers[asker].admin("POST", "/admin/sessions/" + "0" * 36 + "/restart")
        assert missing.status_code == 404

        # 3. one balcão, one live session: a second connection on another instance wins
        key, balcao = await register_balcao(proxy, "Balcão repetido")
        first, second = servers["a"], servers["b"]
        async with open_websocket_url(first.ws_url) as old:
            await old.send_message(json.dumps({"api_key": key}))
            await _until(lambda: _listed_on(first, balcao, "a"), 5, "the first connection listed")
            async with open_websocket_url(second.ws_url) as new:
                await new.send_message(json.dumps({"api_key": key}))
                with trio.fail_after(5), pytest.raises(ConnectionClosed) as replaced:
                    await old.get_message()
                assert replaced.value.reason.code == 4004
                assert replaced.value.reason.reason == "Sessao substituida por nova conexao"
                await _until(lambda: _listed_on(first, balcao, "b"), 5, "the new holder listed")

        # 4. SIGKILL: its devices move to the others; its sessions close within the timeout
        counts = Counter(holders.values())
        killed = max(names, key=lambda n: counts[n])
        lost = [
            str(row[0])
            for row in query(
                database_url,
                "SELECT session_id FROM live_sessions WHERE instance_id = %s",
                killed,
            )
        ]
        assert lost
        servers[killed].process.send_signal(signal.SIGKILL)
        await servers[killed].process.wait()
        survivors = [n for n in names if n != killed]

        async def moved() -> dict[str, dict[str, Any]] | None:
            listed = await _sessions(servers[survivors[0]])
            served = {b: s["instance"] for b, s in listed.items()}
            mine = [served.get(d.balcao_id) for d in devices]
            return listed if all(i in survivors for i in mine) else None

        await _until(moved, 10, "devices of the killed instance served by the others")

        async def closed() -> bool:
            rows = query(
                database_url,
                "SELECT count(*) FROM sessions WHERE id = ANY(%s::uuid[])"
                " AND ended_at IS NOT NULL AND close_reason = 'server lost'",
                lost,
            )
            return bool(rows[0][0] == len(lost))

        # dead after TIMEOUT_S, noticed at a survivor's next beat: one interval, plus one spare
        await _until(closed, TIMEOUT_S + 2 * HEARTBEAT_S, "the killed instance's sessions closed")
        assert query(database_url, "SELECT id FROM instances WHERE id = %s", killed) == []

        # 5. SIGTERM: 1001 to its devices, they reconnect, nothing the VAD emitted is lost
        listed = await _sessions(servers[survivors[0]])
        counts = Counter(listed[d.balcao_id]["instance"] for d in devices)
        stopped = max(survivors, key=lambda n: counts[n])
        last = next(n for n in survivors if n != stopped)
        on_stopped = [d for d in devices if listed[d.balcao_id]["instance"] == stopped]
        sessions = [listed[d.balcao_id]["session_id"] for d in on_stopped]
        assert on_stopped
        closes_before = {id(d): len(d.closes) for d in on_stopped}
        servers[stopped].process.send_signal(signal.SIGTERM)
        with trio.fail_after(15):
            assert await servers[stopped].process.wait() == 0, servers[stopped].log_text()
        for device in on_stopped:
            assert 1001 in device.closes[closes_before[id(device)] :]
        rows = query(
            database_url,
            "SELECT s.id, s.close_code, s.segments_emitted,"
            " (SELECT count(*) FROM segments g WHERE g.session_id = s.id)"
            " FROM sessions s WHERE s.id = ANY(%s::uuid[])",
            sessions,
        )
        assert len(rows) == len(sessions)
        for _, code, emitted, stored in rows:
            assert code == 1001 and emitted is not None and stored == emitted
        assert sum(row[2] for row in rows) > 0  # segments were cut, and all of them are stored
        # three instances' recorders, a killed one's sessions closed by another: the Painel's
        # hourly sums of the sessions still match what was written (this test has no providers)
        assert sums_mismatch_at(database_url) == 0

        async def all_on_last() -> bool:
            served = await _sessions(servers[last])
            return all(served.get(d.balcao_id, {}).get("instance") == last for d in devices)

        await _until(all_on_last, 10, "every device served by the last instance")
        for device in devices:
            device.stop = True
        nursery.cancel_scope.cancel()


async def _listed_on(server: ServerProcess, balcao_id: str, instance: str) -> bool:
    response = await server.admin("GET", f"/admin/sessions/{balcao_id}")
    return response.status_code == 200 and response.json()["instance"] == instance
