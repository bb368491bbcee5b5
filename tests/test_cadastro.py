"""The cadastro API as the seed defines it, over HTTP against the real server."""

from __future__ import annotations

import json
import re

import httpx
import pytest
import trio

from balto.device import stream_file
from balto.store.cadastro import hash_api_key
from tests.conftest import ADMIN, FIXTURES, query, register_balcao, start_server, ws_url

CLIENTE = {
    "email": "contato@redepharma.com",
    "razao_social": "Rede Pharma LTDA",
    "telefone": "11999998888",
}


WAV = FIXTURES / "two_utterances.wav"
REVOGAR = "/cadastro/balcao/revogar"


async def test_register_cliente_and_balcao(nursery: trio.Nursery, database_url: str) -> None:
    running = await start_server(nursery, database_url)
    async with httpx.AsyncClient(base_url=running.base_url) as http:
        cliente = await http.post("/cadastro/cliente", headers=ADMIN, json=CLIENTE)
        assert cliente.status_code == 201
        codigo = cliente.json()["codigo"]
        assert re.fullmatch(r"\d{6}", codigo)
        balcao = await http.post(
            "/cadastro/balcao", json={"nome_balcao": "Balcão 1", "user_codigo": codigo}
        )
    assert balcao.status_code == 201
    body = balcao.json()
    assert set(body) == {"api_key", "balcao_id", "status"}
    assert body["status"] == "registered"
    assert body["api_key"].startswith("bk_") and len(body["api_key"]) > 40
    rows = query(database_url, "SELECT api_key_hash FROM balcoes WHERE id = %s", body["balcao_id"])
    assert bytes(rows[0][0]) == hash_api_key(body["api_key"])  # stored hashed
    assert body["api_key"].encode() not in bytes(rows[0][0])


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic x"}]
)
async def test_cliente_requires_admin(
    nursery: trio.Nursery, database_url: str, headers: dict[str, str]
) -> None:
    running = await start_server(nursery, database_url)
    async with httpx.AsyncClient(base_url=running.base_url) as http:
        response = await http.post("/cadastro/cliente", headers=headers, json=CLIENTE)
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**CLIENTE, "email": "sem-arroba"}, "email"),
        ({k: v for k, v in CLIENTE.items() if k != "razao_social"}, "razao_social"),
        ({**CLIENTE, "telefone": 11999998888}, "telefone"),
        ({**CLIENTE, "telefone": "123"}, "telefone"),
        ({**CLIENTE, "razao_social": "   "}, "razao_social"),
    ],
)
async def test_cliente_bad_field_is_named(
    nursery: trio.Nursery, database_url: str, body: dict[str, object], field: str
) -> None:
    running = await start_server(nursery, database_url)
    async with httpx.AsyncClient(base_url=running.base_url) as http:
        response = await http.post("/cadastro/cliente", headers=ADMIN, json=body)
    assert response.status_code == 400
    assert response.json()["field"] == field


async def test_balcao_errors(nursery: trio.Nursery, database_url: str) -> None:
    running = await start_server(nursery, database_url)
    async with httpx.AsyncClient(base_url=running.base_url) as http:
        unknown = await http.post(
            "/cadastro/balcao", json={"nome_balcao": "B", "user_codigo": "000000"}
        )
        bad_code = await http.post(
            "/cadastro/balcao", json={"nome_balcao": "B", "user_codigo": "12ab"}
        )
        no_name = await http.post("/cadastro/balcao", json={"user_codigo": "123456"})
        not_json = await http.post(
            "/cadastro/balcao", content=b"{nope", headers={"Content-Type": "application/json"}
        )
        too_big = await http.post("/cadastro/balcao", content=b"x" * 100_000)
        missing = await http.get("/nao-existe")
    assert unknown.status_code == 404 and unknown.json()["error"] == "not_found"
    assert bad_code.status_code == 400 and bad_code.json()["field"] == "user_codigo"
    assert no_name.status_code == 400 and no_name.json()["field"] == "nome_balcao"
    assert not_json.status_code == 400 and not_json.json()["field"] == "body"
    assert too_big.status_code == 413 and "error" in too_big.json()
    assert missing.status_code == 404 and "error" in missing.json()


