"""``balto demo`` as a newcomer runs it (issue 15): a real process on a free port that, within a
minute, has a demo suggestion and a red-flag alert in the history API (and an export marked as
demo); its own data directory and embedded database whatever the environment says; a clean stop
on SIGTERM with nothing left over."""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import trio

from balto.store.export import DEMO_BANNER
from tests.server_process import free_port

DIALOGUE = "Bom dia, eu estou com uma dor de cabeça muito forte desde ontem."


def _processes_mentioning(text: str) -> list[str]:
    """Command lines of live processes that mention `text` (read from /proc)."""
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if text in cmdline:
            found.append(f"{entry.name}: {cmdline}")
    return found


async def _items(http: httpx.AsyncClient, path: str) -> tuple[list[dict[str, Any]], bool]:
    response = await http.get(path)
    assert response.status_code == 200, response.text
    body = response.json()
    return body["items"], body["demo"]


async def test_balto_demo_shows_a_suggestion_and_an_alert_within_a_minute(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "PORT": str(port),
        "BALTO_DATA_DIR": str(tmp_path / "var"),
        # what a real setup might have: the demo must use none of it
        "BALTO_DATABASE_URL": "postgresql://real:secret@192.0.2.1:5432/producao",
        "ELEVENLABS_API_KEY": "a-real-key",
        "ELEVENLABS_BASE_URL": "http://192.0.2.1:9",
        "OPENAI_API_KEY": "another-real-key",
    }
    env.pop("ADMIN_SECRET", None)
    process = await trio.lowlevel.open_process(
        [sys.executable, "-m", "balto", "demo"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert process.stdout is not None
    stdout = process.stdout
    printed = bytearray()
    try:
        with trio.fail_after(60):  # the acceptance bound, from the command to both events
            while b"Admin secret:" not in printed or not printed.endswith(b"\n"):
                chunk = await stdout.receive_some(4096)
                assert chunk, f"balto demo exited: {printed.decode()}"
                printed.extend(chunk)
            text = printed.decode()
            [secret] = re.findall(r"Admin secret: (\S+)", text)
            assert f"Admin:        http://127.0.0.1:{port}/admin" in text
            assert f"{tmp_path / 'var' / 'demo'}" in text
            headers = {"Authorization": f"Bearer {secret}"}
            base = f"http://127.0.0.1:{port}"
            async with httpx.AsyncClient(base_url=base, headers=headers, timeout=10) as http:
                while True:
                    recs, demo = await _items(http, "/admin/history/recommendations")
                    alerts, _ = await _items(http, "/admin/history/alerts")
                    if recs and alerts:
                        break
                    await trio.sleep(0.5)
                segments, _ = await _items(http, "/admin/history/segments")
                export = await http.get("/api/export/xlsx")
        assert demo is True
        [rec] = recs[:1]
        assert rec["produto"] == "Dipirona Monoidratada 500 mg"
        assert rec["razao_social"] == "Farmácia Demonstração"
        assert rec["atendente"] == "Ana (demonstração)" and rec["source"] == "openai"
        assert DIALOGUE in rec["transcricao_base"]
        assert {"dor_no_peito", "falta_de_ar"} <= set(alerts[0]["sinais"])
        assert DIALOGUE in [segment["transcript"] for segment in segments]
        assert (tmp_path / "var" / "demo" / "pg").is_dir()  # its own embedded database
        assert export.status_code == 200
        book = openpyxl.load_workbook(io.BytesIO(export.content))
        assert all(sheet["A1"].value == DEMO_BANNER for sheet in book)
        assert book["Alertas"].max_row >= 3  # banner, header, the alert

        # the demo chain's own account, printed once the demo registered it, signs in
        with trio.fail_after(10):
            while b"Gestor:" not in printed or not printed.endswith(b"\n"):
                chunk = await stdout.receive_some(4096)
                assert chunk, f"balto demo exited: {printed.decode()}"
                printed.extend(chunk)
        [(email, senha)] = re.findall(r"Gestor: +(\S+) / (\S+)", printed.decode())
        async with httpx.AsyncClient(base_url=base, timeout=10) as browser:
            signed = await browser.post(
                "/entrar", data={"email": email, "segredo": senha}, headers={"Origin": base}
            )
            assert signed.status_code == 303
            conta = (await browser.get("/admin/conta")).json()
            assert conta["papel"] == "gestor" and conta["razao_social"] == "Farmácia Demonstração"

        process.send_signal(signal.SIGTERM)
        with trio.fail_after(30):
            assert await process.wait() == 0
    finally:
        if process.returncode is None:
            process.kill()
            with trio.CancelScope(shield=True):
                await process.wait()
    assert _processes_mentioning(str(tmp_path)) == []  # no PostgreSQL, worker or ffmpeg left
