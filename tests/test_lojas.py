"""A chain's stores (lojas) over real HTTP and PostgreSQL: the operator and the chain's gestores
make them and place balcões in them; history, Painel and the report filter by store; a store's
gestor (an account with a loja) reaches its store's balcões only, and only the routes opened to
stores."""

from __future__ import annotations

import io
from typing import Any

import httpx
import openpyxl
import trio

from tests.admin_seed import seed
from tests.conftest import ADMIN, query, start_server
from tests.gestor_accounts import (
    PASSWORD,
    create_gestor,
    opened_routes,
    origin,
    sign_in_gestor,
    walk_refused,
)
from tests.test_gestores import OPEN_TO_GESTORES

UNKNOWN = "00000000-0000-0000-0000-000000000000"
PERIOD = "desde=2026-03-01&ate=2026-03-03"


async def _loja(http: httpx.AsyncClient, cliente: str, nome: str, **headers: str) -> Any:
    made = await http.post(
        f"/admin/clientes/{cliente}/lojas", json={"nome": nome}, headers=headers or ADMIN
    )
    return made


async def _place(http: httpx.AsyncClient, balcao: str, loja: str | None) -> httpx.Response:
    return await http.put(f"/admin/balcoes/{balcao}/loja", json={"loja_id": loja}, headers=ADMIN)


async def test_stores_are_made_named_placed_and_removed_with_clear_refusals(
    nursery: trio.Nursery, database_url: str
) -> None:
    running = await start_server(nursery, database_url)
    ids = seed(database_url)
    c1, c2 = ids["c1"], ids["c2"]
    async with httpx.AsyncClient(base_url=running.base_url) as op:
        centro = await _loja(op, c1, "Loja Centro")
        assert centro.status_code == 201, centro.text
        centro_id = centro.json()["id"]
        taken = await _loja(op, c1, "  loja CENTRO ")  # any case, trimmed
        assert taken.status_code == 409 and taken.json()["field"] == "nome"
        assert (await _loja(op, c2, "Loja Centro")).status_code == 201  # another chain may
        assert (await _loja(op, UNKNOWN, "X")).status_code == 404
        assert (await _loja(op, "não-uuid", "X")).status_code == 404
        assert (await _loja(op, c1, "   ")).json()["field"] == "nome"
        assert (await _loja(op, c1, "x" * 81)).json()["field"] == "nome"
        norte_id = (await _loja(op, c1, "Loja Norte")).json()["id"]
        theirs_id = str(query(database_url, "SELECT id FROM lojas WHERE cliente_id = %s", c2)[0][0])

        assert (await _place(op, ids["b1"], centro_id)).status_code == 200
        wrong_chain = await _place(op, ids["b1"], theirs_id)
        assert wrong_chain.status_code == 400 and wrong_chain.json()["field"] == "loja_id"
        assert (await _place(op, ids["b1"], UNKNOWN)).json()["field"] == "loja_id"
        assert (await _place(op, ids["b1"], "x")).json()["field"] == "loja_id"
        assert (await _place(op, UNKNOWN, centro_id)).status_code == 404
        missing = await op.put(f"/admin/balcoes/{ids['b1']}/loja", json={}, headers=ADMIN)
        assert missing.status_code == 400 and missing.json()["field"] == "loja_id"
        listed = (await op.get(f"/admin/clientes/{c1}/lojas", headers=ADMIN)).json()["items"]
        assert [(x["nome"], x["balcoes"], x["gestores"]) for x in listed] == [
            ("Loja Centro", 1, 0),
            ("Loja Norte", 0, 0),
        ]
        balcoes = (await op.get(f"/admin/balcoes?cliente_id={c1}", headers=ADMIN)).json()
        assert {(b["id"], b["loja"]) for b in balcoes["items"]} == {
            (ids["b1"], "Loja Centro"),
            (ids["b2"], None),
        }

        renamed = await op.patch(
            f"/admin/lojas/{norte_id}", json={"nome": "Loja Sul"}, headers=ADMIN
        )
        assert renamed.status_code == 200 and renamed.json()["nome"] == "Loja Sul"
        clash = await op.patch(
            f"/admin/lojas/{norte_id}", json={"nome": "Loja Centro"}, headers=ADMIN
        )
        assert clash.status_code == 409
        assert (
            await op.patch(f"/admin/lojas/{UNKNOWN}", json={"nome": "Z"}, headers=ADMIN)
        ).status_code == 404

        # a store with an active gestor stays: removing it would widen what that person sees
        gestor = await create_gestor(op, c1, loja_id=centro_id)
        assert gestor.status_code == 201, gestor.text
        of_theirs = await create_gestor(op, c1, email="b@rede1.com.br", loja_id=theirs_id)
        assert of_theirs.status_code == 400 and of_theirs.json()["field"] == "loja_id"
        listed_g = (await op.get(f"/admin/clientes/{c1}/gestores", headers=ADMIN)).json()["items"]
        assert [g["loja_id"] for g in listed_g] == [centro_id]
        refused = await op.delete(f"/admin/lojas/{centro_id}", headers=ADMIN)
        assert refused.status_code == 409 and "gestores" in refused.json()["message"]
        gid = gestor.json()["id"]
        assert (await op.delete(f"/admin/gestores/{gid}", headers=ADMIN)).status_code == 204
        assert (await op.delete(f"/admin/lojas/{centro_id}", headers=ADMIN)).status_code == 204
        assert (await op.delete(f"/admin/lojas/{centro_id}", headers=ADMIN)).status_code == 404
        # its balcão belongs to the chain as a whole again; the deactivated account is let go of
        assert query(database_url, "SELECT loja_id FROM balcoes WHERE id = %s", ids["b1"]) == [
            (None,)
        ]
        assert query(database_url, "SELECT loja_id FROM gestores") == [(None,)]
    done = query(
        database_url,
        "SELECT action, ator FROM admin_audit WHERE action LIKE '%%loja%%'"
        " OR action = 'place_balcao' ORDER BY id",
    )
    assert [a for a, _ in done] == [
        "create_loja", "create_loja", "create_loja", "place_balcao", "rename_loja", "remove_loja"
    ]  # fmt: skip
    assert {ator for _, ator in done} == {"operador"}


