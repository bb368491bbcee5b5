"""Attendants over the admin API: consent required, per-cliente names, listing, removal, auth."""

from __future__ import annotations

import uuid

import httpx
import trio

from tests.conftest import ADMIN, start_server


async def _cliente(http: httpx.AsyncClient, razao: str) -> str:
    body = {"email": "a@rede.com", "razao_social": razao, "telefone": "11999998888"}
    codigo = (await http.post("/cadastro/cliente", headers=ADMIN, json=body)).json()["codigo"]
    clientes = (await http.get("/admin/clientes", headers=ADMIN)).json()["items"]
    (cliente_id,) = [c["id"] for c in clientes if c["codigo"] == codigo]
    return str(cliente_id)


async def test_attendants_are_created_with_consent_listed_per_cliente_and_removed(
    nursery: trio.Nursery, database_url: str
) -> None:
    running = await start_server(nursery, database_url)
    async with httpx.AsyncClient(base_url=running.base_url) as http:
        rede, outra = await _cliente(http, "Rede"), await _cliente(http, "Outra")
        made = await http.post(
            "/admin/atendentes",
            headers=ADMIN,
            json={"cliente_id": rede, "nome": " Ana Souza ", "consentimento": True},
        )
        assert made.status_code == 201
        ana = made.json()["id"]
        # the same name again in the same cliente is a conflict; in another cliente it is fine
        again = {"cliente_id": rede, "nome": "ana souza", "consentimento": True}
        assert (await http.post("/admin/atendentes", headers=ADMIN, json=again)).status_code == 409
        other = {"cliente_id": outra, "nome": "Ana Souza", "consentimento": True}
        assert (await http.post("/admin/atendentes", headers=ADMIN, json=other)).status_code == 201
        listed = await http.get("/admin/atendentes", headers=ADMIN, params={"cliente_id": rede})
        assert [(a["id"], a["nome"]) for a in listed.json()["items"]] == [(ana, "Ana Souza")]
        everyone = (await http.get("/admin/atendentes", headers=ADMIN)).json()["items"]
        assert len(everyone) == 2
        assert (await http.delete(f"/admin/atendentes/{ana}", headers=ADMIN)).status_code == 204
        assert (await http.delete(f"/admin/atendentes/{ana}", headers=ADMIN)).status_code == 404
        listed = await http.get("/admin/atendentes", headers=ADMIN, params={"cliente_id": rede})
        assert listed.json()["items"] == []
        # removed, the name is free again
        assert (await http.post("/admin/atendentes", headers=ADMIN, json=again)).status_code == 201


async def test_attendant_input_is_checked(nursery: trio.Nursery, database_url: str) -> None:
    running = await start_server(nursery, database_url)
    async with httpx.AsyncClient(base_url=running.base_url) as http:
        rede, unknown = await _cliente(http, "Rede"), str(uuid.uuid4())
        cases = [
            ({"cliente_id": rede, "nome": "Ana"}, 400, "consentimento"),
            ({"cliente_id": rede, "nome": "Ana", "consentimento": "sim"}, 400, "consentimento"),
            ({"cliente_id": rede, "nome": "", "consentimento": True}, 400, "nome"),
            ({"cliente_id": "x", "nome": "Ana", "consentimento": True}, 400, "cliente_id"),
            ({"cliente_id": unknown, "nome": "Ana", "consentimento": True}, 404, "cliente_id"),
        ]
        for body, status, field in cases:
            answer = await http.post("/admin/atendentes", headers=ADMIN, json=body)
            assert answer.status_code == status, body
            assert answer.json().get("field") == field, body
        broken = await http.post("/admin/atendentes", headers=ADMIN, content=b"[")
        assert broken.status_code == 400
        bad_filter = await http.get("/admin/atendentes?cliente_id=nope", headers=ADMIN)
        assert bad_filter.status_code == 400
        assert (await http.delete("/admin/atendentes/nope", headers=ADMIN)).status_code == 404
        # every route refuses a missing or wrong secret
        wrong = {"Authorization": "Bearer wrong"}
        good = {"cliente_id": rede, "nome": "Ana", "consentimento": True}
        assert (await http.post("/admin/atendentes", json=good)).status_code == 401
        assert (await http.post("/admin/atendentes", headers=wrong, json=good)).status_code == 401
        assert (await http.get("/admin/atendentes", headers=wrong)).status_code == 401
        assert (await http.delete(f"/admin/atendentes/{rede}", headers=wrong)).status_code == 401
