"""Renaming a balcão (``PATCH /admin/balcoes/{id}``) over real HTTP and PostgreSQL: who may, what
is refused and how, and that the new name is what every page, list and report shows, a live
session's Ao vivo card and its counter page included."""

from __future__ import annotations

import io
from typing import Any

import httpx
import openpyxl
import trio

from balto.device import stream_file
from tests.admin_seed import seed
from tests.conftest import ADMIN, FIXTURES, query, register_balcao, start_server, ws_url
from tests.gestor_accounts import PASSWORD, create_gestor, origin, sign_in_gestor

UNKNOWN = "00000000-0000-0000-0000-000000000000"
PERIOD = "desde=2026-03-01&ate=2026-03-03"


async def _rename(
    http: httpx.AsyncClient, balcao: str, body: Any, headers: dict[str, str] | None = None
) -> httpx.Response:
    return await http.patch(f"/admin/balcoes/{balcao}", json=body, headers=headers)


async def test_a_balcao_renamed_reads_so_everywhere_and_bad_names_are_refused(
    nursery: trio.Nursery, database_url: str
) -> None:
    running = await start_server(nursery, database_url)
    ids = seed(database_url)
    c1, b1 = ids["c1"], ids["b1"]
    async with httpx.AsyncClient(base_url=running.base_url) as op:
        done = await _rename(op, b1, {"nome_balcao": "  Caixa   da   frente "}, ADMIN)
        assert done.status_code == 200, done.text
        assert done.json() == {"balcao_id": b1, "nome_balcao": "Caixa da frente"}

        for bad in ({}, {"nome_balcao": ""}, {"nome_balcao": "   "}, {"nome_balcao": 7},
                    {"nome_balcao": None}, {"nome_balcao": "x" * 121}):  # fmt: skip
            refused = await _rename(op, b1, bad, ADMIN)
            assert refused.status_code == 400, bad
            assert refused.json()["field"] == "nome_balcao", bad
        not_object = await _rename(op, b1, ["Caixa"], ADMIN)
        assert not_object.status_code == 400 and not_object.json()["field"] == "body"
        nul = await _rename(op, b1, {"nome_balcao": "Caixa\u0000"}, ADMIN)
        assert nul.status_code == 400 and nul.json()["field"] == "nome_balcao"
        assert (await _rename(op, b1, {"nome_balcao": "x" * 120}, ADMIN)).status_code == 200
        assert (await _rename(op, UNKNOWN, {"nome_balcao": "Z"}, ADMIN)).status_code == 404
        assert (await _rename(op, "não-uuid", {"nome_balcao": "Z"}, ADMIN)).status_code == 404
        assert (await _rename(op, b1, {"nome_balcao": "Caixa 2"}, ADMIN)).status_code == 200

        # every read of the history shows the new name: lists, conversations, Painel, report
        balcoes = (await op.get(f"/admin/balcoes?cliente_id={c1}", headers=ADMIN)).json()
        assert {b["id"]: b["nome_balcao"] for b in balcoes["items"]}[b1] == "Caixa 2"
        conversas = await op.get(f"/admin/history/conversas?balcao_id={b1}", headers=ADMIN)
        assert [c["nome_balcao"] for c in conversas.json()["items"]] == ["Caixa 2"]
        painel = (await op.get(f"/admin/painel/dados?{PERIOD}", headers=ADMIN)).json()
        assert "Caixa 2" in {r["nome_balcao"] for r in painel["por_balcao"]}
        report = await op.get(f"/api/export/xlsx?{PERIOD}&balcao_id={b1}", headers=ADMIN)
        assert report.status_code == 200
        book = openpyxl.load_workbook(io.BytesIO(report.content), read_only=True)
        sheet = book["Interações"]
        header = [c.value for c in next(sheet.iter_rows(min_row=1, max_row=1))]
        names = {
            row[header.index("balcão")] for row in sheet.iter_rows(min_row=2, values_only=True)
        }
        assert names == {"Caixa 2"}
        resumo = dict(book["Resumo"].iter_rows(values_only=True))
        assert resumo["balcão"] == "Caixa 2"

    audited = query(
        database_url,
        "SELECT balcao_id::text, detail->>'de', detail->>'para'"
        " FROM admin_audit WHERE action = 'rename_balcao' ORDER BY id",
    )
    assert audited == [
        (b1, "Balcão b1", "Caixa da frente"),
        (b1, "Caixa da frente", "x" * 120),
        (b1, "x" * 120, "Caixa 2"),
    ]


