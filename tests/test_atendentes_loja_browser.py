"""Attendants of one store in a real browser: the operator, on a chain with "Loja Centro" and
"Loja Norte", adds Ana in Loja Centro from the Cadastro form (its Loja select offers "Toda a rede"
and both stores) and the Atendentes table names her store, and "Toda a rede" for an attendant of
the whole chain, Caio, whom the operator then moves to Loja Centro from his row. Loja Norte's
gestor signs in and finds, on its Cadastro page, the Atendentes panel with none of the chain's or
Centro's attendants and no Loja select or column (it has one store); it adds Bia with her
consent, who is saved in Loja Norte, enrolls her voice from a file in the voice panel, and
removes her (her voiceprint goes with her), with no request of the page refused. Photographed in
``tests/artifacts/admin-app/atendentes-loja-*.png``.

Needs Debian's ``chromium`` (skipped outside CI without it, failed under CI)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import trio

from tests.admin_seed import seed
from tests.browser import (
    SIGNED_OUT,
    Page,
    chromium,
    needs_chromium,
    open_page,
    photograph,
    settle,
    sign_in,
)
from tests.conftest import ADMIN, FIXTURES, query, start_server
from tests.gestor_accounts import create_gestor

pytestmark = needs_chromium
EMAIL = "nina@rede1.com.br"
PASSWORD = "senha-da-loja-norte"
# every request the page made that was refused (the document itself included)
REFUSED = (
    '[...performance.getEntriesByType("navigation"), ...performance.getEntriesByType("resource")]'
    '.filter(e => e.responseStatus >= 400).map(e => e.responseStatus + " " + e.name)'
)
STORE_FIELD = "#novo-atendente [name=loja_id]"


def _cells(row: str) -> str:
    """JavaScript: the texts of the cells of the table row `row` (a selector); a cell holding a
    select reads as its chosen option."""
    return (
        f"Array.from(document.querySelector({json.dumps(row)}).cells).map(c => {{"
        " const s = c.querySelector('select');"
        " return s ? s.selectedOptions[0].textContent : c.textContent; })"
    )


async def _add(page: Page, nome: str) -> None:
    """Type the attendant's name, tick the consent, press Adicionar."""
    await page.fill("#novo-atendente [name=nome]", nome)
    await page.evaluate(
        'document.querySelector("#novo-atendente [name=consentimento]").checked = true'
    )
    await page.click('#novo-atendente button[type="submit"]')
    await settle(page, f'document.getElementById("resultado").textContent.includes("{nome}")')


