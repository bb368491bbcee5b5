"""Correcting a cliente's registration data (``PATCH /admin/clientes/{id}``) over real HTTP and
PostgreSQL: validated as at registration, open to the operator and the chain's gestores only,
audited field by field, and read back everywhere the cliente is named."""

from __future__ import annotations

from typing import Any

import httpx
import trio

from tests.admin_seed import seed
from tests.conftest import ADMIN, query, start_server
from tests.gestor_accounts import PASSWORD, create_gestor, origin, sign_in_gestor

UNKNOWN = "00000000-0000-0000-0000-000000000000"


async def _patch(
    http: httpx.AsyncClient, cliente: str, body: Any, headers: dict[str, str] | None = None
) -> httpx.Response:
    return await http.patch(f"/admin/clientes/{cliente}", json=body, headers=headers)


async def test_a_clientes_data_is_corrected_with_clear_refusals(
    nursery: trio.Nursery, database_url: str
) -> None:
    running = await start_server(nursery, database_url)
    ids = seed(database_url)
    c1 = ids["c1"]
    async with httpx.AsyncClient(base_url=running.base_url) as op:
        done = await _patch(
            op, c1, {"razao_social": "  Rede Um LTDA ", "telefone": "(11) 3333-4444"}, ADMIN
        )
        assert done.status_code == 200, done.text
        assert done.json() == {
            "id": c1,
            "razao_social": "Rede Um LTDA",
            "email": "a@b.com",
            "telefone": "1133334444",
        }
        for bad, field in (
            ({}, "body"),
            ({"outro": "x"}, "body"),
            ({"razao_social": ""}, "razao_social"),
            ({"razao_social": "x" * 201}, "razao_social"),
            ({"razao_social": 5}, "razao_social"),
            ({"email": "sem-arroba"}, "email"),
            ({"email": None}, "email"),
            ({"telefone": "123"}, "telefone"),
            ({"telefone": "1" * 14}, "telefone"),
            ({"razao_social": "Boa", "email": "ruim"}, "email"),  # nothing saved: all or none
        ):
            refused = await _patch(op, c1, bad, ADMIN)
            assert refused.status_code == 400, bad
            assert refused.json()["field"] == field, bad
        assert (await _patch(op, c1, ["x"], ADMIN)).json()["field"] == "body"
        assert (await _patch(op, UNKNOWN, {"email": "x@y.com"}, ADMIN)).status_code == 404
        assert (await _patch(op, "não-uuid", {"email": "x@y.com"}, ADMIN)).status_code == 404
        same = await _patch(op, c1, {"email": "a@b.com"}, ADMIN)  # no change: nothing audited
        assert same.status_code == 200
        moved = await _patch(op, c1, {"email": "contato@redeum.com.br"}, ADMIN)
        assert moved.json()["email"] == "contato@redeum.com.br"

        # read back where the cliente is named: its listing and its conversations
        listed = (await op.get(f"/admin/clientes?cliente_id={c1}", headers=ADMIN)).json()
        [row] = listed["items"]
        assert (row["razao_social"], row["email"], row["telefone"]) == (
            "Rede Um LTDA",
            "contato@redeum.com.br",
            "1133334444",
        )
        conversas = await op.get(f"/admin/history/conversas?cliente_id={c1}", headers=ADMIN)
        assert {c["razao_social"] for c in conversas.json()["items"]} == {"Rede Um LTDA"}

    assert query(
        database_url, "SELECT razao_social, email, telefone FROM clientes WHERE id = %s", ids["c2"]
    ) == [("Rede c2", "a@b.com", "11999998888")]
    audited = query(
        database_url,
        "SELECT detail->>'cliente_id', detail->'mudancas' FROM admin_audit"
        " WHERE action = 'update_cliente' ORDER BY id",
    )
    assert audited == [
        (
            c1,
            {
                "razao_social": {"de": "Rede c1", "para": "Rede Um LTDA"},
                "telefone": {"de": "11999998888", "para": "1133334444"},
            },
        ),
        (c1, {"email": {"de": "a@b.com", "para": "contato@redeum.com.br"}}),
    ]


async def test_who_may_correct_a_clientes_data(nursery: trio.Nursery, database_url: str) -> None:
    running = await start_server(nursery, database_url)
    ids = seed(database_url)
    c1, c2 = ids["c1"], ids["c2"]
    async with (
        httpx.AsyncClient(base_url=running.base_url) as op,
        httpx.AsyncClient(base_url=running.base_url) as chain,
        httpx.AsyncClient(base_url=running.base_url) as store,
    ):
        loja = await op.post(f"/admin/clientes/{c1}/lojas", json={"nome": "Centro"}, headers=ADMIN)
        assert (await create_gestor(op, c1)).status_code == 201
        made = await create_gestor(op, c1, email="loja@rede1.com.br", loja_id=loja.json()["id"])
        assert made.status_code == 201
        assert (
            await sign_in_gestor(chain, running, "ana@rede1.com.br", PASSWORD)
        ).status_code == 303
        assert (
            await sign_in_gestor(store, running, "loja@rede1.com.br", PASSWORD)
        ).status_code == 303
        here = origin(running)

        assert (await _patch(chain, c1, {"telefone": "11 2222-3333"}, here)).status_code == 200
        assert (await _patch(chain, c2, {"telefone": "11 2222-3333"}, here)).status_code == 404
        assert (
            await _patch(chain, c1, {"telefone": "11 2222-3333"})
        ).status_code == 403  # no Origin
        assert (await _patch(store, c1, {"telefone": "11 4444-5555"}, here)).status_code == 403
        key = await op.post(f"/admin/clientes/{c1}/chaves", json={"nome": "BI"}, headers=ADMIN)
        bearer = {"Authorization": f"Bearer {key.json()['chave']}"}
        assert (await _patch(op, c1, {"telefone": "11 4444-5555"}, bearer)).status_code == 403
        assert (await _patch(op, c1, {"telefone": "11 4444-5555"}, {})).status_code == 401

    phones = dict(query(database_url, "SELECT id::text, telefone FROM clientes"))
    assert (phones[c1], phones[c2]) == ("1122223333", "11999998888")
    assert query(database_url, "SELECT ator FROM admin_audit WHERE action = 'update_cliente'") == [
        ("gestor:ana@rede1.com.br",)
    ]
