"""Products out of stock over real HTTP and PostgreSQL: a chain's list per store and chain-wide,
names matched as people (and stock systems) write them, who may change which place, and the
chain's API key as the one key that may write (its stock system)."""

from __future__ import annotations

import httpx
import psycopg
import trio

from balto.store import em_falta
from balto.store.migrations import apply_migrations
from tests.admin_seed import seed
from tests.conftest import ADMIN, query, start_server
from tests.gestor_accounts import (
    EMAIL,
    PASSWORD,
    create_gestor,
    opened_routes,
    origin,
    sign_in_gestor,
)


async def _loja(op: httpx.AsyncClient, cliente: str, nome: str) -> str:
    made = await op.post(f"/admin/clientes/{cliente}/lojas", json={"nome": nome}, headers=ADMIN)
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


async def test_a_chains_list_per_place_with_names_as_people_write_them(
    nursery: trio.Nursery, database_url: str
) -> None:
    running = await start_server(nursery, database_url)
    ids = seed(database_url)
    c1, c2 = ids["c1"], ids["c2"]
    url = f"/admin/clientes/{c1}/em-falta"
    async with httpx.AsyncClient(base_url=running.base_url) as op:
        centro = await _loja(op, c1, "Centro")
        theirs = await _loja(op, c2, "Outra")
        await create_gestor(op, c1)
        assert (await sign_in_gestor(op, running, EMAIL, PASSWORD)).status_code == 303
        h = origin(running)
        whole = await op.put(
            url,
            json={
                "loja_id": None,
                "produtos": ["dorflex", "DIPIRONA monoidratada 500mg", "Paracetamol", "Xarope X"],
            },
            headers=h,
        )
        assert whole.status_code == 200, whole.text
        assert whole.json() == {
            "loja_id": None,
            "em_falta": ["Dipirona Monoidratada 500 mg", "Dorflex"],
            "ignorados": [
                {"nome": "Paracetamol", "motivo": "ambiguo"},
                {"nome": "Xarope X", "motivo": "desconhecido"},
            ],
        }
        store = await op.put(url, json={"loja_id": centro, "produtos": ["Eno"]}, headers=h)
        assert store.json()["em_falta"] == ["Sal de Frutas Eno"]
        # the store's view holds its own and the chain's rows; the chain's view every row
        at_store = (await op.get(f"{url}?loja_id={centro}")).json()["items"]
        assert sorted((i["produto"], i["loja_id"]) for i in at_store) == [
            ("Dipirona Monoidratada 500 mg", None),
            ("Dorflex", None),
            ("Sal de Frutas Eno", centro),
        ]
        assert {i["origem"] for i in at_store} == {"api"}
        assert {i["por"] for i in at_store} == {f"gestor:{EMAIL}"}
        assert all(i["no_catalogo"] for i in at_store)
        # one more, then back in stock; replacing one place leaves the others alone
        one = await op.post(url, json={"loja_id": centro, "produto": "loratadina 10 MG"}, headers=h)
        assert one.status_code == 201 and one.json()["produto"] == "Loratadina 10 mg"
        again = await op.post(url, json={"loja_id": centro, "produto": "Loratadina"}, headers=h)
        assert again.status_code == 200
        gone = await op.delete(f"{url}?loja_id={centro}&produto=Sal de Frutas Eno", headers=h)
        assert gone.status_code == 204
        assert (
            await op.delete(f"{url}?loja_id={centro}&produto=Sal de Frutas Eno", headers=h)
        ).status_code == 404
        assert (await op.put(url, json={"produtos": []}, headers=h)).json()["em_falta"] == []
        rows = query(database_url, "SELECT produto, loja_id::text FROM produtos_em_falta")
        assert rows == [("Loratadina 10 mg", centro)]
        assert query(
            database_url, "SELECT em_falta_em IS NOT NULL FROM clientes ORDER BY razao_social"
        ) == [(True,), (False,)]
        # bad input: each a 400 naming its field, nothing changed
        for body, field in (
            ({"produtos": "Dorflex"}, "produtos"),
            ({"produtos": [1, 2]}, "produtos"),
            ({"loja_id": "x", "produtos": []}, "loja_id"),
            ({"loja_id": theirs, "produtos": ["Dorflex"]}, "loja_id"),
            ({"produtos": ["Dorflex"] * 5001}, "produtos"),
        ):
            answer = await op.put(url, json=body, headers=h)
            assert answer.status_code == 400, (body, answer.text)
            assert answer.json()["field"] == field
        for body in ({"produto": "Paracetamol"}, {"produto": "Nada Disso"}, {"produto": ""}):
            answer = await op.post(url, json=body, headers=h)
            assert answer.status_code == 400 and answer.json()["field"] == "produto", answer.text
        assert (await op.delete(url, headers=h)).json()["field"] == "produto"
        # another chain's list is not there for this gestor
        other = await op.put(f"/admin/clientes/{c2}/em-falta", json={"produtos": []}, headers=h)
        assert other.status_code == 404
        assert query(database_url, "SELECT count(*) FROM produtos_em_falta") == [(1,)]
    assert [
        row[0]
        for row in query(
            database_url,
            "SELECT action FROM admin_audit WHERE action LIKE '%%em_falta' ORDER BY id",
        )
    ] == [
        "replace_em_falta",
        "replace_em_falta",
        "mark_em_falta",
        "clear_em_falta",
        "replace_em_falta",
    ]


