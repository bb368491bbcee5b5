"""A cliente's access suspended and resumed (``PUT/DELETE /admin/clientes/{id}/suspensao``) over
real HTTP, WebSockets and PostgreSQL: every door of the chain shuts at once and says why (its
live sessions closed with 4009, its counters, gestores, API keys and linking codes refused),
another chain is untouched, nothing is lost, and resuming opens the same doors again."""

from __future__ import annotations

import json
from typing import Any

import httpx
import trio
from trio_websocket import (
    WebSocketConnection,
    connect_websocket_url,
    open_websocket_url,
)

from supervisors.root import Running
from tests.conftest import (
    ADMIN,
    allow_connections,
    query,
    register_balcao,
    start_server,
    ws_url,
)
from tests.gestor_accounts import PASSWORD, create_gestor, origin, sign_in_gestor
from tests.sockets import closed_with

UNKNOWN = "00000000-0000-0000-0000-000000000000"
CLIENTE = {"email": "contato@redeum.com.br", "razao_social": "Rede Um", "telefone": "11999998888"}


async def _chain(http: httpx.AsyncClient) -> tuple[str, str, list[tuple[str, str]]]:
    """A cliente with two linked balcões: its id, its code, and each balcão's (key, id)."""
    codigo = (await http.post("/cadastro/cliente", json=CLIENTE, headers=ADMIN)).json()["codigo"]
    balcoes = []
    for nome in ("Balcão 1", "Balcão 2"):
        made = await http.post(
            "/cadastro/balcao", json={"nome_balcao": nome, "user_codigo": codigo}
        )
        assert made.status_code == 201, made.text
        balcoes.append((made.json()["api_key"], made.json()["balcao_id"]))
    [(cliente,)] = [
        (c["id"],)
        for c in (await http.get("/admin/clientes", headers=ADMIN)).json()["items"]
        if c["razao_social"] == "Rede Um"
    ]
    return cliente, codigo, balcoes


async def _connect(
    nursery: trio.Nursery, running: Running, key: str, balcao: str, http: httpx.AsyncClient
) -> WebSocketConnection:
    """A device socket past its handshake, once the server lists its session."""
    ws = await connect_websocket_url(nursery, ws_url(running))
    await ws.send_message(json.dumps({"api_key": key}))
    with trio.fail_after(10):
        while (await http.get(f"/admin/sessions/{balcao}", headers=ADMIN)).status_code != 200:  # noqa: ASYNC110 - polling the server
            await trio.sleep(0.05)
    return ws


async def _refused_at_handshake(running: Running, key: str) -> tuple[int, str | None]:
    async with open_websocket_url(ws_url(running)) as ws:
        await ws.send_message(json.dumps({"api_key": key}))
        return await closed_with(ws)


def _suspend(motivo: Any = "contrato encerrado") -> dict[str, Any]:
    return {"json": {"motivo": motivo}}