async def test_a_stores_gestor_sees_its_store_only(
    nursery: trio.Nursery, database_url: str
) -> None:
    running = await start_server(nursery, database_url)
    ids = seed(database_url)
    c1, c2 = ids["c1"], ids["c2"]
    query(database_url, "UPDATE sessions SET ended_at = now()")  # Ao vivo's recently ended
    mine_alert, other_alert = (
        str(
            query(
                database_url,
                "INSERT INTO alerts (id, session_id, sinal, motivo, orientacao, transcricao_base)"
                " VALUES (gen_random_uuid(), %s, 'dor_no_peito', 'm', 'o', 't') RETURNING id",
                session,
            )[0][0]
        )
        for session in (ids["s1"], ids["s2"])
    )
    async with (
        httpx.AsyncClient(base_url=running.base_url) as op,
        httpx.AsyncClient(base_url=running.base_url) as http,
    ):
        centro = (await _loja(op, c1, "Loja Centro")).json()["id"]
        norte = (await _loja(op, c1, "Loja Norte")).json()["id"]
        await _place(op, ids["b1"], centro)
        await _place(op, ids["b2"], norte)
        assert (await create_gestor(op, c1, loja_id=centro)).status_code == 201
        assert (
            await sign_in_gestor(http, running, "ana@rede1.com.br", PASSWORD)
        ).status_code == 303
        conta = (await http.get("/admin/conta")).json()
        assert (conta["papel"], conta["loja_id"], conta["loja_nome"]) == (
            "gestor", centro, "Loja Centro"
        )  # fmt: skip

        async def items(path: str, key: str = "id") -> set[str]:
            answer = await http.get(path)
            assert answer.status_code == 200, (path, answer.text)
            return {str(item[key]) for item in answer.json()["items"]}

        assert await items("/admin/history/conversas") == {ids["s1"]}
        assert await items("/admin/balcoes") == {ids["b1"]}
        assert await items("/admin/history/segments", "balcao_id") == {ids["b1"]}
        assert await items("/admin/history/recommendations", "balcao_id") == {ids["b1"]}
        assert await items("/admin/history/alertas", "session_id") == {ids["s1"]}
        assert await items(f"/admin/clientes/{c1}/lojas") == {centro}
        clientes = (await http.get("/admin/clientes")).json()["items"]
        assert [(c["id"], c["balcoes"]) for c in clientes] == [(c1, 1)]  # its store's count
        assert clientes[0]["codigo"] is None  # a balcão linked with it would be the chain's
        conversas = (await http.get("/admin/history/conversas")).json()["items"]
        assert [c["loja"] for c in conversas] == ["Loja Centro"]
        for asked in (f"loja_id={norte}", f"cliente_id={c2}"):
            other = await http.get(f"/admin/history/conversas?{asked}")
            assert other.status_code == 403, asked
        assert (await http.get(f"/admin/history/conversas?loja_id={norte}")).json()[
            "field"
        ] == "loja_id"
        assert await items(f"/admin/history/conversas?loja_id={centro}") == {ids["s1"]}
        # another store's rows named in the path read as unknown
        assert (await http.get(f"/admin/history/conversas/{ids['s1']}")).status_code == 200
        assert (await http.get(f"/admin/history/conversas/{ids['s2']}")).status_code == 404
        here = origin(running)
        assert (
            await http.post(f"/admin/alertas/{other_alert}/ciente", headers=here)
        ).status_code == 404
        assert (
            await http.post(f"/admin/alertas/{mine_alert}/ciente", headers=here)
        ).status_code == 200
        assert (
            await http.post(f"/admin/balcoes/{ids['b2']}/revoke", headers=here)
        ).status_code == 404
        vivo = (await http.get("/admin/ao-vivo/dados")).json()
        assert [(s["session_id"], s["loja"]) for s in vivo["encerradas"]] == [
            (ids["s1"], "Loja Centro")
        ]
        for asked in (f"loja_id={norte}", f"cliente_id={c2}"):  # Ao vivo narrowed elsewhere
            other = await http.get(f"/admin/ao-vivo/dados?{asked}")
            assert other.status_code == 403 and other.json()["field"] == asked.split("=")[0]
        mine = (await http.get(f"/admin/ao-vivo/dados?loja_id={centro}")).json()
        assert [s["session_id"] for s in mine["encerradas"]] == [ids["s1"]]
        # the operator narrows Ao vivo to a store or a chain
        for asked, seen in (
            (f"loja_id={norte}", {ids["s2"]}),
            (f"cliente_id={c1}", {ids["s1"], ids["s2"]}),
            (f"cliente_id={c2}", {ids["s3"]}),
        ):
            narrowed = (await op.get(f"/admin/ao-vivo/dados?{asked}", headers=ADMIN)).json()
            assert {s["session_id"] for s in narrowed["encerradas"]} == seen, asked
        odd = await op.get("/admin/ao-vivo/dados?loja_id=x", headers=ADMIN)
        assert odd.status_code == 400 and odd.json()["field"] == "loja_id"
        painel = (await http.get(f"/admin/painel/dados?{PERIOD}")).json()
        assert [row["cliente_id"] for row in painel["por_cliente"]] == [c1]
        assert [(r["loja"], r["recomendacoes"]) for r in painel["por_loja"]] == [("Loja Centro", 5)]
        everyone = (await op.get(f"/admin/painel/dados?{PERIOD}", headers=ADMIN)).json()
        assert {(r["loja"], r["recomendacoes"]) for r in everyone["por_loja"]} == {
            ("Loja Centro", 5),
            ("Loja Norte", 5),
            (None, 5),  # c2's balcão stands in no store
        }
        report = await http.get(f"/api/export/xlsx?{PERIOD}")
        assert report.status_code == 200
        book = openpyxl.load_workbook(io.BytesIO(report.content), read_only=True)
        rows = list(book["Interações"].iter_rows(values_only=True))
        header = rows[0]
        said = {row[header.index("transcrição")] for row in rows[1:]}
        assert said == {f"b1 fala {n}" for n in range(5)}
        assert {row[header.index("loja")] for row in rows[1:]} == {"Loja Centro"}
        resumo = {row[0]: row[1] for row in book["Resumo"].iter_rows(values_only=True)}
        assert resumo["loja"] == "Loja Centro"
        # what a store's gestor may not do: the chain's settings
        for method, path, body in (
            ("POST", f"/admin/clientes/{c1}/lojas", {"nome": "Minha"}),
            ("PUT", f"/admin/balcoes/{ids['b1']}/loja", {"loja_id": None}),
            ("PUT", f"/admin/clientes/{c1}/catalogo", {}),
            ("POST", f"/admin/clientes/{c1}/codigo", {}),
            ("POST", f"/admin/clientes/{c1}/chaves", {"nome": "k"}),
            ("PUT", f"/admin/clientes/{c1}/dois-fatores", {"exigido": True}),
            ("DELETE", f"/admin/history/conversas/{ids['s1']}", None),
        ):
            answer = await http.request(method, path, headers=here, json=body)
            assert answer.status_code == 403, (method, path, answer.text)

        # the balcão moved to another store: its history goes with it, at once
        await _place(op, ids["b1"], norte)
        assert await items("/admin/history/conversas") == set()
        # the chain's view, by store
        assert (await op.get(f"/admin/history/conversas?loja_id={norte}", headers=ADMIN)).json()[
            "items"
        ][0]["id"] in {ids["s1"], ids["s2"]}
    assert query(database_url, "SELECT ciente_por FROM alerts WHERE id = %s", mine_alert) == [
        ("Ana Gestora",)
    ]


