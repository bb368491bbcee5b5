"""Each store's own linking code in a real browser: the operator creates "Loja Centro" on the
Cadastro page and sees its code in the store's row, with the counter page's link; "Novo código"
puts another in the row and the old one links no balcão any more (404). A store made before stores
had codes offers "Gerar código". The store's gestor signs in and finds its store's code on its
Cadastro page (and none of the chain's panels), makes a new one itself, opens the counter page
with that code filled in and links "Balcão Centro 1", which then stands in Loja Centro: on the
gestor's Cadastro page and in ``GET /admin/balcoes``. Photographed in
``tests/artifacts/admin-app/loja-codigo-*.png``.

Needs Debian's ``chromium`` (skipped outside CI without it, failed under CI)."""

from __future__ import annotations

import json
import uuid
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
from tests.gestor_accounts import create_gestor

pytestmark = needs_chromium
EMAIL = "bruno@rede1.com.br"
PASSWORD = "senha-da-loja-1"
BALCAO = "Balcão Centro 1"
# every request the page made that was refused (the document itself included)
REFUSED = (
    '[...performance.getEntriesByType("navigation"), ...performance.getEntriesByType("resource")]'
    '.filter(e => e.responseStatus >= 400).map(e => e.responseStatus + " " + e.name)'
)


def _row(loja: str) -> str:
    return f'#lojas tr[data-loja="{loja}"]'


async def _code_changes(page: Page, where: str, before: str) -> str:
    """Click the "Novo código" under `where`; the code shown once it differs from `before`."""
    await page.click(f'{where} [data-action="codigo-loja"]')
    shown = f"document.querySelector({json.dumps(where + ' code.codigo')})"
    code: str = await settle(
        page, f"{shown} && {shown}.textContent !== {json.dumps(before)} && {shown}.textContent"
    )
    return code


async def _link(where: str, codigo: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=where) as http:
        return await http.post(
            "/cadastro/balcao", json={"nome_balcao": "Balcão Intruso", "user_codigo": codigo}
        )