async def test_a_suspended_chain_is_refused_everywhere_and_resumed_as_it_was(
    nursery: trio.Nursery, database_url: str
) -> None:
    running = await start_server(nursery, database_url)
    other_key, other_balcao = await register_balcao(running.base_url, "Balcão de outra rede")
    async with (
        httpx.AsyncClient(base_url=running.base_url) as op,
        httpx.AsyncClient(base_url=running.base_url) as ana,
        httpx.AsyncClient(base_url=running.base_url) as device,
    ):
        cliente, codigo, [(k1, b1), (k2, b2)] = await _chain(op)
        assert (await create_gestor(op, cliente)).status_code == 201
        assert (await sign_in_gestor(ana, running, "ana@rede1.com.br", PASSWORD)).status_code == 303
        key = await op.post(f"/admin/clientes/{cliente}/chaves", json={"nome": "BI"}, headers=ADMIN)
        bi = {"Authorization": f"Bearer {key.json()['chave']}"}
        loja = await op.post(
            f"/admin/clientes/{cliente}/lojas", json={"nome": "Centro"}, headers=ADMIN
        )
        lojas = (await op.get(f"/admin/clientes/{cliente}/lojas", headers=ADMIN)).json()["items"]
        loja_codigo = {row["id"]: row["codigo"] for row in lojas}[loja.json()["id"]]
        ws1 = await _connect(nursery, running, k1, b1, op)
        ws2 = await _connect(nursery, running, k2, b2, op)
        ws_other = await _connect(nursery, running, other_key, other_balcao, op)

        # refusals first: a gestor cannot suspend (even its own chain), bad bodies, unknown ids
        path = f"/admin/clientes/{cliente}/suspensao"
        mine = await ana.put(path, headers=origin(running), **_suspend())
        assert mine.status_code == 403, mine.text
        for bad in ({}, {"motivo": ""}, {"motivo": "   "}, {"motivo": "x" * 201}, {"motivo": 3}):
            refused = await op.put(path, json=bad, headers=ADMIN)
            assert (refused.status_code, refused.json()["field"]) == (400, "motivo"), bad
        assert (await op.put(path, json=["x"], headers=ADMIN)).json()["field"] == "body"
        for unknown in (UNKNOWN, "não-uuid"):
            gone = await op.put(f"/admin/clientes/{unknown}/suspensao", headers=ADMIN, **_suspend())
            assert gone.status_code == 404
            assert (
                await op.delete(f"/admin/clientes/{unknown}/suspensao", headers=ADMIN)
            ).status_code == 404
        assert query(database_url, "SELECT suspenso_em FROM clientes WHERE id = %s", cliente) == [
            (None,)
        ]

        done = await op.put(path, headers=ADMIN, **_suspend("  contrato   encerrado "))
        assert done.status_code == 200, done.text
        body = done.json()
        assert body["cliente_id"] == cliente and body["suspenso_em"]
        assert body["motivo"] == "contrato encerrado"
        assert (body["sessoes_encerradas"], body["instancias_sem_resposta"]) == (2, [])
        for ws in (ws1, ws2):
            assert await closed_with(ws) == (4009, "Acesso do cliente suspenso")
        # another chain's session goes on
        assert (await op.get(f"/admin/sessions/{other_balcao}", headers=ADMIN)).status_code == 200
        await ws_other.aclose()

        # every door refuses, and says why
        assert await _refused_at_handshake(running, k1) == (4009, "Acesso do cliente suspenso")
        counter = await device.get("/balcao/atendentes", headers={"Authorization": f"Bearer {k2}"})
        assert (counter.status_code, counter.json()["error"]) == (403, "suspended")
        for code in (codigo, loja_codigo):
            link = await device.post(
                "/cadastro/balcao", json={"nome_balcao": "B", "user_codigo": code}
            )
            assert (link.status_code, link.json()["error"], link.json()["field"]) == (
                403,
                "suspended",
                "user_codigo",
            )
        api = await ana.get("/admin/balcoes")
        assert (api.status_code, api.json()["error"]) == (403, "suspended")
        assert "suspenso" in api.json()["message"]
        page = await ana.get("/admin/ao-vivo")
        assert page.status_code == 403 and 'id="suspenso"' in page.text
        signin_form = await ana.get("/entrar")  # not sent back to the page that refuses it
        assert signin_form.status_code == 200
        read = await device.get("/admin/balcoes", headers=bi)
        assert (read.status_code, read.json()["error"]) == (403, "suspended")
        async with httpx.AsyncClient(base_url=running.base_url) as again:
            wrong = await sign_in_gestor(again, running, "ana@rede1.com.br", "senha-errada-1")
            assert wrong.status_code == 401 and "suspenso" not in wrong.text  # told no one else
            right = await sign_in_gestor(again, running, "ana@rede1.com.br", PASSWORD)
            assert right.status_code == 403 and "suspenso" in right.text
            assert not again.cookies  # no session cookie set
        # the operator still reads everything, and sees why
        listed = (await op.get(f"/admin/clientes?cliente_id={cliente}", headers=ADMIN)).json()
        [row] = listed["items"]
        assert (row["suspenso_em"], row["suspenso_motivo"]) == (
            body["suspenso_em"],
            "contrato encerrado",
        )
        assert (
            len(
                (await op.get(f"/admin/balcoes?cliente_id={cliente}", headers=ADMIN)).json()[
                    "items"
                ]
            )
            == 2
        )
        # asked again: the first time and reason stay
        twice = await op.put(path, headers=ADMIN, **_suspend("outro motivo"))
        assert twice.status_code == 200
        assert (twice.json()["suspenso_em"], twice.json()["motivo"]) == (
            body["suspenso_em"],
            "contrato encerrado",
        )
        assert twice.json()["sessoes_encerradas"] == 0

        # resumed: the same key, cookie, API key and codes work again
        resumed = await op.delete(path, headers=ADMIN)
        assert resumed.status_code == 200 and resumed.json() == {
            "cliente_id": cliente,
            "suspenso_em": None,
        }
        assert (await op.delete(path, headers=ADMIN)).status_code == 200  # nothing to lift
        ws1 = await _connect(nursery, running, k1, b1, op)
        assert (await ana.get("/admin/balcoes")).status_code == 200
        assert (await ana.get("/admin/ao-vivo")).status_code == 200
        assert (await device.get("/admin/balcoes", headers=bi)).status_code == 200
        counter = await device.get("/balcao/atendentes", headers={"Authorization": f"Bearer {k2}"})
        assert counter.status_code == 200
        link = await device.post(
            "/cadastro/balcao", json={"nome_balcao": "B3", "user_codigo": codigo}
        )
        assert link.status_code == 201, link.text
        await ws1.aclose()

    with trio.fail_after(10):
        while query(  # noqa: ASYNC110 - polling the database
            database_url,
            "SELECT count(*) FROM sessions s JOIN balcoes b ON b.id = s.balcao_id"
            " WHERE b.cliente_id = %s AND s.close_code = 4009",
            cliente,
        ) != [(2,)]:
            await trio.sleep(0.1)
    audited = query(
        database_url,
        "SELECT action, detail->>'motivo', detail->>'sessoes_encerradas' FROM admin_audit"
        " WHERE action IN ('suspend_cliente', 'resume_cliente') ORDER BY id",
    )
    assert audited == [
        ("suspend_cliente", "contrato encerrado", "2"),
        ("resume_cliente", None, None),
    ]
    failures = query(database_url, "SELECT reason FROM cadastro_failures ORDER BY at")
    assert failures == [("suspended",), ("suspended",)]
    # no guess counted against the address: right codes, a right key
    assert query(
        database_url, "SELECT count(*) FROM cadastro_failures WHERE reason <> 'suspended'"
    ) == [(0,)]


