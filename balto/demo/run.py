"""Run the demo: provider fakes on loopback, the server, and one counter streaming in a loop.

One `trio.run`: the fakes (ElevenLabs Scribe answering from the bundled dialogue, an
OpenAI-compatible chat answering with catalog products) serve on ephemeral loopback ports; the
server runs as ``balto serve`` would, with ``BALTO_DEMO=1``, its own data directory
(``<BALTO_DATA_DIR>/demo``, embedded PostgreSQL: demo data never mixes with real data) and the
fakes as its only providers; a simulated counter registers itself through the ordinary cadastro
routes and streams ``dialogue.webm`` in real time, one session per pass, for as long as the demo
runs. SIGINT or SIGTERM stops the counter, then the server (gracefully), then the fakes.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import signal
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx
import trio
from trio_websocket import HandshakeError

from balto.close_codes import CloseCode
from balto.config import Settings
from balto.demo.dialogue import AUDIO, DialogueScribe, advise, load_turns
from balto.device import stream_file
from balto.errors import BaltoError
from balto.fakes.openai_compat import FakeOpenAICompat
from balto.fakes.wiring import provider_env

log = logging.getLogger("balto.demo")

STT_KEY = "demo-elevenlabs-key"
LLM_KEY = "demo-openai-key"
CLIENTE = {
    "email": "demo@balto.example",
    "razao_social": "Farmácia Demonstração",
    "telefone": "11900000000",
}
BALCAO = "Balcão Demonstração 01"
LOJA = "Loja Centro"
GESTORA = "Gestora da Demonstração"
ATENDENTE = "Ana (demonstração)"
PAUSE_S = 3.0  # between two passes of the dialogue (each pass is a session)
LINGER_S = 3.0  # after the audio, for the last transcripts and advice
# Whatever the environment says about real providers or a real database, the demo ignores it.
_REPLACED = (
    "BALTO_DATABASE_URL",
    "ELEVENLABS_API_KEY",
    "ELEVENLABS_BASE_URL",
    "ASSEMBLYAI_API_KEY",
    "ASSEMBLYAI_BASE_URL",
    "XAI_API_KEY",
    "XAI_BASE_URL",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "OPENAI_STT_API_KEY",
    "OPENAI_STT_BASE_URL",
    "BALTO_STT",
    "BALTO_LLM",
    "BALTO_STT_COMPARE_SHARE",
)


def demo_env(base: Mapping[str, str], fakes: Mapping[str, str]) -> dict[str, str]:
    """The server's environment: `base` without real providers or database, plus the fakes."""
    env = {name: value for name, value in base.items() if name not in _REPLACED}
    env.update(fakes)
    env["BALTO_DEMO"] = "1"
    env["BALTO_DATA_DIR"] = str(Path(base.get("BALTO_DATA_DIR") or "var") / "demo")
    env["BALTO_LLM"] = "openai,catalog"
    # One counter: worker processes for its VAD would only slow the first start down.
    env.setdefault("BALTO_VAD_WORKERS", "0")
    if not env.get("ADMIN_SECRET"):
        env["ADMIN_SECRET"] = secrets.token_urlsafe(18)
    return env


async def _register(http: httpx.AsyncClient, admin_secret: str, key_file: Path) -> str:
    """Register the demo cliente and its balcão as an admin and a device would; keep the key."""
    headers = {"Authorization": f"Bearer {admin_secret}"}
    cliente = await http.post("/cadastro/cliente", headers=headers, json=CLIENTE)
    cliente.raise_for_status()
    codigo = cliente.json()["codigo"]
    # the chain's own account, to try what a chain sees (its cliente only)
    cliente_id = (await http.get("/admin/clientes", headers=headers)).json()["items"][0]["id"]
    senha = secrets.token_urlsafe(12)
    email = f"gestora.{codigo}@balto.example"  # one per demo cliente: a kept database has others
    gestor = await http.post(
        f"/admin/clientes/{cliente_id}/gestores",
        headers=headers,
        json={"nome": GESTORA, "email": email, "senha": senha},
    )
    gestor.raise_for_status()
    # the counter stands in a store, linked with the store's own code, as a store's manager would
    loja = await http.post(
        f"/admin/clientes/{cliente_id}/lojas", headers=headers, json={"nome": LOJA}
    )
    if loja.status_code == 201:  # a kept database has it already: the chain's code then
        lojas = await http.get(f"/admin/clientes/{cliente_id}/lojas", headers=headers)
        found = [row for row in lojas.json()["items"] if row["id"] == loja.json()["id"]]
        codigo = found[0]["codigo"] or codigo
    balcao = await http.post(
        "/cadastro/balcao", json={"nome_balcao": BALCAO, "user_codigo": codigo}
    )
    balcao.raise_for_status()
    body: dict[str, Any] = {**balcao.json(), "gestor": {"email": email, "senha": senha}}
    path = trio.Path(key_file)
    await path.write_text(json.dumps(body), encoding="utf-8")
    await path.chmod(0o600)
    return str(body["api_key"])


