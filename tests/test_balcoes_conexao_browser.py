"""Which counters are off: each balcão's last connection in the API, Cadastro and Ao vivo.

A chain with three balcões: one last connected three days ago, one never, one that connects
during the test. `/admin/balcoes` gives `ultima_conexao_em` (the newest session's end, its start
while open, null for never); in a real Chromium, Ao vivo with the chain chosen counts the
balcões connected and lists the others, the most recently lost first, and a counter that
hangs up moves into the list at once, at the top; with no chain chosen the list is not shown,
but the network's count and each chain with counters off are (`/admin/redes/conexoes`), and
*Ver balcões* chooses that chain; Cadastro has the column. Needs Debian's ``chromium``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import trio
from trio_websocket import ConnectionClosed, open_websocket_url

from tests.browser import chromium, needs_chromium, open_page, photograph, settle, sign_in
from tests.conftest import ADMIN, query, start_server, ws_url

pytestmark = needs_chromium

ROWS = 'Array.from(document.querySelectorAll("#sem-conexao tbody tr"))'


async def _chain(http: httpx.AsyncClient) -> tuple[str, dict[str, dict[str, str]]]:
    cliente = await http.post(
        "/cadastro/cliente",
        headers=ADMIN,
        json={"email": "contato@rede.com", "razao_social": "Rede Norte", "telefone": "11999998888"},
    )
    assert cliente.status_code == 201, cliente.text
    body = cliente.json()
    balcoes = {}
    for nome in ("Caixa Antigo", "Caixa Novo", "Caixa Vivo"):
        linked = await http.post(
            "/cadastro/balcao", json={"nome_balcao": nome, "user_codigo": body["codigo"]}
        )
        assert linked.status_code == 201, linked.text
        balcoes[nome] = linked.json()
    listed = await http.get("/admin/balcoes", headers=ADMIN)
    return listed.json()["items"][0]["cliente_id"], balcoes


async def _listed(http: httpx.AsyncClient, cliente_id: str) -> dict[str, dict[str, object]]:
    answer = await http.get("/admin/balcoes", headers=ADMIN, params={"cliente_id": cliente_id})
    assert answer.status_code == 200, answer.text
    return {b["nome_balcao"]: b for b in answer.json()["items"]}


async def _counter(url: str, api_key: str, hang_up: trio.Event) -> None:
    """A counter connected with no audio (answering pings) until `hang_up`."""
    async with open_websocket_url(url) as ws:
        await ws.send_message(json.dumps({"api_key": api_key}))
        async with trio.open_nursery() as inner:

            async def read() -> None:
                try:
                    while True:
                        await ws.get_message()
                except ConnectionClosed:
                    pass

            inner.start_soon(read)
            await hang_up.wait()
            inner.cancel_scope.cancel()


async def test_an_admin_sees_which_counters_are_off(
    nursery: trio.Nursery, database_url: str, tmp_path: Path
) -> None:
    executable = chromium()
    running = await start_server(nursery, database_url)
    ended = datetime.now(UTC) - timedelta(days=3, minutes=5)
    async with httpx.AsyncClient(base_url=running.base_url) as http:
        cliente_id, balcoes = await _chain(http)
        query(
            database_url,
            "INSERT INTO sessions (id, balcao_id, started_at, ended_at)"
            " VALUES (gen_random_uuid(), %s, %s, %s), (gen_random_uuid(), %s, %s, %s)",
            balcoes["Caixa Antigo"]["balcao_id"],
            ended - timedelta(days=2),
            ended - timedelta(days=2, minutes=-30),
            balcoes["Caixa Antigo"]["balcao_id"],
            ended - timedelta(hours=1),
            ended,
        )
        listed = await _listed(http, cliente_id)
        assert datetime.fromisoformat(str(listed["Caixa Antigo"]["ultima_conexao_em"])) == ended
        assert listed["Caixa Novo"]["ultima_conexao_em"] is None
        assert listed["Caixa Vivo"]["ultima_conexao_em"] is None

        async with open_page(executable, tmp_path / "profile", width=1366, height=900) as page:
            await sign_in(page, running.base_url)
            await page.goto(f"{running.base_url}/admin/ao-vivo?cliente_id={cliente_id}")
            await settle(
                page,
                'document.getElementById("conectados").textContent'
                ' === "0 de 3 balcões conectados."',
            )
            assert await page.shown("bloco-sem-conexao")
            assert await page.text("#sem-conexao-n") == "3"

            hang_up = trio.Event()
            async with trio.open_nursery() as devices:
                devices.start_soon(
                    _counter, ws_url(running), balcoes["Caixa Vivo"]["api_key"], hang_up
                )
                await settle(page, 'document.querySelectorAll("section.sessao").length === 1')
                await settle(
                    page,
                    'document.getElementById("conectados").textContent'
                    ' === "1 de 3 balcões conectados."',
                )
                await page.click("#bloco-sem-conexao summary")
                rows = await settle(page, f"{ROWS}.length === 2 && {ROWS}.map(r => r.innerText)")
                # the most recently seen first; never connected last
                assert rows[0].startswith("Caixa Antigo") and "há 3 dias" in rows[0], rows
                assert rows[1].startswith("Caixa Novo") and "nunca conectou" in rows[1], rows
                live = await _listed(http, cliente_id)
                assert live["Caixa Vivo"]["live_session_id"]
                assert live["Caixa Vivo"]["ultima_conexao_em"] is not None  # its start
                await photograph(page, "ao-vivo-sem-conexao")
                hang_up.set()

            # hung up: out of the cards and, at once, at the top of the list
            await settle(page, 'document.querySelectorAll("section.sessao").length === 0')
            await settle(
                page,
                'document.getElementById("conectados").textContent'
                ' === "0 de 3 balcões conectados."',
            )
            rows = await settle(page, f"{ROWS}.length === 3 && {ROWS}.map(r => r.innerText)")
            assert rows[0].startswith("Caixa Vivo"), rows
            assert "há menos de um minuto" in rows[0], rows
            assert [r.split("\t")[0] for r in rows[1:]] == ["Caixa Antigo", "Caixa Novo"]
            after = await _listed(http, cliente_id)
            stored = query(
                database_url,
                "SELECT ended_at FROM sessions WHERE balcao_id = %s",
                balcoes["Caixa Vivo"]["balcao_id"],
            )
            assert stored[0][0] is not None
            assert (
                datetime.fromisoformat(str(after["Caixa Vivo"]["ultima_conexao_em"]))
                == (stored[0][0])
            )

            # the whole network: no chain chosen, no balcão list (it could be thousands of rows)
            # but each chain with counters off, with how many are connected and never were
            network = (await http.get("/admin/redes/conexoes", headers=ADMIN)).json()["itens"]
            assert [
                (r["razao_social"], r["balcoes"], r["conectados"], r["nunca_conectaram"])
                for r in network
            ] == [("Rede Norte", 3, 0, 1)]
            await page.evaluate(
                'const s = document.getElementById("f-cliente-ao-vivo"); s.value = "";'
                ' s.dispatchEvent(new Event("change", {bubbles: true}));'
            )
            await settle(
                page,
                'document.getElementById("bloco-sem-conexao").hidden'
                ' && document.getElementById("conectados").textContent'
                ' === "0 de 3 balcões conectados na rede."',
            )
            assert await page.shown("bloco-redes")
            await page.click("#bloco-redes summary")
            chains = 'Array.from(document.querySelectorAll("#redes-fora tbody tr"))'
            rows = await settle(page, f"{chains}.length === 1 && {chains}.map(r => r.innerText)")
            assert rows[0].split("\t")[:3] == ["Rede Norte", "0 de 3", "1"], rows
            await photograph(page, "ao-vivo-rede")  # with an accessibility check
            # "Ver balcões" chooses the chain: its own list again
            await page.click("#redes-fora tbody button")
            await settle(
                page,
                'document.getElementById("conectados").textContent'
                ' === "0 de 3 balcões conectados."'
                ' && document.getElementById("bloco-redes").hidden',
            )
            assert f"cliente_id={cliente_id}" in await page.evaluate("location.search")

            # Cadastro: the same facts in the balcões' table
            await page.goto(f"{running.base_url}/admin/cadastro?cliente_id={cliente_id}")
            cells = await settle(
                page,
                'document.querySelectorAll("#balcoes tbody tr[data-balcao]").length === 3'
                ' && Array.from(document.querySelectorAll("#balcoes tbody tr[data-balcao]"))'
                ".map(r => [r.cells[0].innerText, r.cells[4].innerText])",
            )
            seen = dict(cells)
            assert "há 3 dias" in seen["Caixa Antigo"], seen
            assert seen["Caixa Novo"] == "nunca conectou", seen
            assert "há menos de um minuto" in seen["Caixa Vivo"], seen