async def test_a_store_registers_its_own_attendants(
    nursery: trio.Nursery, database_url: str, tmp_path: Path
) -> None:
    executable = chromium()
    running = await start_server(nursery, database_url)
    base = running.base_url
    c1 = seed(database_url)["c1"]
    async with httpx.AsyncClient(base_url=base) as http:
        lojas = {}
        for nome in ("Loja Centro", "Loja Norte"):
            made = await http.post(
                f"/admin/clientes/{c1}/lojas", json={"nome": nome}, headers=ADMIN
            )
            assert made.status_code == 201, made.text
            lojas[nome] = made.json()["id"]
        centro, norte = lojas["Loja Centro"], lojas["Loja Norte"]
        caio = await http.post(
            "/admin/atendentes",
            headers=ADMIN,
            json={"cliente_id": c1, "nome": "Caio", "consentimento": True},
        )
        assert caio.status_code == 201, caio.text
    async with open_page(executable, tmp_path / "profile", width=1366, height=900) as page:
        await sign_in(page, base)
        # 1. the operator: Ana in Loja Centro, chosen in the form; the table names the store
        await page.goto(f"{base}/admin/cadastro?cliente_id={c1}")
        await settle(page, '!document.getElementById("do-cliente").hidden')
        assert await page.shown("atendentes-loja")
        assert await page.evaluate(
            f"!document.querySelector({json.dumps(STORE_FIELD)}).closest('label').hidden"
        )
        options = f"Array.from(document.querySelector({json.dumps(STORE_FIELD)}).options)"
        assert await page.evaluate(f"{options}.map(o => [o.textContent, o.value])") == [
            ["Toda a rede", ""], ["Loja Centro", centro], ["Loja Norte", norte]
        ]  # fmt: skip
        caio_row = f'#atendentes tr[data-atendente="{caio.json()["id"]}"]'
        assert (await page.evaluate(_cells(caio_row)))[:2] == ["Caio", "Toda a rede"]
        await page.evaluate(f"document.querySelector({json.dumps(STORE_FIELD)}).value = '{centro}'")
        await _add(page, "Ana")
        assert await page.text("#resultado") == "Ana adicionado(a), na loja “Loja Centro”."
        [(ana,)] = query(database_url, "SELECT id::text FROM atendentes WHERE nome = 'Ana'")
        ana_row = f'#atendentes tr[data-atendente="{ana}"]'
        await settle(page, f"document.querySelector({json.dumps(ana_row)})")
        assert (await page.evaluate(_cells(ana_row)))[:2] == ["Ana", "Loja Centro"]
        assert query(database_url, "SELECT loja_id::text FROM atendentes WHERE id = %s", ana) == [
            (centro,)
        ]
        # the form is ready for the next one: the whole chain again
        assert await page.evaluate(f"document.querySelector({json.dumps(STORE_FIELD)}).value") == ""
        # Caio moves to Loja Centro from his row's Loja select, his voice with him
        caio_store = f'{caio_row} select[data-action="loja-atendente"]'
        await page.evaluate(
            f"(s => {{ s.value = {json.dumps(centro)}; s.dispatchEvent(new Event('change')); }})"
            f"(document.querySelector({json.dumps(caio_store)}))"
        )
        await settle(page, 'document.getElementById("resultado").textContent.includes("Caio")')
        assert (
            await page.text("#resultado")
            == "Caio passou para a loja “Loja Centro”; sua voz vai junto."
        )
        assert query(
            database_url, "SELECT loja_id::text FROM atendentes WHERE id = %s", caio.json()["id"]
        ) == [(centro,)]
        assert (await page.evaluate(_cells(caio_row)))[:2] == ["Caio", "Loja Centro"]
        await photograph(page, "atendentes-loja-operador")

        # 2. Loja Norte's gestor: its store's attendants only (none yet), no store to choose
        async with httpx.AsyncClient(base_url=base) as http:
            created = await create_gestor(
                http, c1, nome="Nina Gerente", email=EMAIL, senha=PASSWORD, loja_id=norte
            )
            assert created.status_code == 201, created.text
        await page.click(".sair button")
        await settle(page, SIGNED_OUT)
        await page.fill("#email", EMAIL)
        await page.fill("#segredo", PASSWORD)
        await page.click("#entrar button")
        await settle(page, 'location.pathname === "/admin/ao-vivo"')
        await page.goto(f"{base}/admin/cadastro")
        await settle(page, '!document.getElementById("do-cliente").hidden')
        assert await page.text("#cliente-nome") == "Loja Norte"
        assert await page.shown("atendentes-bloco") and await page.shown("novo-atendente")
        assert await page.text("#atendentes tbody") == "Nenhum atendente nesta loja."
        assert not await page.shown("atendentes-loja")
        assert await page.evaluate(
            f"document.querySelector({json.dumps(STORE_FIELD)}).closest('label').hidden"
        )
        for panel in ("clientes-bloco", "lojas-bloco", "rede-bloco", "rede-vinculo", "chaves"):
            assert not await page.shown(panel), panel
        assert await page.shown("minha-loja-bloco") and await page.shown("balcoes")

        # Bia, with her consent: listed, and saved in Loja Norte
        await _add(page, "Bia")
        assert await page.text("#resultado") == "Bia adicionado(a)."
        [(bia, where)] = query(
            database_url, "SELECT id::text, loja_id::text FROM atendentes WHERE nome = 'Bia'"
        )
        assert where == norte
        bia_row = f'#atendentes tr[data-atendente="{bia}"]'
        await settle(page, f"document.querySelector({json.dumps(bia_row)})")
        assert await page.evaluate('document.querySelectorAll("#atendentes tbody tr").length') == 1
        cells = await page.evaluate(_cells(bia_row))
        assert len(cells) == 4 and cells[0] == "Bia" and cells[2] == "sem voz cadastrada", cells

        # her voice, from a file in the voice panel
        await page.click(f'{bia_row} button[data-action="voz"]')
        await settle(page, '!document.getElementById("voz").hidden')
        assert await page.text("#voz-nome") == "Bia"
        assert await page.text("#voz-situacao") == "sem voz cadastrada"
        await page.set_files("#voz-arquivo", FIXTURES / "speaker_enroll.webm")
        await page.click('#voz-arquivo-envio button[type="submit"]')
        verdict = 'document.getElementById("voz-resultado").textContent'
        said = await settle(page, f'!{verdict}.startsWith("Enviando") && {verdict}', timeout_s=30)
        assert said.startswith("Bia: voz cadastrada"), said
        voice_cell = f"document.querySelector({json.dumps(bia_row)}).cells[2].textContent"
        await settle(page, f'{voice_cell}.includes("qualidade")')
        assert query(
            database_url, "SELECT count(*) FROM voiceprints WHERE atendente_id = %s", bia
        ) == [(1,)]
        await photograph(page, "atendentes-loja-gestor")

        # removed, asked twice (her voiceprint goes with her); the panel closes
        button = f'{bia_row} [data-action="remover-atendente"]'
        await page.click(button)
        assert await page.text(button) == "Sim, remover"
        assert query(
            database_url, "SELECT removed_at IS NULL FROM atendentes WHERE id = %s", bia
        ) == [(True,)]  # the first click only asks
        await page.click(button)
        await settle(
            page, 'document.getElementById("resultado").textContent.includes("Bia removido(a)")'
        )
        await settle(
            page, 'document.querySelector("#atendentes tbody").textContent.includes("Nenhum")'
        )
        assert not await page.shown("voz")
        live = "SELECT nome FROM atendentes WHERE removed_at IS NULL ORDER BY nome"
        assert query(database_url, live) == [("Ana",), ("Caio",)]
        assert query(database_url, "SELECT count(*) FROM voiceprints") == [(0,)]
        await trio.sleep(0.3)  # a request fired after the page looked ready has its answer now
        assert await page.evaluate(REFUSED) == []