def _show_gestor(saved: dict[str, Any]) -> None:
    gestor = saved.get("gestor")  # a data directory from before gestores has none
    if gestor:
        print(
            f"  Gestor:       {gestor['email']} / {gestor['senha']} (the demo chain's own"
            " account: sign in with e-mail and password, see its cliente only)",
            flush=True,
        )


def _show(at: float, frame: dict[str, object]) -> None:
    what = {"recomendar": "suggestion", "alerta": "red-flag alert"}.get(str(frame.get("comando")))
    if what is not None:
        name = frame.get("produto") or frame.get("motivo")
        print(f"demo: {what} {name!r} ({at:.0f} s into the pass)", flush=True)


async def run_counter(base_url: str, admin_secret: str, data_dir: Path) -> None:
    """The simulated counter: stream the dialogue, one session per pass, until cancelled."""
    ws_url = base_url.replace("http", "ws", 1) + "/ws"
    key_file = data_dir / "demo-balcao.json"
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as http:
        api_key = ""
        if await trio.Path(key_file).exists():
            saved = json.loads(await trio.Path(key_file).read_text(encoding="utf-8"))
            api_key = str(saved["api_key"])
            _show_gestor(saved)
        while True:
            try:
                if not api_key:
                    api_key = await _register(http, admin_secret, key_file)
                    _show_gestor(json.loads(await trio.Path(key_file).read_text("utf-8")))
                run = await stream_file(
                    ws_url, api_key, AUDIO, linger_s=LINGER_S, on_frame=_show, atendente=ATENDENTE
                )
            except (OSError, BaltoError, HandshakeError, httpx.HTTPError) as exc:
                log.warning("demo counter: %s; trying again in %.0f s", exc, PAUSE_S)
            else:
                if run.close_code == CloseCode.INVALID_KEY:  # a data directory from elsewhere
                    api_key = ""
                    continue
            await trio.sleep(PAUSE_S)


def _banner(base_url: str, settings: Settings, generated: bool) -> str:
    secret = settings.admin_secret if generated else "(the ADMIN_SECRET you set)"
    return (
        "\nBalto demo: loopback provider fakes and one simulated counter; no real data.\n"
        f"  Admin:        {base_url}/admin/ao-vivo (sign in with the secret below)\n"
        f"  Admin secret: {secret}\n"
        f"  Data:         {settings.data_dir} (delete it to start over)\n"
        "  A suggestion and a red-flag alert show up within a minute. Stop with Ctrl+C.\n"
    )


async def run_demo(base_env: Mapping[str, str] | None = None) -> None:
    """Run the demo until SIGINT or SIGTERM (`base_env`: default ``os.environ``)."""
    from supervisors.root import Running, run_root

    base = dict(os.environ if base_env is None else base_env)
    stt = DialogueScribe(load_turns(), api_key=STT_KEY)
    llm = FakeOpenAICompat("openai", api_key=LLM_KEY)
    llm.respond = advise
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async with trio.open_nursery() as fakes:
            fake_env = await provider_env(fakes, stt=stt, llm=llm)
            settings = Settings.from_env(demo_env(base, fake_env))
            settings.data_dir.mkdir(parents=True, exist_ok=True)
            async with trio.open_nursery() as nursery:

                async def root(task_status: trio.TaskStatus[Running]) -> None:
                    await run_root(settings, freeze_gc=True, task_status=task_status)
                    nursery.cancel_scope.cancel()  # the server is done: so is the demo

                running: Running = await nursery.start(root)
                secret = settings.admin_secret
                assert secret is not None  # demo_env always sets one
                print(_banner(running.base_url, settings, not base.get("ADMIN_SECRET")), flush=True)
                counter = trio.CancelScope()

                async def simulate() -> None:
                    with counter:
                        await run_counter(running.base_url, secret, settings.data_dir)

                nursery.start_soon(simulate)
                async for signum in signals:
                    log.info("received %s", signal.Signals(signum).name)
                    if running.services.going_away.is_set():
                        log.warning("second signal: stopping now")
                        nursery.cancel_scope.cancel()
                        break
                    counter.cancel()
                    running.stop()
            fakes.cancel_scope.cancel()
