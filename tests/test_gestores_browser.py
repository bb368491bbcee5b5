"""A chain's own account in a real browser: the operator gives a cliente a gestor on the Cadastro
page and sets it a new password there; the gestor signs in with e-mail and password, sees only
the tabs and the cliente that are its own (Histórico lists its conversations and not another
chain's; Cadastro opens on its cliente without "Novo cliente" or the accounts panel) and changes
its own password; its chain suspended, its next page says so. Photographed in
``tests/artifacts/admin-app/gestor-*.png``.

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
from tests.conftest import ADMIN, query, start_server

pytestmark = needs_chromium
EMAIL = "bia@rede1.com.br"
PASSWORD = "primeira-senha-1"
RESET = "senha-refeita-2"
# every table of the cliente filled: until then a late one pushes the forms below it down, and a
# click aimed at a button can land beside it
LOADED = " && ".join(
    f'document.querySelectorAll("#{table} tbody tr").length > 0'
    for table in ("balcoes", "atendentes", "chaves", "catalogo")
)


async def _fill(page: Page, element_id: str, value: str) -> None:
    await page.evaluate(
        f"document.getElementById({json.dumps(element_id)}).value = {json.dumps(value)}"
    )


async def test_a_gestor_made_on_the_cadastro_page_sees_its_own_chain_only(
    nursery: trio.Nursery, database_url: str, tmp_path: Path
) -> None:
    executable = chromium()
    running = await start_server(nursery, database_url)
    ids = seed(database_url)
    base = running.base_url
    async with open_page(executable, tmp_path / "profile", width=1366, height=900) as page:
        await sign_in(page, base)
        await page.goto(f"{base}/admin/cadastro?cliente_id={ids['c1']}")
        await settle(page, '!document.getElementById("gestores-bloco").hidden')
        await settle(page, LOADED)
        for name, value in (("nome", "Bia Gestora"), ("email", EMAIL), ("senha", PASSWORD)):
            await page.evaluate(
                f'document.querySelector("#novo-gestor [name={name}]").value = {json.dumps(value)}'
            )
        await page.click('#novo-gestor button[type="submit"]')
        await settle(
            page, f'document.querySelector("#gestores tbody").textContent.includes("{EMAIL}")'
        )
        assert "Acesso criado para Bia Gestora" in await page.text("#resultado")
        # a forgotten password, set anew in the row (a password field, never a prompt in clear)
        await page.click("#gestores tbody tr .linha-acoes button")
        field = "#gestores tbody tr .linha-acoes input"
        assert await page.evaluate(f'document.querySelector("{field}").type') == "password"
        await page.evaluate(f'document.querySelector("{field}").value = {json.dumps(RESET)}')
        await page.click('[data-action="salvar-senha"]')
        await settle(
            page, 'document.getElementById("resultado").textContent.includes("Senha de Bia")'
        )
        await photograph(page, "gestor-cadastro-operador")
        await page.click(".sair button")
        await settle(page, SIGNED_OUT)

        await _fill(page, "email", EMAIL)
        await _fill(page, "segredo", RESET)
        await page.click("#entrar button")
        await settle(page, 'location.pathname === "/admin/ao-vivo"')
        tabs = await page.evaluate(
            'Array.from(document.querySelectorAll("nav a")).map(a => a.textContent)'
        )
        assert tabs == ["Ao vivo", "Histórico", "Painel", "Cadastro", "Auditoria"]
        assert await page.text("#quem") == "Bia Gestora — Rede c1"

        await page.goto(f"{base}/admin/historico")
        await settle(page, 'document.querySelectorAll("#conversas tbody tr").length === 2')
        listed = await page.text("#conversas tbody")
        assert "Balcão b1" in listed and "Balcão b2" in listed and "Balcão b3" not in listed
        options = await page.evaluate(
            'Array.from(document.querySelectorAll("#filtros select[name=cliente_id] option"))'
            ".map(o => o.textContent)"
        )
        assert "Rede c2" not in options
        await photograph(page, "gestor-historico")

        await page.goto(f"{base}/admin/cadastro?cliente_id={ids['c2']}")  # another chain's id
        await settle(page, 'document.querySelectorAll("#balcoes tbody tr").length === 2')
        await settle(page, LOADED)
        assert await page.text("#cliente-nome") == "Rede c1"
        assert await page.evaluate('document.querySelectorAll("#clientes tbody tr").length') == 1
        assert await page.evaluate('document.getElementById("novo-cliente-bloco").hidden')
        # the chain's accounts, its own among them without the buttons (that is Sua conta)
        await settle(page, 'document.querySelectorAll("#gestores tr[data-gestor]").length === 1')
        assert "Bia Gestora" in await page.text("#gestores tbody")
        assert await page.evaluate('document.querySelector("#gestores [data-action]") === null')
        await page.evaluate(
            'document.querySelector("#trocar-senha [name=atual]").value = '
            f"{json.dumps(RESET)}; "
            'document.querySelector("#trocar-senha [name=nova]").value = "segunda-senha-2"'
        )
        await page.click('#trocar-senha button[type="submit"]')
        await settle(
            page, 'document.getElementById("resultado").textContent.includes("Senha trocada")'
        )
        # an API key for the chain's BI: shown once, listed by its first characters only
        await page.evaluate('document.querySelector("#nova-chave [name=nome]").value = "BI"')
        await page.click('#nova-chave button[type="submit"]')
        await settle(page, '!document.getElementById("chave-nova").hidden')
        key = await page.evaluate('document.getElementById("chave-nova-valor").textContent')
        assert key.startswith("ck_")
        await settle(page, 'document.querySelectorAll("#chaves tbody tr[data-chave]").length === 1')
        assert key not in await page.evaluate('document.querySelector("#chaves").textContent')
        await photograph(page, "gestor-cadastro")
        # revoked from the page: asked once more, then the row says so
        await page.click('[data-action="revogar-chave"]')
        assert (
            await page.evaluate('document.querySelector("[data-action=revogar-chave]").textContent')
            == "Sim, revogar"
        )
        await page.click('[data-action="revogar-chave"]')
        await settle(
            page, 'document.querySelector("#chaves tbody").textContent.includes("revogada")'
        )
        # the page still works with the cookie the change handed back
        await page.goto(f"{base}/admin/painel")
        await settle(page, 'location.pathname === "/admin/painel"')
        # the chain suspended by the operator while Ao vivo is open: its next poll finds it
        # out and the page says so, with a way out
        await page.goto(f"{base}/admin/ao-vivo")
        await settle(
            page, 'location.pathname === "/admin/ao-vivo" && !!document.querySelector("main")'
        )
        async with httpx.AsyncClient(base_url=base, headers=ADMIN) as op:
            path = f"/admin/clientes/{ids['c1']}/suspensao"
            assert (await op.put(path, json={"motivo": "contrato"})).status_code == 200
            await settle(page, 'document.getElementById("suspenso") !== null')
            assert await page.evaluate("location.pathname") == "/admin/ao-vivo"
            await photograph(page, "gestor-suspenso")
            await page.click('form[action="/sair"] button')
            await settle(page, SIGNED_OUT)
            assert (await op.delete(path)).status_code == 200
    stamp = query(database_url, "SELECT senha_em > created_at FROM gestores")
    assert stamp == [(True,)]
    async with httpx.AsyncClient(base_url=base) as system:  # the revoked key reads nothing
        conta = await system.get("/admin/conta", headers={"Authorization": f"Bearer {key}"})
        assert conta.status_code == 401
