"""A chain's API keys over real HTTP and PostgreSQL: a gestor makes one for its own cliente (shown
once, kept as a hash); a system reading with it sees what the gestor sees, GET only, never the
operator's routes or another chain's data; a wrong key is a wrong guess; a revoked key is refused
at once."""

from __future__ import annotations

import io

import httpx
import openpyxl
import trio

from tests.admin_seed import seed
from tests.conftest import ADMIN, query, start_server
from tests.gestor_accounts import EMAIL, PASSWORD, create_gestor, origin, sign_in_gestor


async def test_a_chains_key_reads_its_own_data_and_nothing_else(
    nursery: trio.Nursery, database_url: str
) -> None:
    running = await start_server(nursery, database_url)
    ids = seed(database_url)
    c1, c2 = ids["c1"], ids["c2"]
    async with httpx.AsyncClient(base_url=running.base_url) as gestor:
        await create_gestor(gestor, c1)
        assert (await sign_in_gestor(gestor, running, EMAIL, PASSWORD)).status_code == 303
        other = await gestor.post(
            f"/admin/clientes/{c2}/chaves", json={"nome": "BI"}, headers=origin(running)
        )
        assert other.status_code == 404
        made = await gestor.post(
            f"/admin/clientes/{c1}/chaves", json={"nome": "BI da rede"}, headers=origin(running)
        )
        assert made.status_code == 201, made.text
        key, key_id = made.json()["chave"], made.json()["id"]
        assert key.startswith("ck_") and len(key) == 46
        listed = (await gestor.get(f"/admin/clientes/{c1}/chaves")).json()["items"]
        assert [(k["nome"], k["dica"], k["criada_por"]) for k in listed] == [
            ("BI da rede", key[:8], "gestor:ana@rede1.com.br")
        ]
        assert key not in str(listed)
        ((stored,),) = query(database_url, "SELECT chave_hash FROM chaves_api")
        assert key.encode() not in bytes(stored)

    bearer = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=running.base_url, headers=bearer) as system:
        conta = (await system.get("/admin/conta")).json()
        assert conta["papel"] == "chave" and conta["cliente_id"] == c1
        items = (await system.get("/admin/history/conversas")).json()["items"]
        assert {item["id"] for item in items} == {ids["s1"], ids["s2"]}
        assert (await system.get(f"/admin/history/conversas?cliente_id={c2}")).status_code == 403
        assert (await system.get(f"/admin/history/conversas/{ids['s3']}")).status_code == 404
        report = await system.get("/api/export/xlsx?desde=2026-03-01&ate=2026-03-03")
        assert report.status_code == 200
        sheet = openpyxl.load_workbook(io.BytesIO(report.content), read_only=True)["Interações"]
        said = {str(cell) for row in sheet.iter_rows(values_only=True) for cell in row}
        assert "b1 fala 0" in said and "b3 fala 0" not in said
        # reads only: nothing it may change, nothing of the operator's
        for method, path, status in (
            ("DELETE", f"/admin/history/conversas/{ids['s1']}", 403),
            ("POST", f"/admin/clientes/{c1}/codigo", 403),
            ("POST", f"/admin/clientes/{c1}/chaves", 403),
            ("GET", "/admin/audit", 403),
            ("GET", "/admin/sessions", 403),
            ("GET", "/metrics", 401),
            ("GET", "/admin/historico", 401),  # pages are for people
        ):
            answer = await system.request(method, path, json={})
            assert answer.status_code == status, (method, path, answer.text)
    assert query(database_url, "SELECT ator FROM admin_audit WHERE action = 'export_xlsx'") == [
        ("chave:BI da rede",)
    ]
    assert query(database_url, "SELECT usada_em IS NOT NULL FROM chaves_api") == [(True,)]

    async with httpx.AsyncClient(base_url=running.base_url) as op:
        # the operator sees and may revoke it too; revoked, it is refused at once
        assert (
            len((await op.get(f"/admin/clientes/{c1}/chaves", headers=ADMIN)).json()["items"]) == 1
        )
        assert (await op.delete(f"/admin/chaves/{key_id}", headers=ADMIN)).status_code == 204
        assert (await op.get("/admin/history/conversas", headers=bearer)).status_code == 401
        assert (await op.delete(f"/admin/chaves/{key_id}", headers=ADMIN)).status_code == 204


