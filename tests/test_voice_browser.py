"""An attendant's voice enrolled from the Cadastro page in a real browser: a headless Chromium
whose microphone plays the enrollment fixture (Chromium's fake capture device) records the
attendant reading, sends the recording, and shows the verdict; the voiceprint made that way names
her turn of the speaker dialogue and not the customer's; the voice is erased after being asked
twice. Also: a recording cancelled sends nothing; a file too short gets the server's message; a
browser whose MediaRecorder has no WebM sends a WAV made from the microphone's samples. The page
with the panel open is photographed (``tests/artifacts/admin-app/cadastro-voz.png``) and must not
scroll sideways at 390 px.

Needs Debian's ``chromium`` (skipped outside CI without it, failed under CI)."""

from __future__ import annotations

import json
import wave
from pathlib import Path
from typing import Any

import httpx
import trio

from balto.speaker.enroll import decode
from balto.speaker.features import RATE, embed
from balto.speaker.identify import Enrolled, identify
from balto.speaker.voiceprint import Scorer, Voiceprint
from tests.browser import (
    Page,
    chromium,
    fake_microphone,
    microphone_wav,
    needs_chromium,
    open_page,
    photograph,
    sign_in,
)
from tests.conftest import ADMIN, FIXTURES, query, start_server

pytestmark = needs_chromium
# The page's fetch, watched: the content type of every voice upload (which recorder was used).
WATCH_UPLOADS = """
window.__uploads = [];
const __fetch = window.fetch;
window.fetch = (url, init) => {
  if (init && init.method === "PUT") window.__uploads.push(init.headers["Content-Type"]);
  return __fetch(url, init);
};
"""
NO_WEBM = "MediaRecorder.isTypeSupported = () => false;"


def _short_wav(path: Path, seconds: float) -> Path:
    pcm = decode((FIXTURES / "speaker_enroll.webm").read_bytes(), "matroska")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(pcm[: int(seconds * RATE) * 2])
    return path


def _dialogue_labels(print_bytes: bytes) -> list[str | None]:
    """Who the browser-made voiceprint says spoke each turn of the speaker dialogue."""
    pcm = decode((FIXTURES / "speaker_dialogue.webm").read_bytes(), "matroska")
    turns = json.loads((FIXTURES / "speaker_dialogue.json").read_text())["turns"]
    ana = Enrolled("ana", "Ana", Scorer.of(Voiceprint.from_bytes(print_bytes)))
    labels = []
    for turn in turns:
        start, end = (int(t * RATE) * 2 for t in turn["interval"])
        labels.append(identify(embed(pcm[start:end]), [ana]).falante)
    return labels


async def _text(page: Page, element_id: str) -> str:
    text: str = await page.evaluate(f'document.getElementById("{element_id}").textContent')
    return text


async def _open_panel(page: Page, base_url: str, cliente_id: str, ana: str) -> None:
    await page.goto(f"{base_url}/admin/cadastro?cliente_id={cliente_id}")
    row = f'tr[data-atendente="{ana}"]'
    await page.wait_for(f"document.querySelector('{row}') !== null", timeout_s=10)
    await page.click(f'{row} button[data-action="voz"]')
    await page.wait_for('!document.getElementById("voz").hidden', timeout_s=5)


async def _record(page: Page, seconds: int) -> str:
    """Press Gravar, wait until the page's timer shows `seconds`, stop; the verdict shown."""
    await page.click("#voz-iniciar")
    await page.wait_for('!document.getElementById("voz-parar").hidden', timeout_s=10)
    # the page will not send less than the server takes
    assert await page.evaluate('document.getElementById("voz-parar").disabled') is True
    # the meter hears the microphone (-30 dBFS and up)
    await page.wait_for('document.getElementById("voz-nivel").value > 0.5', timeout_s=10)
    timer = 'parseInt(document.getElementById("voz-tempo").textContent)'
    await page.wait_for(f"{timer} >= {seconds}", timeout_s=seconds + 15, every_s=0.25)
    assert await page.evaluate('document.getElementById("voz-parar").disabled') is False
    await page.click("#voz-parar")
    done = 'document.getElementById("voz-resultado").textContent.includes("cadastrada")'
    await page.wait_for(done, timeout_s=30)
    return await _text(page, "voz-resultado")


async def _voices(http: httpx.AsyncClient, cliente_id: str) -> dict[str, Any]:
    items = await http.get("/admin/atendentes", headers=ADMIN, params={"cliente_id": cliente_id})
    return {a["nome"]: a["voz"] for a in items.json()["items"]}