async def test_a_chains_gestor_manages_its_own_stores_only(
    nursery: trio.Nursery, database_url: str
) -> None:
    running = await start_server(nursery, database_url)
    ids = seed(database_url)
    c1, c2 = ids["c1"], ids["c2"]
    async with (
        httpx.AsyncClient(base_url=running.base_url) as op,
        httpx.AsyncClient(base_url=running.base_url) as http,
    ):
        theirs = (await _loja(op, c2, "Loja Deles")).json()["id"]
        assert (await create_gestor(op, c1)).status_code == 201
        assert (
            await sign_in_gestor(http, running, "ana@rede1.com.br", PASSWORD)
        ).status_code == 303
        here = origin(running)
        assert (await _loja(http, c2, "Intrusa", **here)).status_code == 404
        made = await _loja(http, c1, "Loja Própria", **here)
        assert made.status_code == 201
        mine = made.json()["id"]
        place = f"/admin/balcoes/{ids['b1']}/loja"
        assert (await http.put(place, json={"loja_id": mine}, headers=here)).status_code == 200
        into_theirs = await http.put(place, json={"loja_id": theirs}, headers=here)
        assert into_theirs.status_code == 400
        their_balcao = f"/admin/balcoes/{ids['b3']}/loja"
        assert (
            await http.put(their_balcao, json={"loja_id": None}, headers=here)
        ).status_code == 404
        for method in ("PATCH", "DELETE"):
            answer = await http.request(
                method, f"/admin/lojas/{theirs}", headers=here, json={"nome": "X"}
            )
            assert answer.status_code == 404, method
        assert (await http.get(f"/admin/clientes/{c2}/lojas")).json() == {"items": []}
        assert (await http.get(f"/admin/history/conversas?loja_id={theirs}")).json()["items"] == []
        listed = await http.get(f"/admin/history/conversas?loja_id={mine}")
        assert {item["id"] for item in listed.json()["items"]} == {ids["s1"]}
    assert query(database_url, "SELECT ator FROM admin_audit WHERE action = 'create_loja'") == [
        ("operador",),
        ("gestor:ana@rede1.com.br",),
    ]