async def test_a_suspension_asked_of_one_instance_closes_the_chains_sessions_on_another(
    nursery: trio.Nursery, database_url: str
) -> None:
    a = await start_server(nursery, database_url)
    b = await start_server(nursery, database_url)
    # a third instance that never answers: its row is there, nobody listens on its channel
    query(database_url, "INSERT INTO instances (id) VALUES ('mudo')")
    async with httpx.AsyncClient(base_url=b.base_url) as op:
        cliente, _, [(k1, b1), _] = await _chain(op)
        ws = await _connect(nursery, a, k1, b1, op)
        done = await op.put(f"/admin/clientes/{cliente}/suspensao", headers=ADMIN, **_suspend())
        assert done.status_code == 200, done.text
        assert done.json()["sessoes_encerradas"] == 1
        assert done.json()["instancias_sem_resposta"] == ["mudo"]
        assert await closed_with(ws) == (4009, "Acesso do cliente suspenso")
        # the instance that held it forgot the key too: with the database away right after,
        # the counter is told to try again, not let back in from the key cache
        allow_connections(database_url, False)
        try:
            assert (await _refused_at_handshake(a, k1))[0] == 4008
        finally:
            allow_connections(database_url, True)
        assert await _refused_at_handshake(a, k1) == (4009, "Acesso do cliente suspenso")