async def test_a_store_changes_its_own_list_and_a_chains_key_is_its_stock_system(
    nursery: trio.Nursery, database_url: str
) -> None:
    running = await start_server(nursery, database_url)
    ids = seed(database_url)
    c1 = ids["c1"]
    url = f"/admin/clientes/{c1}/em-falta"
    async with (
        httpx.AsyncClient(base_url=running.base_url) as op,
        httpx.AsyncClient(base_url=running.base_url) as store,
    ):
        centro = await _loja(op, c1, "Centro")
        praia = await _loja(op, c1, "Praia")
        made = await create_gestor(op, c1, loja_id=centro)
        assert made.status_code == 201, made.text
        assert (await sign_in_gestor(store, running, EMAIL, PASSWORD)).status_code == 303
        h = origin(running)
        mine = await store.put(url, json={"loja_id": centro, "produtos": ["Dorflex"]}, headers=h)
        assert mine.status_code == 200, mine.text
        # no loja_id: its own store; the chain as a whole or another store: not its to change
        implied = await store.post(url, json={"produto": "Neosaldina"}, headers=h)
        assert implied.status_code == 201 and implied.json()["loja_id"] == centro
        for body in ({"loja_id": None, "produtos": []}, {"loja_id": praia, "produtos": []}):
            refused = await store.put(url, json=body, headers=h)
            assert refused.status_code == 403 and refused.json()["field"] == "loja_id"
        listed = (await store.get(url)).json()["items"]
        assert {i["produto"] for i in listed} == {"Dorflex", "Neosaldina"}

        keys = {}
        for nome, loja in (("ERP", None), ("ERP Praia", praia)):
            key = await op.post(
                f"/admin/clientes/{c1}/chaves", json={"nome": nome, "loja_id": loja}, headers=ADMIN
            )
            assert key.status_code == 201, key.text
            keys[nome] = {"Authorization": f"Bearer {key.json()['chave']}"}
        erp = await op.put(
            url, json={"loja_id": None, "produtos": ["Omeprazol 20mg"]}, headers=keys["ERP"]
        )
        assert erp.status_code == 200, erp.text
        praia_erp = await op.put(url, json={"produtos": ["Eno"]}, headers=keys["ERP Praia"])
        assert praia_erp.json()["loja_id"] == praia
        refused = await op.put(
            url, json={"loja_id": centro, "produtos": []}, headers=keys["ERP Praia"]
        )
        assert refused.status_code == 403
        # the key writes here and nowhere else
        for method, path in (
            ("POST", f"/admin/clientes/{c1}/codigo"),
            ("PUT", f"/admin/clientes/{c1}/catalogo"),
            ("POST", f"/admin/clientes/{c1}/lojas"),
        ):
            answer = await op.request(method, path, json={}, headers=keys["ERP"])
            assert answer.status_code == 403, (method, path, answer.text)
        assert query(
            database_url,
            "SELECT produto, por FROM produtos_em_falta WHERE loja_id IS NULL",
        ) == [("Omeprazol 20 mg", "chave:ERP")]


async def test_the_routes_a_key_may_write_through_are_the_stock_lists_only(
    nursery: trio.Nursery, database_url: str
) -> None:
    running = await start_server(nursery, database_url)
    opened, _ = opened_routes(running, "_balto_for_key_writes")
    assert opened == {"admin_em_falta.replace", "admin_em_falta.mark", "admin_em_falta.restock"}


def test_an_attendants_mark_runs_out_and_a_new_mark_takes_its_place(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        apply_migrations(conn)
    ids = seed(database_url)
    c1, b1 = ids["c1"], ids["b1"]
    with psycopg.connect(database_url, autocommit=True) as conn:
        assert em_falta.add(conn, c1, None, "Dorflex", "balcao", "balcão b1")
        assert em_falta.add(conn, c1, None, "Neosaldina", "api", "operador")
        fresh = em_falta.advice_version(conn, c1, b1, 24)
        assert em_falta.missing_at(conn, c1, b1, 24) == {"dorflex", "neosaldina"}
        listed = {row.produto: row.ate for row in em_falta.listed(conn, c1, None, 24)}
        assert listed["Neosaldina"] is None and listed["Dorflex"] is not None
        # a day later the attendant's mark has run out; the API's stays
        conn.execute("UPDATE produtos_em_falta SET desde = desde - interval '25 hours'")
        assert em_falta.missing_at(conn, c1, b1, 24) == {"neosaldina"}
        assert [row.produto for row in em_falta.listed(conn, c1, None, 24)] == ["Neosaldina"]
        ran_out = em_falta.advice_version(conn, c1, b1, 24)
        assert ran_out is not None and fresh is not None and ran_out.stock != fresh.stock
        assert em_falta.missing_at(conn, c1, b1, 0) == {"dorflex", "neosaldina"}  # 0: never
        # marked again: in force again, from now
        assert em_falta.add(conn, c1, None, "Dorflex", "balcao", "balcão b2")
        assert em_falta.missing_at(conn, c1, b1, 24) == {"dorflex", "neosaldina"}
        # an admin's mark takes an attendant's place (until taken back); never the other way
        assert em_falta.add(conn, c1, None, "Dorflex", "api", "operador")
        assert not em_falta.add(conn, c1, None, "Neosaldina", "balcao", "balcão b1")
        rows = conn.execute(
            "SELECT produto, origem, por FROM produtos_em_falta ORDER BY chave"
        ).fetchall()
    assert rows == [("Dorflex", "api", "operador"), ("Neosaldina", "api", "operador")]
