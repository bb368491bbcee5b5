"""Attendants over the admin API: consent required, per-cliente names, listing, removal, auth."""

from __future__ import annotations

import uuid

import httpx
import trio

from tests.admin_seed import seed
from tests.conftest import ADMIN, query, start_server
from tests.gestor_accounts import EMAIL, PASSWORD, create_gestor, origin, sign_in_gestor


async def _cliente(http: httpx.AsyncClient, razao: str) -> str:
    body = {"email": "a@rede.com", "razao_social": razao, "telefone": "11999998888"}
    codigo = (await http.post("/cadastro/cliente", headers=ADMIN, json=body)).json()["codigo"]
    clientes = (await http.get("/admin/clientes", headers=ADMIN)).json()["items"]
    (cliente_id,) = [c["id"] for c in clientes if c["codigo"] == codigo]
    return str(cliente_id)


async def _store(op: httpx.AsyncClient, cliente: str, nome: str) -> str:
    made = await op.post(f"/admin/clientes/{cliente}/lojas", json={"nome": nome}, headers=ADMIN)
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


async def _three_stores(op: httpx.AsyncClient, c1: str, c2: str) -> tuple[str, str, str]:
    """Centro and Norte of the first chain, Longe of the other."""
    return (
        await _store(op, c1, "Centro"),
        await _store(op, c1, "Norte"),
        await _store(op, c2, "Longe"),
    )


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


async def test_a_stores_gestor_registers_its_own_stores_attendants(
    nursery: trio.Nursery, database_url: str
) -> None:
    running = await start_server(nursery, database_url)
    ids = seed(database_url)
    c1, c2 = ids["c1"], ids["c2"]
    here = origin(running)
    async with (
        httpx.AsyncClient(base_url=running.base_url) as op,
        httpx.AsyncClient(base_url=running.base_url) as loja,
    ):
        centro, norte, longe = await _three_stores(op, c1, c2)

        async def attendant(http: httpx.AsyncClient, nome: str, **extra: object) -> httpx.Response:
            body = {"cliente_id": c1, "nome": nome, "consentimento": True, **extra}
            headers = ADMIN if http is op else here
            return await http.post("/admin/atendentes", json=body, headers=headers)

        ana = (await attendant(op, "Ana", loja_id=centro)).json()["id"]
        caio = (await attendant(op, "Caio")).json()["id"]
        elsewhere = await attendant(op, "Duda", loja_id=longe)
        assert elsewhere.status_code == 400 and elsewhere.json()["field"] == "loja_id"

        await create_gestor(op, c1, loja_id=norte)
        assert (await sign_in_gestor(loja, running, EMAIL, PASSWORD)).status_code == 303
        assert (await loja.get("/admin/atendentes")).json()["items"] == []
        bia = await attendant(loja, "Bia")
        assert bia.status_code == 201, bia.text
        bia_id = bia.json()["id"]
        other = await attendant(loja, "Edu", loja_id=centro)
        assert other.status_code == 403 and other.json()["field"] == "loja_id"
        listed = (await loja.get("/admin/atendentes")).json()["items"]
        assert [(a["nome"], a["loja_id"]) for a in listed] == [("Bia", norte)]
        refused = await loja.get(f"/admin/atendentes?loja_id={centro}")
        assert refused.status_code == 403
        # another store's attendant, or the chain's, reads as unknown
        for someone in (ana, caio):
            assert (
                await loja.delete(f"/admin/atendentes/{someone}", headers=here)
            ).status_code == 404
            voz = await loja.delete(f"/admin/atendentes/{someone}/voz", headers=here)
            assert voz.status_code == 404
        everyone = (await op.get(f"/admin/atendentes?cliente_id={c1}", headers=ADMIN)).json()
        assert {(a["nome"], a["loja_id"]) for a in everyone["items"]} == {
            ("Ana", centro), ("Bia", norte), ("Caio", None)
        }  # fmt: skip
        assert (await loja.delete(f"/admin/atendentes/{bia_id}", headers=here)).status_code == 204
        # a store removed leaves its attendants to the chain
        assert (await op.delete(f"/admin/lojas/{centro}", headers=ADMIN)).status_code == 204
        assert query(database_url, "SELECT loja_id FROM atendentes WHERE id = %s", ana) == [(None,)]