async def test_who_may_rename_a_balcao(nursery: trio.Nursery, database_url: str) -> None:
    running = await start_server(nursery, database_url)
    ids = seed(database_url)
    c1, b1, b2, b3 = ids["c1"], ids["b1"], ids["b2"], ids["b3"]
    async with (
        httpx.AsyncClient(base_url=running.base_url) as op,
        httpx.AsyncClient(base_url=running.base_url) as chain,
        httpx.AsyncClient(base_url=running.base_url) as store,
    ):
        loja = await op.post(f"/admin/clientes/{c1}/lojas", json={"nome": "Centro"}, headers=ADMIN)
        loja_id = loja.json()["id"]
        placed = await op.put(f"/admin/balcoes/{b1}/loja", json={"loja_id": loja_id}, headers=ADMIN)
        assert placed.status_code == 200
        assert (await create_gestor(op, c1)).status_code == 201
        made = await create_gestor(op, c1, email="loja@rede1.com.br", loja_id=loja_id)
        assert made.status_code == 201
        assert (
            await sign_in_gestor(chain, running, "ana@rede1.com.br", PASSWORD)
        ).status_code == 303
        signed = await sign_in_gestor(store, running, "loja@rede1.com.br", PASSWORD)
        assert signed.status_code == 303
        here = origin(running)

        # the chain's gestor: its chain's balcões; another chain's reads as unknown
        assert (await _rename(chain, b2, {"nome_balcao": "Caixa B"}, here)).status_code == 200
        assert (await _rename(chain, b3, {"nome_balcao": "Alheio"}, here)).status_code == 404
        # a cookie without the page's Origin acts on nothing
        assert (await _rename(chain, b2, {"nome_balcao": "Z"})).status_code == 403
        # a store's gestor: its store's balcões only (b2 stands in no store)
        assert (await _rename(store, b1, {"nome_balcao": "Caixa A"}, here)).status_code == 200
        assert (await _rename(store, b2, {"nome_balcao": "Z"}, here)).status_code == 404
        assert (await _rename(store, b3, {"nome_balcao": "Z"}, here)).status_code == 404
        # a chain's API key only reads
        key = await op.post(f"/admin/clientes/{c1}/chaves", json={"nome": "BI"}, headers=ADMIN)
        bearer = {"Authorization": f"Bearer {key.json()['chave']}"}
        assert (await _rename(op, b1, {"nome_balcao": "Z"}, bearer)).status_code == 403
        assert (await _rename(op, b1, {"nome_balcao": "Z"}, {})).status_code == 401

    names = dict(query(database_url, "SELECT id::text, nome_balcao FROM balcoes"))
    assert (names[b1], names[b2], names[b3]) == ("Caixa A", "Caixa B", "Balcão b3")
    ators = query(
        database_url, "SELECT ator FROM admin_audit WHERE action = 'rename_balcao' ORDER BY id"
    )
    assert ators == [("gestor:ana@rede1.com.br",), ("gestor:loja@rede1.com.br",)]


async def test_a_live_balcao_renamed_shows_its_new_name_on_ao_vivo_and_on_its_counter(
    nursery: trio.Nursery, database_url: str
) -> None:
    running = await start_server(nursery, database_url)
    key, balcao = await register_balcao(running.base_url, "Balcão 1")
    async with (
        httpx.AsyncClient(base_url=running.base_url) as op,
        trio.open_nursery() as devices,
    ):
        devices.start_soon(
            lambda: stream_file(ws_url(running), key, FIXTURES / "two_utterances.webm", linger_s=60)
        )

        async def live_names() -> list[str]:
            body = (await op.get("/admin/ao-vivo/dados", headers=ADMIN)).json()
            return [s["nome_balcao"] for s in body["sessions"]]

        with trio.fail_after(20):
            while await live_names() != ["Balcão 1"]:  # noqa: ASYNC110 - polling the server
                await trio.sleep(0.2)
        assert (
            await _rename(op, balcao, {"nome_balcao": "Caixa Popular"}, ADMIN)
        ).status_code == 200
        assert await live_names() == ["Caixa Popular"]  # the same session, still connected
        console = (await op.get("/admin/sessions", headers=ADMIN)).json()["sessions"]
        assert [s["nome_balcao"] for s in console] == ["Caixa Popular"]  # Operação's too
        counter = await op.get("/balcao/atendentes", headers={"Authorization": f"Bearer {key}"})
        assert counter.status_code == 200 and counter.json()["nome_balcao"] == "Caixa Popular"
        devices.cancel_scope.cancel()
