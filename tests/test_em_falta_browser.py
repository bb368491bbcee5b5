"""Products out of stock in a real browser, end to end: on the counter page (Chromium's fake
microphone plays a customer with a headache) the attendant marks the suggestion *Em falta*; the
mark is stored for the chain; Cadastro lists it with who marked it, puts it back in stock with
*Voltou ao estoque*, and marks another product at a store typed as people write it. Every state
is checked with axe.

Needs Debian's ``chromium`` (skipped outside CI without it, failed under CI)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import trio

from tests.browser import (
    accessible,
    chromium,
    fake_microphone,
    microphone_wav,
    needs_chromium,
    open_counter,
    open_page,
    photograph,
    sign_in,
)
from tests.conftest import ADMIN, FIXTURES, query, register_balcao, start_server
from tests.fakes.elevenlabs import FakeElevenLabs
from tests.fakes.wiring import provider_env

pytestmark = needs_chromium
SAID = ["Boa tarde, eu tô com uma dor de cabeça forte desde ontem.", "Obrigado."]
ROWS = 'Array.from(document.querySelectorAll("#em-falta tbody tr")).map(tr => tr.textContent)'


async def test_the_attendant_marks_a_suggestion_em_falta_and_cadastro_puts_it_back(
    nursery: trio.Nursery, database_url: str, tmp_path: Path
) -> None:
    executable = chromium()
    stt = FakeElevenLabs(transcripts=SAID, default_text="Obrigado.")
    running = await start_server(nursery, database_url, **await provider_env(nursery, stt=stt))
    api_key, balcao_id = await register_balcao(running.base_url, "Caixa 2")
    [(cliente,)] = query(database_url, "SELECT id::text FROM clientes")
    async with httpx.AsyncClient(base_url=running.base_url) as http:
        made = await http.post(
            f"/admin/clientes/{cliente}/lojas", json={"nome": "Loja Centro"}, headers=ADMIN
        )
        loja = made.json()["id"]
    microphone = microphone_wav(FIXTURES / "two_utterances.wav", tmp_path / "microfone.wav")
    async with open_page(
        executable, tmp_path / "profile", width=1366, height=900,
        extra_args=fake_microphone(microphone),
    ) as page:  # fmt: skip
        await open_counter(page, running.base_url, api_key, balcao_id, "Caixa 2")
        await page.click("#iniciar")
        card = 'document.querySelector("#sugestoes li")'
        await page.wait_for(
            f"{card} && {card}.querySelectorAll('button').length === 3", timeout_s=40
        )
        produto = await page.evaluate(f'{card}.querySelector(".produto").textContent')
        buttons = f'Array.from({card}.querySelectorAll("button"))'
        await page.evaluate(f'{buttons}.find(b => b.textContent === "Em falta").click()')
        assert "Marcado em falta" in await page.wait_for(
            f'(t => t.includes("Marcado em falta") ? t : null)({card}.textContent)', timeout_s=5
        )
        await accessible(page, "balcao-em-falta")
        marked = "SELECT produto, origem, por FROM produtos_em_falta"
        with trio.fail_after(10):
            while not (rows := query(database_url, marked)):  # noqa: ASYNC110 - the database
                await trio.sleep(0.1)
        assert rows == [(produto, "balcao", "balcão Caixa 2")]
        await page.click("#pausar")

        await sign_in(page, running.base_url)
        # the conversation shows the suggestion as found missing at the counter
        [(session_id,)] = query(database_url, "SELECT id::text FROM sessions")
        await page.goto(f"{running.base_url}/admin/historico/{session_id}")
        marked = 'document.querySelector(".ev-recomendacao .selo.recusada")'
        said = await page.wait_for(f"{marked} && {marked}.textContent", timeout_s=10)
        assert said.startswith("em falta no balcão (marcado às "), said
        await accessible(page, "conversa-em-falta")
        await page.goto(f"{running.base_url}/admin/cadastro?cliente_id={cliente}")
        listed = await page.wait_for(
            f"(r => r.length && r[0].includes({json.dumps(produto)}) ? r : null)({ROWS})",
            timeout_s=10,
        )
        assert "Toda a rede" in listed[0] and "atendente, balcão Caixa 2" in listed[0], listed
        assert "vale até" in listed[0], listed  # an attendant's mark runs out by itself
        await accessible(page, "cadastro-em-falta")
        await page.click("#em-falta tbody tr button")  # Voltou ao estoque
        await page.wait_for(f'{ROWS}[0].includes("Nenhum produto em falta")', timeout_s=10)
        assert query(database_url, "SELECT count(*) FROM produtos_em_falta") == [(0,)]
        # another one, at a store, spelled as people type it
        await page.evaluate(
            'const f = document.getElementById("em-falta-form");'
            f' f.produto.value = "dorflex"; f.loja_id.value = {json.dumps(loja)};'
        )
        assert await page.evaluate('document.getElementById("em-falta-onde").hidden') is False
        await page.click("#em-falta-form button[type=submit]")
        row = await page.wait_for(
            f'(r => r[0].startsWith("Dorflex") ? r[0] : null)({ROWS})', timeout_s=10
        )
        assert "Loja Centro" in row and "Operador" in row, row
        assert "vale até" not in row, row  # an admin's lasts until taken back
        said = await page.evaluate('document.getElementById("resultado").textContent')
        assert said.startswith("“Dorflex” marcado em falta na loja “Loja Centro”"), said
        assert query(database_url, "SELECT produto, loja_id::text FROM produtos_em_falta") == [
            ("Dorflex", loja)
        ]
        await page.evaluate('document.getElementById("em-falta-bloco").scrollIntoView()')
        await photograph(page, "cadastro-em-falta")  # with an accessibility check
