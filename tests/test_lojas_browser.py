"""A chain's stores (lojas) in a real browser: the operator creates two stores on the Cadastro
page, renames one, places each of the chain's two balcões in one, gives one store a gestor (and
is told, in words, that a store with an active gestor cannot be removed), watches a live session
per balcão carry its store's name on Ao vivo and filters Histórico by a store. The store's gestor
then signs in and sees only its store: four tabs, "— Rede · Loja" in the header, its balcão's
conversation and not the other store's, Cadastro with its account and balcões and none of the
chain's panels (it renames its balcão there), and no request of any page refused.
Photographed at 1366 and 390 px wide in ``tests/artifacts/admin-app/lojas-*.png``.

Needs Debian's ``chromium`` (skipped outside CI without it, failed under CI)."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import httpx
import trio

from balto.device import stream_file
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
from tests.conftest import ADMIN, FIXTURES, query, start_server, ws_url

pytestmark = needs_chromium
REDE = "Rede Sul"
EMAIL = "carla@redesul.com.br"
PASSWORD = "senha-da-loja-1"
# every request the page made that was refused (the document itself included): a page that asks
# for what its viewer may not see shows a 403 in the console, and that is a bug
REFUSED = (
    '[...performance.getEntriesByType("navigation"), ...performance.getEntriesByType("resource")]'
    '.filter(e => e.responseStatus >= 400).map(e => e.responseStatus + " " + e.name)'
)


async def _choose(page: Page, selector: str, value: str) -> None:
    """Pick `value` in a <select> as a person would: the page hears a change (bubbling, as the
    browser's own does)."""
    await page.evaluate(
        f"(s => {{ s.value = {json.dumps(value)};"
        " s.dispatchEvent(new Event('change', { bubbles: true })); })"
        f"(document.querySelector({json.dumps(selector)}))"
    )


async def _open(page: Page, url: str, ready: str) -> None:
    await page.goto(url)
    await settle(page, ready)


async def _nothing_refused(page: Page) -> None:
    await trio.sleep(0.5)  # a request fired after the page looked ready has its answer by now
    assert await page.evaluate(REFUSED) == [], await page.evaluate("location.href")


async def _both_widths(page: Page, name: str) -> None:
    """Photograph the page as it is (desktop), then at phone width, where it must not scroll
    sideways."""
    await photograph(page, f"lojas-{name}-1366")
    await page.at_phone_width()
    # what was laid out at desktop width (the Painel's charts) follows the resize a moment later;
    # until then the phone shows the page zoomed out to its overflow (innerWidth over 390)
    fits = "document.documentElement.scrollWidth <= innerWidth && innerWidth === 390"
    try:
        await settle(page, fits, timeout_s=3)
    except trio.TooSlowError:
        raise AssertionError(
            (name, await page.evaluate("document.documentElement.scrollWidth"))
        ) from None
    await photograph(page, f"lojas-{name}-390")
    await page.call("Emulation.clearDeviceMetricsOverride")


async def _register(base: str) -> dict[str, str]:
    """A chain and its two balcões, linked as counters link (their keys and ids by name)."""
    async with httpx.AsyncClient(base_url=base) as http:
        made = await http.post(
            "/cadastro/cliente",
            headers=ADMIN,
            json={"email": "contato@redesul.com", "razao_social": REDE, "telefone": "51999998888"},
        )
        codigo = made.json()["codigo"]
        out = {}
        for name in ("centro", "praia"):
            linked = await http.post(
                "/cadastro/balcao",
                json={"nome_balcao": f"Balcão {name.title()}", "user_codigo": codigo},
            )
            out[f"key_{name}"] = linked.json()["api_key"]
            out[name] = linked.json()["balcao_id"]
    return out


async def test_a_store_gestor_sees_its_own_store_only(
    nursery: trio.Nursery, database_url: str, tmp_path: Path
) -> None:
    executable = chromium()
    running = await start_server(nursery, database_url)
    base = running.base_url
    ids = await _register(base)
    [(cliente,)] = query(database_url, "SELECT id::text FROM clientes")
    async with open_page(executable, tmp_path / "profile", width=1366, height=900) as page:
        await sign_in(page, base)
        # 1. the operator makes the stores on the chain's Cadastro page
        await _open(
            page,
            f"{base}/admin/cadastro?cliente_id={cliente}",
            '!document.getElementById("lojas-bloco").hidden'
            ' && document.querySelectorAll("#balcoes tbody tr[data-balcao]").length === 2',
        )
        assert "Nenhuma loja" in await page.text("#lojas tbody")
        assert not await page.shown("balcoes-loja")  # no store yet: nothing to choose
        for nome in ("Loja Centro", "Loja Prai"):
            await page.fill("#nova-loja [name=nome]", nome)
            await page.click('#nova-loja button[type="submit"]')
            await settle(
                page, f'document.getElementById("resultado").textContent.includes("{nome}")'
            )
        await settle(page, 'document.querySelectorAll("#lojas tbody tr[data-loja]").length === 2')
        lojas = dict(query(database_url, "SELECT nome, id::text FROM lojas"))
        centro = lojas["Loja Centro"]
        # a typo, renamed in its row
        await page.click(f'#lojas tr[data-loja="{lojas["Loja Prai"]}"] button')
        await page.fill(f'#lojas tr[data-loja="{lojas["Loja Prai"]}"] input', "Loja Praia")
        await page.click('[data-action="salvar-loja"]')
        await settle(page, 'document.querySelector("#lojas tbody").textContent.includes("Praia")')
        praia = lojas["Loja Prai"]

        # each balcão placed in its store from the balcões' Loja column
        for balcao, loja, nome in (
            (ids["centro"], centro, "Centro"),
            (ids["praia"], praia, "Praia"),
        ):
            await settle(
                page, f"document.querySelector('#balcoes tr[data-balcao=\"{balcao}\"] select')"
            )
            await _choose(page, f'#balcoes tr[data-balcao="{balcao}"] select', loja)
            await settle(
                page,
                'document.getElementById("resultado").textContent'
                f'.includes("Balcão {nome} passou para a loja “Loja {nome}”")',
            )
        placed = query(database_url, "SELECT id::text, loja_id::text FROM balcoes")
        assert dict(placed) == {ids["centro"]: centro, ids["praia"]: praia}
        counts = (
            'Array.from(document.querySelectorAll("#lojas tbody tr"))'
            ".map(tr => [tr.cells[0].textContent, tr.cells[1].textContent])"
        )
        expected = [["Loja Centro", "1"], ["Loja Praia", "1"]]
        with contextlib.suppress(trio.TooSlowError):  # the counts follow the placing
            await settle(page, f"JSON.stringify({counts}) === {json.dumps(json.dumps(expected))}")
        assert await page.evaluate(counts) == expected

        # a gestor for Loja Centro only
        for name, value in (("nome", "Carla Gerente"), ("email", EMAIL), ("senha", PASSWORD)):
            await page.fill(f"#novo-gestor [name={name}]", value)
        await _choose(page, "#novo-gestor [name=loja_id]", centro)
        await page.click('#novo-gestor button[type="submit"]')
        await settle(
            page, f'document.querySelector("#gestores tbody").textContent.includes("{EMAIL}")'
        )
        row = await page.text("#gestores tbody tr[data-gestor]")
        assert "Loja Centro" in row, row
        assert "vê só a loja “Loja Centro”" in await page.text("#resultado")
        # a store with an active gestor stays: asked twice, then refused in words
        remove = f'#lojas tr[data-loja="{centro}"] [data-action="remover-loja"]'
        await page.click(remove)
        assert await page.text(remove) == "Sim, remover"
        await page.click(remove)
        await settle(page, '!document.getElementById("erro").hidden')
        assert "gestores ativos" in await page.text("#erro")
        assert query(database_url, "SELECT count(*) FROM lojas") == [(2,)]
        await _both_widths(page, "cadastro-operador")

        async with trio.open_nursery() as devices:
            # 2. a live session per balcão: each card names its store
            for key in (ids["key_centro"], ids["key_praia"]):
                devices.start_soon(
                    lambda k=key: stream_file(
                        ws_url(running), k, FIXTURES / "two_utterances.webm", linger_s=120
                    )
                )
            await _open(
                page,
                f"{base}/admin/ao-vivo",
                'document.querySelectorAll("section.sessao").length === 2',
            )
            card = f'section.sessao[data-balcao="{ids["praia"]}"] .cliente'
            assert await page.text(card) == f"{REDE} · Loja Praia"
            await _both_widths(page, "ao-vivo-operador")
            # narrowed to the chain, then to one store: one card, and the address keeps it
            await _choose(page, "#f-cliente-ao-vivo", cliente)
            await settle(page, '!document.getElementById("f-loja-ao-vivo").closest("label").hidden')
            await _choose(page, "#f-loja-ao-vivo", praia)
            cards = 'Array.from(document.querySelectorAll("section.sessao"))'
            await settle(page, f"{cards}.length === 1")
            assert await page.evaluate(f"{cards}[0].dataset.balcao") == ids["praia"]
            assert f"loja_id={praia}" in await page.evaluate("location.search")
            await page.goto(f"{base}/admin/ao-vivo?cliente_id={cliente}&loja_id={centro}")
            only_centro = json.dumps(ids["centro"])
            await settle(
                page, f"{cards}.length === 1 && {cards}[0].dataset.balcao === {only_centro}"
            )
            assert await page.evaluate('document.getElementById("f-loja-ao-vivo").value') == centro

            # 3. the operator's Histórico, by store: the Excel report follows
            await _open(
                page,
                f"{base}/admin/historico?cliente_id={cliente}",
                'document.body.dataset.pronto === "1"'
                ' && !document.getElementById("f-loja-rotulo").hidden'
                ' && document.querySelectorAll("#conversas tbody tr").length === 2',
            )
            balcoes = (
                '[...document.getElementById("f-balcao").options].filter(o => o.value)'
                ".map(o => o.text)"
            )
            assert len(await page.evaluate(balcoes)) == 2
            await _choose(page, "#f-loja", praia)
            # the Balcão filter offers the chosen store's balcões only
            await settle(page, f"{balcoes}.length === 1")
            assert await page.evaluate(balcoes) == ["Balcão Praia (Rede Sul · Loja Praia)"]
            await page.click('#filtros button[type="submit"]')
            await settle(page, 'document.querySelectorAll("#conversas tbody tr").length === 1')
            assert "Balcão Praia" in await page.text("#conversas tbody")
            assert f"loja_id={praia}" in await page.evaluate("location.search")
            excel = await page.evaluate('document.getElementById("excel").getAttribute("href")')
            assert f"loja_id={praia}" in excel
            await _nothing_refused(page)
            await _both_widths(page, "historico-operador")
            # the Painel reads the store from its address too, and keeps it in its filter
            await _open(
                page,
                f"{base}/admin/painel?cliente_id={cliente}&loja_id={praia}",
                'document.body.dataset.carregado === "1"'
                ' && !document.getElementById("f-loja-rotulo").hidden',
            )
            assert await page.evaluate('document.getElementById("f-loja").value') == praia
            by_balcao = await page.text("#por-balcao tbody")
            assert "Balcão Praia" in by_balcao and "Balcão Centro" not in by_balcao
            await _nothing_refused(page)
            devices.cancel_scope.cancel()  # the sessions end: their conversations can be opened

        await page.click(".sair button")
        await settle(page, SIGNED_OUT)

        # 4. the store's gestor: its store, and no request refused on any page
        await page.fill("#email", EMAIL)
        await page.fill("#segredo", PASSWORD)
        await page.click("#entrar button")
        await settle(page, 'location.pathname === "/admin/ao-vivo"')
        tabs = await page.evaluate(
            'Array.from(document.querySelectorAll("nav a")).map(a => a.textContent)'
        )
        assert tabs == ["Ao vivo", "Histórico", "Painel", "Cadastro"]
        assert await page.text("#quem") == f"Carla Gerente — {REDE} · Loja Centro"
        await settle(
            page,
            'document.querySelector("#encerradas tbody").textContent.includes("Balcão Centro")',
            timeout_s=15,
        )
        assert "Balcão Praia" not in await page.text("#encerradas tbody")
        await _nothing_refused(page)

        await _open(
            page,
            f"{base}/admin/historico",
            'document.querySelectorAll("#conversas tbody tr").length === 1',
        )
        listed = await page.text("#conversas tbody")
        assert "Balcão Centro" in listed and "Balcão Praia" not in listed
        assert not await page.shown("f-loja-rotulo")  # its store is fixed
        await _nothing_refused(page)
        await _both_widths(page, "historico-gestor-loja")

        await page.click("#conversas tbody tr a")
        await settle(page, 'document.querySelector("#sessao dd")')
        await settle(page, 'document.getElementById("sessao").textContent.includes("Centro")')
        assert not await page.shown("apagar")  # erasing is the chain's call
        await _nothing_refused(page)

        await _open(page, f"{base}/admin/painel", 'document.body.dataset.carregado === "1"')
        assert "Balcão Praia" not in await page.text("#por-balcao")
        assert not await page.shown("f-loja-rotulo")
        await _nothing_refused(page)
        await _both_widths(page, "painel-gestor-loja")

        await _open(
            page,
            f"{base}/admin/cadastro",
            'document.querySelectorAll("#balcoes tbody tr[data-balcao]").length === 1',
        )
        assert (await page.text("#balcoes tbody")).startswith("Balcão Centro")
        assert await page.text("#cliente-nome") == "Loja Centro"
        assert await page.shown("conta") and await page.shown("trocar-senha")
        for panel in ("clientes-bloco", "lojas-bloco", "catalogo", "chaves"):
            assert not await page.shown(panel), panel
        assert await page.shown("atendentes")  # its store's (test_atendentes_loja_browser)
        # its store's products out of stock: the place is its store, not chosen
        assert await page.shown("em-falta") and not await page.shown("em-falta-onde")
        await _nothing_refused(page)
        await _both_widths(page, "cadastro-gestor-loja")
        # it names its counter as its people call it: typed in the row, saved with Enter
        row = f'#balcoes tr[data-balcao="{ids["centro"]}"]'
        await page.click(f'{row} [data-action="renomear-balcao"]')
        await page.fill(f"{row} input", "  Caixa   da entrada ")
        await page.evaluate(
            f"document.querySelector({json.dumps(row + ' input')}).dispatchEvent("
            "new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }))"
        )
        await settle(
            page,
            'document.getElementById("resultado").textContent'
            '.includes("O balcão “Balcão Centro” agora se chama “Caixa da entrada”")'
            ' && document.querySelector("#balcoes tbody").textContent'
            '.startsWith("Caixa da entrada")',
        )
        assert query(
            database_url, "SELECT nome_balcao FROM balcoes WHERE id = %s", ids["centro"]
        ) == [("Caixa da entrada",)]
        await _nothing_refused(page)