async def test_bodies_that_are_not_json_objects_get_400_not_500(
    nursery: trio.Nursery, database_url: str
) -> None:
    # Quart's own get_json decoded the body as UTF-8 first: a non-UTF-8 body was a 500.
    running = await start_server(nursery, database_url)
    bodies = [b"\xff\xfe\x00", b"\xc3(", b"[]", b"null", b'"texto"', b"[" * 100_000 + b"]" * 1]
    async with httpx.AsyncClient(base_url=running.base_url) as http:
        for path in ("/cadastro/cliente", "/cadastro/balcao", "/admin/atendentes"):
            for body in bodies:
                for kind in ("application/json", "text/plain"):
                    response = await http.post(
                        path, content=body[:60_000], headers={**ADMIN, "Content-Type": kind}
                    )
                    assert response.status_code == 400, (path, body[:10], kind)
                    assert response.json()["field"] == "body"


async def test_text_nothing_could_store_gets_400_naming_the_field(
    nursery: trio.Nursery, database_url: str
) -> None:
    # JSON escapes for a NUL (PostgreSQL refuses it: a 500) and a lone surrogate (not UTF-8)
    running = await start_server(nursery, database_url)
    cliente = {"email": "a@b.c", "razao_social": "Rede", "telefone": "11999998888"}
    async with httpx.AsyncClient(base_url=running.base_url) as http:
        for field, bad in (("razao_social", r"Rede\u0000"), ("telefone", r"\ud800")):
            text = json.dumps({**cliente, field: "<bad>"}).replace("<bad>", bad)
            response = await http.post("/cadastro/cliente", content=text, headers=ADMIN)
            assert response.status_code == 400, (field, response.text)
            assert response.json()["field"] == field
        balcao = r'{"nome_balcao": "B\u0000", "user_codigo": "123456"}'
        response = await http.post("/cadastro/balcao", content=balcao)
        assert (response.status_code, response.json()["field"]) == (400, "nome_balcao")
    assert query(database_url, "SELECT count(*) FROM clientes") == [(0,)]


async def test_a_device_revokes_its_own_key_and_its_live_session_closes(
    nursery: trio.Nursery, database_url: str
) -> None:
    running = await start_server(nursery, database_url)
    api_key, balcao_id = await register_balcao(running.base_url)
    other_key, _ = await register_balcao(running.base_url, "Balcão Outro")
    answers: list[httpx.Response] = []

    async def unlink() -> None:  # while the session streams, as the counter page does
        async with httpx.AsyncClient(base_url=running.base_url) as http:
            await trio.sleep(1.0)
            answers.append(await http.post(REVOGAR, json={"api_key": api_key}))

    async with trio.open_nursery() as inner:
        inner.start_soon(unlink)
        run = await stream_file(ws_url(running), api_key, WAV, linger_s=1.0)
    assert (run.close_code, run.close_reason) == (4003, "API Key Revogada")
    body = answers[0].json()
    assert answers[0].status_code == 200, body
    assert body["balcao_id"] == balcao_id and body["closed_session_id"] and body["revoked_at"]
    assert (await stream_file(ws_url(running), api_key, WAV, linger_s=0.5)).close_code == 4003
    async with httpx.AsyncClient(base_url=running.base_url) as http:
        again = await http.post(REVOGAR, json={"api_key": api_key})  # the first time stays
        assert again.status_code == 200
        assert again.json()["revoked_at"] == body["revoked_at"]
        assert again.json()["closed_session_id"] is None
        for bad, status in (
            ({"api_key": "bk_" + "x" * 43}, 404),
            ({"api_key": "not-a-key"}, 400),
            ({"api_key": 7}, 400),
            ({}, 400),
        ):
            refused = await http.post(REVOGAR, json=bad)
            assert refused.status_code == status, (bad, refused.text)
            assert refused.json()["field"] == "api_key"
        audit = (await http.get("/admin/audit", headers=ADMIN)).json()["items"]
    revoked = [a for a in audit if a["action"] == "revoke_self"]
    assert [(a["balcao_id"], a["session_id"]) for a in revoked] == [
        (balcao_id, None),
        (balcao_id, body["closed_session_id"]),
    ]
    # the other balcão's key is untouched
    assert query(
        database_url, "SELECT count(*) FROM balcoes WHERE revoked_at IS NULL AND api_key_hash = %s",
        hash_api_key(other_key),
    ) == [(1,)]  # fmt: skip