async def test_an_admin_records_an_attendants_voice_in_the_browser(
    nursery: trio.Nursery, database_url: str, tmp_path: Path
) -> None:
    executable = chromium()
    running = await start_server(nursery, database_url)
    microphone = microphone_wav(FIXTURES / "speaker_enroll.webm", tmp_path / "microfone.wav")
    short = _short_wav(tmp_path / "curta.wav", 8.0)
    async with httpx.AsyncClient(base_url=running.base_url, timeout=30) as http:
        body = {"email": "a@rede.com", "razao_social": "Rede", "telefone": "11999998888"}
        codigo = (await http.post("/cadastro/cliente", headers=ADMIN, json=body)).json()["codigo"]
        clientes = (await http.get("/admin/clientes", headers=ADMIN)).json()["items"]
        (cliente_id,) = [c["id"] for c in clientes if c["codigo"] == codigo]
        ids = {}
        for nome in ("Ana", "Bia"):
            made = await http.post(
                "/admin/atendentes",
                headers=ADMIN,
                json={"cliente_id": cliente_id, "nome": nome, "consentimento": True},
            )
            ids[nome] = made.json()["id"]
        assert await _voices(http, cliente_id) == {"Ana": None, "Bia": None}

        async with open_page(
            executable, tmp_path / "profile", width=1366, height=900,
            extra_args=fake_microphone(microphone),
        ) as page:  # fmt: skip
            await page.call("Page.enable")
            await page.call("Page.addScriptToEvaluateOnNewDocument", source=WATCH_UPLOADS)
            await sign_in(page, running.base_url)
            await _open_panel(page, running.base_url, cliente_id, ids["Ana"])
            assert "sem voz cadastrada" in await _text(page, "voz-situacao")
            assert await page.evaluate('document.getElementById("voz-apagar").hidden') is True

            # cancelled: nothing is sent
            await page.click("#voz-iniciar")
            await page.wait_for('!document.getElementById("voz-cancelar").hidden', timeout_s=10)
            await trio.sleep(1.0)
            await page.click("#voz-cancelar")
            assert "nada foi enviado" in await _text(page, "voz-resultado")
            assert await page.evaluate("window.__uploads") == []

            said = await _record(page, 25)
            assert said.startswith("Ana: voz cadastrada") and "(qualidade " in said, said
            assert await page.evaluate("window.__uploads") == ["audio/webm"]
            voz = (await _voices(http, cliente_id))["Ana"]
            assert voz["atual"] is True and voz["qualidade"] in ("boa", "aceitavel")
            assert 8 <= voz["fala_s"] <= 26, voz
            assert "cadastrada em" in await _text(page, "voz-situacao")
            row = f"document.querySelector('tr[data-atendente=\"{ids['Ana']}\"]').textContent"
            await page.wait_for(f"{row}.includes('qualidade')", timeout_s=5)
            ((print_bytes,),) = query(
                database_url, "SELECT print FROM voiceprints WHERE atendente_id = %s", ids["Ana"]
            )
            assert _dialogue_labels(bytes(print_bytes)) == ["atendente", "cliente"]
            await photograph(page, "cadastro-voz")  # with an accessibility check
            width = await page.at_phone_width()
            assert width[0] <= width[1] == 390, width
            await page.call("Emulation.clearDeviceMetricsOverride")

            # erased, after being asked twice
            await page.click("#voz-apagar button")
            assert await _voices(http, cliente_id) != {"Ana": None, "Bia": None}
            await page.click("#voz-apagar button:nth-of-type(2)")  # Cancelar
            await page.click("#voz-apagar button")
            await page.click("#voz-apagar button:nth-of-type(1)")  # Sim, apagar
            await page.wait_for(
                'document.getElementById("voz-resultado").textContent.includes("apagada")',
                timeout_s=10,
            )
            assert await _voices(http, cliente_id) == {"Ana": None, "Bia": None}
            assert query(database_url, "SELECT count(*) FROM voiceprints") == [(0,)]

            # a file too short: the server's own words
            nodes = await page.call("DOM.getDocument")
            found = await page.call(
                "DOM.querySelector", nodeId=nodes["root"]["nodeId"], selector="#voz-arquivo"
            )
            await page.call("DOM.setFileInputFiles", nodeId=found["nodeId"], files=[str(short)])
            await page.click("#voz-arquivo-envio button")
            await page.wait_for(
                'document.getElementById("voz-resultado").className === "erro"', timeout_s=15
            )
            refused = await _text(page, "voz-resultado")
            assert "não foi cadastrada" in refused and "a gravação tem 8,0 s" in refused, refused

        # a browser whose MediaRecorder cannot make WebM: a WAV of the microphone's samples
        async with open_page(
            executable, tmp_path / "profile2", extra_args=fake_microphone(microphone)
        ) as page:
            await page.call("Page.enable")
            await page.call("Page.addScriptToEvaluateOnNewDocument", source=WATCH_UPLOADS + NO_WEBM)
            await sign_in(page, running.base_url)
            await _open_panel(page, running.base_url, cliente_id, ids["Bia"])
            said = await _record(page, 16)
            assert said.startswith("Bia: voz cadastrada"), said
            assert await page.evaluate("window.__uploads") == ["audio/wav"]
        voz = (await _voices(http, cliente_id))["Bia"]
        assert voz is not None and voz["fala_s"] >= 8
    actions = query(database_url, "SELECT action FROM admin_audit ORDER BY at")
    assert [a for (a,) in actions if "voz" in a] == ["enroll_voz", "delete_voz", "enroll_voz"]