# What a store's gestor may reach: a subset of what a chain's gestor may (reading and
# acknowledging its store's rows). Opening one more is a decision this list records.
OPEN_TO_LOJAS = {
    "admin_atendentes.create",
    "admin_atendentes.listing",
    "admin_atendentes.remove",
    "admin_atendentes.rename",
    "admin_balcoes.rename",
    "admin_catalog.read",
    "admin_charts.chart_data",
    "admin_conversations.list_alerts",
    "admin_conversations.list_conversations",
    "admin_conversations.one_conversation",
    "admin_em_falta.listing",
    "admin_em_falta.mark",
    "admin_em_falta.replace",
    "admin_em_falta.restock",
    "admin_gestores.account",
    "admin_gestores.change_own_password",
    "admin_gestores.end_other_sessions",
    "admin_history.alerts",
    "admin_history.balcoes",
    "admin_history.clientes",
    "admin_history.recommendations",
    "admin_history.revoke",
    "admin_history.segments",
    "admin_live.acknowledge",
    "admin_live.live_data",
    "admin_lojas.listing",
    "admin_lojas.rotate_code",
    "admin_two_step.confirm",
    "admin_two_step.start",
    "admin_two_step.turn_off",
    "admin_voice.delete_voice",
    "admin_voice.put_voice",
    "export.export_xlsx",
    "pages.ao_vivo",
    "pages.cadastro",
    "pages.conversa",
    "pages.historico",
    "pages.painel",
}


async def test_every_other_admin_route_refuses_a_stores_gestor(
    nursery: trio.Nursery, database_url: str
) -> None:
    running = await start_server(nursery, database_url)
    cliente = seed(database_url)["c1"]
    opened, rules = opened_routes(running, "_balto_for_lojas")
    assert opened == OPEN_TO_LOJAS
    assert opened < OPEN_TO_GESTORES
    async with (
        httpx.AsyncClient(base_url=running.base_url) as op,
        httpx.AsyncClient(base_url=running.base_url) as http,
    ):
        loja = (await _loja(op, cliente, "Loja Centro")).json()["id"]
        await create_gestor(op, cliente, loja_id=loja)
        assert (
            await sign_in_gestor(http, running, "ana@rede1.com.br", PASSWORD)
        ).status_code == 303
        refused = await walk_refused(http, running, rules, OPEN_TO_LOJAS)
        # a chain's settings among them, not only the operator's
        assert {"admin_lojas.create", "admin_catalog.upload", "admin_gestores.create"} <= refused