async def test_a_wrong_key_is_a_wrong_guess_and_a_gestor_cannot_revoke_another_chains_key(
    nursery: trio.Nursery, database_url: str
) -> None:
    running = await start_server(nursery, database_url)
    ids = seed(database_url)
    async with httpx.AsyncClient(base_url=running.base_url) as http:
        theirs = await http.post(
            f"/admin/clientes/{ids['c2']}/chaves", json={"nome": "outra rede"}, headers=ADMIN
        )
        their_id = theirs.json()["id"]
        await create_gestor(http, ids["c1"])
        assert (await sign_in_gestor(http, running, EMAIL, PASSWORD)).status_code == 303
        revoke = await http.delete(f"/admin/chaves/{their_id}", headers=origin(running))
        assert revoke.status_code == 404
        assert query(database_url, "SELECT revogada_em FROM chaves_api") == [(None,)]
    wrong = {"Authorization": "Bearer ck_" + "x" * 43}
    async with httpx.AsyncClient(base_url=running.base_url, headers=wrong) as guesser:
        statuses = [(await guesser.get("/admin/history/conversas")).status_code for _ in range(6)]
    assert statuses == [401] * 5 + [429]


async def test_a_stores_key_reads_that_store_only(nursery: trio.Nursery, database_url: str) -> None:
    running = await start_server(nursery, database_url)
    ids = seed(database_url)
    c1, c2 = ids["c1"], ids["c2"]
    async with (
        httpx.AsyncClient(base_url=running.base_url) as op,
        httpx.AsyncClient(base_url=running.base_url) as system,
    ):

        async def loja(cliente: str, nome: str) -> str:
            made = await op.post(
                f"/admin/clientes/{cliente}/lojas", json={"nome": nome}, headers=ADMIN
            )
            assert made.status_code == 201, made.text
            return str(made.json()["id"])

        centro, norte, longe = (
            await loja(c1, "Centro"),
            await loja(c1, "Norte"),
            await loja(c2, "Longe"),
        )
        for balcao, where in ((ids["b1"], centro), (ids["b2"], norte)):
            placed = await op.put(
                f"/admin/balcoes/{balcao}/loja", json={"loja_id": where}, headers=ADMIN
            )
            assert placed.status_code == 200
        refused = await op.post(
            f"/admin/clientes/{c1}/chaves", json={"nome": "PDV", "loja_id": longe}, headers=ADMIN
        )
        assert refused.status_code == 400 and refused.json()["field"] == "loja_id"
        made = await op.post(
            f"/admin/clientes/{c1}/chaves",
            json={"nome": "PDV Centro", "loja_id": centro},
            headers=ADMIN,
        )
        assert made.status_code == 201, made.text
        key_id = made.json()["id"]
        listed = (await op.get(f"/admin/clientes/{c1}/chaves", headers=ADMIN)).json()["items"]
        assert [(k["nome"], k["loja_id"]) for k in listed] == [("PDV Centro", centro)]
        system.headers["Authorization"] = f"Bearer {made.json()['chave']}"

        conta = (await system.get("/admin/conta")).json()
        assert (conta["papel"], conta["loja_id"], conta["loja_nome"]) == ("chave", centro, "Centro")
        conversas = (await system.get("/admin/history/conversas")).json()["items"]
        assert {c["id"] for c in conversas} == {ids["s1"]}
        assert (await system.get(f"/admin/history/conversas/{ids['s2']}")).status_code == 404
        other = await system.get(f"/admin/history/conversas?loja_id={norte}")
        assert other.status_code == 403 and other.json()["field"] == "loja_id"
        # a route a store's gestor does not reach, a key of the store does not either
        assert (await system.get(f"/admin/clientes/{c1}/chaves")).status_code == 403
        assert (await system.get(f"/admin/clientes/{c1}/gestores")).status_code == 403
        report = await system.get("/api/export/xlsx?desde=2020-01-01T00:00:00Z")
        assert report.status_code == 200
        book = openpyxl.load_workbook(io.BytesIO(report.content), read_only=True)
        rows = list(book["Interações"].iter_rows(values_only=True))
        book.close()
        header = next(n for n, row in enumerate(rows) if "loja" in row)
        column = rows[header].index("loja")
        assert {row[column] for row in rows[header + 1 :] if any(row)} == {"Centro"}

        # the store stays while its key is live: a removal must not widen what the key reads
        assert (await op.delete(f"/admin/lojas/{centro}", headers=ADMIN)).status_code == 409
        assert (await op.delete(f"/admin/chaves/{key_id}", headers=ADMIN)).status_code == 204
        assert (await op.delete(f"/admin/lojas/{centro}", headers=ADMIN)).status_code == 204
        assert query(database_url, "SELECT loja_id FROM chaves_api WHERE id = %s", key_id) == [
            (None,)
        ]