async def test_an_attendant_moves_between_her_chains_stores(
    nursery: trio.Nursery, database_url: str
) -> None:
    running = await start_server(nursery, database_url)
    ids = seed(database_url)
    c1, c2 = ids["c1"], ids["c2"]
    here = origin(running)
    async with (
        httpx.AsyncClient(base_url=running.base_url) as op,
        httpx.AsyncClient(base_url=running.base_url) as loja,
    ):
        centro, norte, longe = await _three_stores(op, c1, c2)
        body = {"cliente_id": c1, "nome": "Ana", "consentimento": True, "loja_id": centro}
        ana = (await op.post("/admin/atendentes", json=body, headers=ADMIN)).json()["id"]

        def epoch() -> int:
            rows = query(
                database_url, "SELECT epoch FROM voiceprint_epochs WHERE cliente_id = %s", c1
            )
            return int(rows[0][0]) if rows else 0

        def where() -> list[tuple[object, ...]]:
            return query(database_url, "SELECT loja_id::text FROM atendentes WHERE id = %s", ana)

        async def move(
            loja_id: object, who: httpx.AsyncClient = op, **body: object
        ) -> httpx.Response:
            headers = ADMIN if who is op else here
            payload = {"loja_id": loja_id, **body} if loja_id != "absent" else body
            return await who.put(f"/admin/atendentes/{ana}/loja", json=payload, headers=headers)

        before = epoch()
        moved = await move(norte)
        assert moved.status_code == 200, moved.text
        assert moved.json() == {"atendente_id": ana, "loja_id": norte}
        assert where() == [(norte,)]
        assert epoch() == before + 1  # every session re-reads who may speak at its counter
        assert (await move(None)).json()["loja_id"] is None
        assert where() == [(None,)]
        # refusals, each in words, and nothing moved
        for loja_id, status, field in (
            (longe, 400, "loja_id"),  # another chain's store
            ("absent", 400, "loja_id"),
            ("not-a-uuid", 400, "loja_id"),
        ):
            refused = await move(loja_id)
            assert (refused.status_code, refused.json().get("field")) == (status, field), (
                refused.text
            )
        assert (
            await op.put(
                f"/admin/atendentes/{uuid.uuid4()}/loja", json={"loja_id": None}, headers=ADMIN
            )
        ).status_code == 404
        assert (
            await op.put("/admin/atendentes/nope/loja", json={"loja_id": None}, headers=ADMIN)
        ).status_code == 404
        assert where() == [(None,)]

        # a store's gestor does not move people between stores (the chain does)
        await create_gestor(op, c1, loja_id=norte)
        assert (await sign_in_gestor(loja, running, EMAIL, PASSWORD)).status_code == 303
        assert (await move(norte, loja)).status_code == 403
        # a removed attendant is not there to move
        assert (await op.delete(f"/admin/atendentes/{ana}", headers=ADMIN)).status_code == 204
        assert (await move(centro)).status_code == 404


async def test_a_counter_offers_the_names_of_its_stores_attendants(
    nursery: trio.Nursery, database_url: str
) -> None:
    running = await start_server(nursery, database_url)
    async with httpx.AsyncClient(base_url=running.base_url) as op:
        rede, outra = await _cliente(op, "Rede"), await _cliente(op, "Outra")
        centro, norte = await _store(op, rede, "Centro"), await _store(op, rede, "Norte")
        [(codigo,)] = query(database_url, "SELECT codigo FROM clientes WHERE id = %s", rede)
        keys = {}
        for balcao in ("Balcão Centro", "Balcão Solto"):
            linked = await op.post(
                "/cadastro/balcao", json={"nome_balcao": balcao, "user_codigo": codigo}
            )
            keys[balcao] = (linked.json()["api_key"], linked.json()["balcao_id"])
        placed = await op.put(
            f"/admin/balcoes/{keys['Balcão Centro'][1]}/loja",
            json={"loja_id": centro},
            headers=ADMIN,
        )
        assert placed.status_code == 200
        for cliente, nome, loja in (
            (rede, "ana", centro),  # sorted by name, any case
            (rede, "Bia", norte),
            (rede, "Caio", None),
            (rede, "Duda", centro),
            (outra, "Edu", None),
        ):
            body = {"cliente_id": cliente, "nome": nome, "consentimento": True, "loja_id": loja}
            made = await op.post("/admin/atendentes", json=body, headers=ADMIN)
            assert made.status_code == 201, made.text
            if nome == "Duda":  # removed: not offered
                assert (
                    await op.delete(f"/admin/atendentes/{made.json()['id']}", headers=ADMIN)
                ).status_code == 204

        async def names(authorization: str) -> httpx.Response:
            return await op.get("/balcao/atendentes", headers={"Authorization": authorization})

        at_centro = await names(f"Bearer {keys['Balcão Centro'][0]}")
        assert at_centro.status_code == 200
        assert at_centro.json() == {"nomes": ["ana", "Caio"], "nome_balcao": "Balcão Centro"}
        assert at_centro.headers["Cache-Control"] == "no-store"
        anywhere = await names(f"bearer {keys['Balcão Solto'][0]}")
        assert anywhere.json() == {"nomes": ["ana", "Bia", "Caio"], "nome_balcao": "Balcão Solto"}
        # a counter asking again and again is no guess at the admin secret: the admins behind
        # the same address are not locked out
        for _ in range(8):
            assert (await names(f"Bearer {keys['Balcão Centro'][0]}")).status_code == 200
        assert (await op.get("/admin/clientes", headers=ADMIN)).status_code == 200
        # no key, another scheme, a stranger's key, an admin's secret: 401 in words
        for authorization in ("", "Basic abc", "Bearer bk_" + "z" * 43, ADMIN["Authorization"]):
            refused = await names(authorization)
            assert refused.status_code == 401 and refused.json()["error"] == "invalid_key"
        # a revoked key reads nothing more
        revoked = await op.post(f"/admin/balcoes/{keys['Balcão Solto'][1]}/revoke", headers=ADMIN)
        assert revoked.status_code == 200
        assert (await names(f"Bearer {keys['Balcão Solto'][0]}")).status_code == 401
