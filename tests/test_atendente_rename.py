"""Correcting an attendant's name (``PATCH /admin/atendentes/{id}``) over real HTTP and
PostgreSQL: refusals, scope, the audit row, and the cliente's voiceprint epoch bumped so
sessions name her anew from their next segment."""

from __future__ import annotations

from typing import Any

import httpx
import trio

from tests.admin_seed import seed
from tests.conftest import ADMIN, query, start_server
from tests.gestor_accounts import PASSWORD, create_gestor, origin, sign_in_gestor

UNKNOWN = "00000000-0000-0000-0000-000000000000"


async def _made(http: httpx.AsyncClient, cliente: str, nome: str, loja: str | None = None) -> str:
    body = {"cliente_id": cliente, "nome": nome, "consentimento": True, "loja_id": loja}
    made = await http.post("/admin/atendentes", json=body, headers=ADMIN)
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


async def _rename(
    http: httpx.AsyncClient, atendente: str, body: Any, headers: dict[str, str] | None = None
) -> httpx.Response:
    return await http.patch(f"/admin/atendentes/{atendente}", json=body, headers=headers)


def _epoch(database_url: str, cliente: str) -> int:
    rows = query(database_url, "SELECT epoch FROM voiceprint_epochs WHERE cliente_id = %s", cliente)
    return int(rows[0][0]) if rows else 0


async def test_an_attendants_name_is_corrected_with_clear_refusals(
    nursery: trio.Nursery, database_url: str
) -> None:
    running = await start_server(nursery, database_url)
    ids = seed(database_url)
    c1 = ids["c1"]
    async with httpx.AsyncClient(base_url=running.base_url) as op:
        ana, bia = await _made(op, c1, "Ana"), await _made(op, c1, "Bia")
        before = _epoch(database_url, c1)
        done = await _rename(op, ana, {"nome": "  Ana   Paula "}, ADMIN)
        assert done.status_code == 200, done.text
        assert done.json() == {"atendente_id": ana, "nome": "Ana Paula"}
        assert _epoch(database_url, c1) > before  # sessions re-read her name
        assert (await _rename(op, ana, {"nome": "ana paula"}, ADMIN)).status_code == 200  # hers
        taken = await _rename(op, bia, {"nome": "ANA PAULA"}, ADMIN)
        assert taken.status_code == 409 and taken.json()["field"] == "nome"
        # 80 characters at most, as the counter may declare a name
        for bad in ({}, {"nome": ""}, {"nome": " "}, {"nome": 3}, {"nome": "x" * 81}):
            refused = await _rename(op, bia, bad, ADMIN)
            assert refused.status_code == 400 and refused.json()["field"] == "nome", bad
        made = await op.post(
            "/admin/atendentes",
            json={"cliente_id": c1, "nome": "y" * 81, "consentimento": True},
            headers=ADMIN,
        )
        assert made.status_code == 400 and made.json()["field"] == "nome"
        assert (await _rename(op, bia, {"nome": "b" * 80}, ADMIN)).status_code == 200
        assert (await _rename(op, bia, {"nome": "Bia"}, ADMIN)).status_code == 200
        assert (await _rename(op, UNKNOWN, {"nome": "Z"}, ADMIN)).status_code == 404
        assert (await _rename(op, "x", {"nome": "Z"}, ADMIN)).status_code == 404
        assert (await op.delete(f"/admin/atendentes/{bia}", headers=ADMIN)).status_code == 204
        assert (await _rename(op, bia, {"nome": "Bianca"}, ADMIN)).status_code == 404  # removed

        listed = (await op.get(f"/admin/atendentes?cliente_id={c1}", headers=ADMIN)).json()
        assert [a["nome"] for a in listed["items"]] == ["ana paula"]
        assert listed["items"][0]["consentimento_at"]  # her consent stays

    assert query(
        database_url,
        "SELECT detail->>'atendente_id', detail->>'de', detail->>'para' FROM admin_audit"
        " WHERE action = 'rename_atendente' ORDER BY id",
    ) == [
        (ana, "Ana", "Ana Paula"),
        (ana, "Ana Paula", "ana paula"),
        (bia, "Bia", "b" * 80),
        (bia, "b" * 80, "Bia"),
    ]


async def test_a_stores_gestor_renames_its_stores_attendants_only(
    nursery: trio.Nursery, database_url: str
) -> None:
    running = await start_server(nursery, database_url)
    ids = seed(database_url)
    c1, c2 = ids["c1"], ids["c2"]
    async with (
        httpx.AsyncClient(base_url=running.base_url) as op,
        httpx.AsyncClient(base_url=running.base_url) as store,
    ):
        loja = await op.post(f"/admin/clientes/{c1}/lojas", json={"nome": "Centro"}, headers=ADMIN)
        loja_id = loja.json()["id"]
        mine = await _made(op, c1, "Caio", loja_id)
        chain_wide, theirs = await _made(op, c1, "Duda"), await _made(op, c2, "Edu")
        made = await create_gestor(op, c1, email="loja@rede1.com.br", loja_id=loja_id)
        assert made.status_code == 201
        signed = await sign_in_gestor(store, running, "loja@rede1.com.br", PASSWORD)
        assert signed.status_code == 303
        here = origin(running)
        assert (await _rename(store, mine, {"nome": "Caio Lima"}, here)).status_code == 200
        assert (await _rename(store, chain_wide, {"nome": "Z"}, here)).status_code == 404
        assert (await _rename(store, theirs, {"nome": "Z"}, here)).status_code == 404
    names = dict(query(database_url, "SELECT id::text, nome FROM atendentes"))
    assert (names[mine], names[chain_wide], names[theirs]) == ("Caio Lima", "Duda", "Edu")