async def test_a_store_links_its_own_counters_with_its_code(
    nursery: trio.Nursery, database_url: str, tmp_path: Path
) -> None:
    executable = chromium()
    running = await start_server(nursery, database_url)
    base = running.base_url
    ids = seed(database_url)
    c1 = ids["c1"]
    async with open_page(executable, tmp_path / "profile", width=1366, height=900) as page:
        await sign_in(page, base)
        # 1. the operator creates the store: its row shows its code and the counter page's link
        await page.goto(f"{base}/admin/cadastro?cliente_id={c1}")
        await settle(page, '!document.getElementById("do-cliente").hidden')
        await page.fill("#nova-loja [name=nome]", "Loja Centro")
        await page.click('#nova-loja button[type="submit"]')
        await settle(page, "document.querySelector('#lojas tr[data-loja] code.codigo')")
        [(centro, first)] = query(database_url, "SELECT id::text, codigo FROM lojas")
        assert first is not None and len(first) == 6 and first.isdigit(), first
        assert await page.text(f"{_row(centro)} code.codigo") == first
        link = f"document.querySelector('{_row(centro)} a.tela-balcao').getAttribute('href')"
        assert await page.evaluate(link) == f"/balcao?codigo={first}"
        assert await page.text(f'{_row(centro)} [data-action="codigo-loja"]') == "Novo código"
        assert "Loja Centro" in await page.text("#resultado")

        # a new code: another in the row, said in words; the old one links nothing any more
        second = await _code_changes(page, _row(centro), first)
        assert query(database_url, "SELECT codigo FROM lojas") == [(second,)]
        assert await page.evaluate(link) == f"/balcao?codigo={second}"
        said = await page.text("#resultado")
        assert second in said and "O anterior deixou de valer" in said, said
        assert "balcões já vinculados continuam funcionando" in said
        assert (await _link(base, first)).status_code == 404

        # a store made before stores had codes: "Gerar código" makes its first
        antiga = str(uuid.uuid4())
        query(
            database_url,
            "INSERT INTO lojas (id, cliente_id, nome) VALUES (%s, %s, 'Loja Antiga')",
            antiga,
            c1,
        )
        await page.goto(f"{base}/admin/cadastro?cliente_id={c1}")
        await settle(page, f"document.querySelector('{_row(antiga)}')")
        assert "sem código" in await page.text(_row(antiga))
        generate = f'{_row(antiga)} [data-action="codigo-loja"]'
        assert await page.text(generate) == "Gerar código"
        made = await _code_changes(page, _row(antiga), "")
        assert await page.text(generate) == "Novo código"
        assert query(database_url, "SELECT codigo FROM lojas WHERE id = %s", antiga) == [(made,)]
        assert "O anterior" not in await page.text("#resultado")
        await photograph(page, "loja-codigo-operador")

        # a key for the store's own system: chosen in the form, named in the keys' table
        await page.fill("#nova-chave [name=nome]", "PDV Centro")
        await page.evaluate(
            f'document.querySelector("#nova-chave [name=loja_id]").value = "{centro}"'
        )
        await page.click('#nova-chave button[type="submit"]')
        await settle(page, 'document.querySelector("#chaves tbody tr[data-chave]")')
        assert (await page.text("#chaves tbody tr[data-chave]")).startswith("PDV CentroLoja Centro")
        keys = query(database_url, "SELECT nome, loja_id::text FROM chaves_api")
        assert keys == [("PDV Centro", centro)]

        # 2. the store's gestor: its store's code on its Cadastro page, renewed by itself
        async with httpx.AsyncClient(base_url=base) as http:
            created = await create_gestor(
                http, c1, nome="Bruno Gerente", email=EMAIL, senha=PASSWORD, loja_id=centro
            )
            assert created.status_code == 201, created.text
        await page.click(".sair button")
        await settle(page, SIGNED_OUT)
        await page.fill("#email", EMAIL)
        await page.fill("#segredo", PASSWORD)
        await page.click("#entrar button")
        await settle(page, 'location.pathname === "/admin/ao-vivo"')
        await page.goto(f"{base}/admin/cadastro")
        await settle(page, '!document.getElementById("minha-loja-bloco").hidden')
        block = "#minha-loja-bloco"
        assert await page.text(f"{block} h3") == "Código de vínculo da sua loja"
        assert await page.text(f"{block} code.codigo") == second
        assert "fica na sua loja" in await page.text(block)
        for panel in ("clientes-bloco", "lojas-bloco", "rede-bloco", "catalogo", "chaves"):
            assert not await page.shown(panel), panel
        third = await _code_changes(page, block, second)
        assert query(database_url, "SELECT codigo FROM lojas WHERE id = %s", centro) == [(third,)]
        assert "O anterior deixou de valer" in await page.text("#resultado")
        await trio.sleep(0.3)  # a request fired after the page looked ready has its answer now
        assert await page.evaluate(REFUSED) == []
        await photograph(page, "loja-codigo-gestor-loja")

        # 3. the counter page opened from the block's link: the code filled in, the balcão linked
        href = await page.evaluate(f'document.querySelector("{block} a.tela-balcao").href')
        assert href == f"{base}/balcao?codigo={third}"
        await page.goto(href)
        form = 'document.getElementById("vincular-form").elements'
        assert await page.evaluate(f"{form}.codigo.value") == third
        await page.fill("#vincular-form [name=nome]", BALCAO)
        await page.click("#vincular-form button[type=submit]")
        await settle(page, '!document.getElementById("atender").hidden')

        # 4. it stands in Loja Centro: the gestor's Cadastro lists it, and so does the API
        await page.goto(f"{base}/admin/cadastro")
        await settle(page, 'document.querySelector("#balcoes tbody tr[data-balcao]")')
        assert (await page.text("#balcoes tbody")).startswith(BALCAO)
        rows = await page.evaluate('document.querySelectorAll("#balcoes tbody tr").length')
        assert rows == 1  # the chain's two balcões stand in no store
    async with httpx.AsyncClient(base_url=base) as http:
        listed = await http.get(f"/admin/balcoes?cliente_id={c1}", headers=ADMIN)
        lojas = await http.get(f"/admin/clientes/{c1}/lojas", headers=ADMIN)
    linked = [b for b in listed.json()["items"] if b["nome_balcao"] == BALCAO]
    assert [(b["loja_id"], b["loja"]) for b in linked] == [(centro, "Loja Centro")]
    counted = {item["nome"]: (item["balcoes"], item["codigo"]) for item in lojas.json()["items"]}
    assert counted == {"Loja Antiga": (0, made), "Loja Centro": (1, third)}
