"""A store's own linking code, over real HTTP and PostgreSQL: a balcão linked with it belongs to
the store, a new code retires the old one, a store's gestor makes its own store's code only, and
the chains' and the stores' codes share one space (one code names one place)."""

from __future__ import annotations

import re

import httpx
import psycopg
import pytest
import trio

from balto.store import link_codes, lojas
from balto.store.cadastro import rotate_codigo
from tests.admin_seed import seed
from tests.conftest import ADMIN, query, start_server
from tests.gestor_accounts import PASSWORD, create_gestor, origin, sign_in_gestor


async def _link(http: httpx.AsyncClient, codigo: str, nome: str) -> httpx.Response:
    return await http.post("/cadastro/balcao", json={"nome_balcao": nome, "user_codigo": codigo})


async def test_a_balcao_linked_with_a_stores_code_belongs_to_the_store(
    nursery: trio.Nursery, database_url: str
) -> None:
    running = await start_server(nursery, database_url)
    ids = seed(database_url)
    c1, c2 = ids["c1"], ids["c2"]
    here = origin(running)
    async with (
        httpx.AsyncClient(base_url=running.base_url) as op,
        httpx.AsyncClient(base_url=running.base_url) as device,
        httpx.AsyncClient(base_url=running.base_url) as carla,
        httpx.AsyncClient(base_url=running.base_url) as bruno,
    ):
        centro = (
            await op.post(f"/admin/clientes/{c1}/lojas", json={"nome": "Centro"}, headers=ADMIN)
        ).json()["id"]
        praia = (
            await op.post(f"/admin/clientes/{c1}/lojas", json={"nome": "Praia"}, headers=ADMIN)
        ).json()["id"]
        listed = (await op.get(f"/admin/clientes/{c1}/lojas", headers=ADMIN)).json()["items"]
        codes = {row["id"]: row["codigo"] for row in listed}
        chain_code = query(database_url, "SELECT codigo FROM clientes WHERE id = %s", c1)[0][0]
        assert all(re.fullmatch(r"[0-9]{6}", c) for c in codes.values())
        assert len({*codes.values(), chain_code}) == 3

        linked = await _link(device, codes[centro], "Balcão Centro 1")
        assert linked.status_code == 201, linked.text
        balcao = linked.json()["balcao_id"]
        via_chain = (await _link(device, chain_code, "Balcão sem loja")).json()["balcao_id"]
        rows = (await op.get(f"/admin/balcoes?cliente_id={c1}", headers=ADMIN)).json()["items"]
        placed = {row["id"]: (row["loja_id"], row["loja"]) for row in rows}
        assert placed[balcao] == (centro, "Centro")
        assert placed[via_chain] == (None, None)

        # a new code: the old one links nothing any more, the balcão linked with it stays
        new = await op.post(f"/admin/lojas/{centro}/codigo", headers=ADMIN)
        assert new.status_code == 200, new.text
        assert new.json()["id"] == centro and new.json()["codigo"] != codes[centro]
        assert (await _link(device, codes[centro], "Tarde demais")).status_code == 404
        assert (await _link(device, new.json()["codigo"], "Balcão Centro 2")).status_code == 201
        assert query(database_url, "SELECT revoked_at FROM balcoes WHERE id = %s", balcao) == [
            (None,)
        ]

        # a store's gestor makes its own store's code, and no other
        await create_gestor(op, c1, nome="Carla", email="carla@rede1.com.br", loja_id=centro)
        await create_gestor(op, c2, nome="Bruno", email="bruno@rede2.com.br")
        for who, email in ((carla, "carla@rede1.com.br"), (bruno, "bruno@rede2.com.br")):
            assert (await sign_in_gestor(who, running, email, PASSWORD)).status_code == 303
        mine = await carla.post(f"/admin/lojas/{centro}/codigo", headers=here)
        assert mine.status_code == 200
        seen = (await carla.get(f"/admin/clientes/{c1}/lojas")).json()["items"]
        assert [(row["id"], row["codigo"]) for row in seen] == [(centro, mine.json()["codigo"])]
        assert (await carla.post(f"/admin/lojas/{praia}/codigo", headers=here)).status_code == 404
        assert (await bruno.post(f"/admin/lojas/{centro}/codigo", headers=here)).status_code == 404
        unknown = "/admin/lojas/00000000-0000-0000-0000-000000000000/codigo"
        assert (await op.post(unknown, headers=ADMIN)).status_code == 404
        assert (await op.post("/admin/lojas/x/codigo", headers=ADMIN)).status_code == 404

        # a store made before stores had codes has none until one is made
        query(database_url, "UPDATE lojas SET codigo = NULL WHERE id = %s RETURNING id", praia)
        listed = (await op.get(f"/admin/clientes/{c1}/lojas", headers=ADMIN)).json()["items"]
        assert {row["id"]: row["codigo"] for row in listed}[praia] is None
        made = await op.post(f"/admin/lojas/{praia}/codigo", headers=ADMIN)
        assert made.status_code == 200 and re.fullmatch(r"[0-9]{6}", made.json()["codigo"])
        audited = query(
            database_url, "SELECT ator FROM admin_audit WHERE action = 'rotate_loja_codigo'"
        )
        assert ("gestor:carla@rede1.com.br",) in audited and ("operador",) in audited


async def test_a_code_is_never_handed_out_twice_across_chains_and_stores(
    nursery: trio.Nursery, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    await start_server(nursery, database_url)  # the schema
    ids = seed(database_url)
    chain_code = query(database_url, "SELECT codigo FROM clientes WHERE id = %s", ids["c1"])[0][0]
    # the random draws: first a chain's code, then one that is free
    draws = iter([int(chain_code), 123457])
    monkeypatch.setattr(link_codes.secrets, "randbelow", lambda _: next(draws))
    with psycopg.connect(database_url) as conn:
        new_id = lojas.create(conn, ids["c1"], "Centro")
    assert new_id is not None
    assert query(database_url, "SELECT codigo FROM lojas WHERE id = %s", new_id) == [("123457",)]
    # and the other way round: a chain's new code skips a store's
    draws = iter([123457, 765432])
    with psycopg.connect(database_url) as conn:
        assert rotate_codigo(conn, ids["c2"]) == "765432"
