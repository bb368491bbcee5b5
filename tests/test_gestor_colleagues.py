"""A chain's gestor manages its colleagues' accounts (its own chain's only), e.g. gives each store
its manager, over real HTTP and PostgreSQL; a store's gestor manages none; nobody resets or
deactivates their own account through these routes."""

from __future__ import annotations

import httpx
import trio

from tests.admin_seed import seed
from tests.conftest import ADMIN, query, start_server
from tests.gestor_accounts import PASSWORD, create_gestor, origin, sign_in_gestor

CARLA = {"nome": "Carla Loja", "email": "carla@rede1.com.br", "senha": "senha-da-carla-1"}


async def test_a_chains_gestor_gives_its_stores_their_managers(
    nursery: trio.Nursery, database_url: str
) -> None:
    running = await start_server(nursery, database_url)
    ids = seed(database_url)
    c1, c2 = ids["c1"], ids["c2"]
    here = origin(running)
    async with (
        httpx.AsyncClient(base_url=running.base_url) as op,
        httpx.AsyncClient(base_url=running.base_url) as ana,
        httpx.AsyncClient(base_url=running.base_url) as carla,
    ):
        ana_id = (await create_gestor(op, c1)).json()["id"]
        bruno = await create_gestor(op, c2, nome="Bruno", email="bruno@rede2.com.br")
        bruno_id = bruno.json()["id"]
        assert (await sign_in_gestor(ana, running, "ana@rede1.com.br", PASSWORD)).status_code == 303
        loja = await ana.post(f"/admin/clientes/{c1}/lojas", json={"nome": "Centro"}, headers=here)
        loja_id = loja.json()["id"]

        made = await ana.post(
            f"/admin/clientes/{c1}/gestores", json={**CARLA, "loja_id": loja_id}, headers=here
        )
        assert made.status_code == 201, made.text
        carla_id = made.json()["id"]
        theirs = await ana.post(
            f"/admin/clientes/{c2}/gestores", json={**CARLA, "email": "x@y.com"}, headers=here
        )
        assert theirs.status_code == 404
        listed = (await ana.get(f"/admin/clientes/{c1}/gestores")).json()["items"]
        assert {(g["nome"], g["loja_id"]) for g in listed} == {
            ("Ana Gestora", None),
            ("Carla Loja", loja_id),
        }
        assert (await ana.get(f"/admin/clientes/{c2}/gestores")).json() == {"items": []}

        # another chain's account reads as unknown; one's own is changed under Sua conta
        for method, path, body in (
            ("PUT", f"/admin/gestores/{bruno_id}/senha", {"senha": "outra-senha-123"}),
            ("DELETE", f"/admin/gestores/{bruno_id}", None),
        ):
            answer = await ana.request(method, path, json=body, headers=here)
            assert answer.status_code == 404, (method, answer.text)
        for method, path, body in (
            ("PUT", f"/admin/gestores/{ana_id}/senha", {"senha": "outra-senha-123"}),
            ("DELETE", f"/admin/gestores/{ana_id}", None),
        ):
            answer = await ana.request(method, path, json=body, headers=here)
            assert answer.status_code == 409 and "Sua conta" in answer.json()["message"]

        # the store's manager forgot her password: the chain's gestor sets a new one
        reset = await ana.put(
            f"/admin/gestores/{carla_id}/senha", json={"senha": "nova-senha-carla"}, headers=here
        )
        assert reset.status_code == 200
        old = await sign_in_gestor(carla, running, CARLA["email"], CARLA["senha"])
        assert old.status_code == 401
        signed = await sign_in_gestor(carla, running, CARLA["email"], "nova-senha-carla")
        assert signed.status_code == 303
        assert (await carla.get("/admin/conta")).json()["loja_nome"] == "Centro"
        # a store's gestor manages no one
        for method, path in (
            ("GET", f"/admin/clientes/{c1}/gestores"),
            ("POST", f"/admin/clientes/{c1}/gestores"),
            ("DELETE", f"/admin/gestores/{ana_id}"),
        ):
            answer = await carla.request(method, path, json=CARLA, headers=here)
            assert answer.status_code == 403, (method, path)

        assert (await ana.delete(f"/admin/gestores/{carla_id}", headers=here)).status_code == 204
        assert (await carla.get("/admin/conta")).status_code == 401  # her session ended
        assert (await ana.delete(f"/admin/gestores/{carla_id}", headers=here)).status_code == 204
        # the operator still manages everyone
        assert (await op.delete(f"/admin/gestores/{bruno_id}", headers=ADMIN)).status_code == 204
    done = query(
        database_url,
        "SELECT action, ator FROM admin_audit WHERE action LIKE '%%gestor%%' ORDER BY id",
    )
    assert done == [
        ("create_gestor", "operador"),
        ("create_gestor", "operador"),
        ("create_gestor", "gestor:ana@rede1.com.br"),
        ("reset_gestor_password", "gestor:ana@rede1.com.br"),
        ("deactivate_gestor", "gestor:ana@rede1.com.br"),
        ("deactivate_gestor", "gestor:ana@rede1.com.br"),
        ("deactivate_gestor", "operador"),
    ]
