"""Cadastro abuse: the failure rate limit (per address, per code), code rotation, the metrics token.

Real server and PostgreSQL; other client addresses are other loopback addresses (127.0.0.x).
"""

from __future__ import annotations

import uuid

import httpx
import pytest
import trio
from trio_websocket import ConnectionClosed, open_websocket_url

from balto.config import Settings
from balto.errors import ConfigError
from balto.web.app import create_quart_app
from tests.conftest import ADMIN, query, start_server


def _client(base_url: str, address: str = "127.0.0.1") -> httpx.AsyncClient:
    transport = httpx.AsyncHTTPTransport(local_address=address)
    return httpx.AsyncClient(base_url=base_url, transport=transport)


async def _new_cliente(http: httpx.AsyncClient) -> tuple[str, str]:
    body = {"email": "a@rede.com", "razao_social": "Rede", "telefone": "11999998888"}
    response = await http.post("/cadastro/cliente", headers=ADMIN, json=body)
    assert response.status_code == 201
    codigo = response.json()["codigo"]
    clientes = (await http.get("/admin/clientes", headers=ADMIN)).json()["items"]
    (cliente_id,) = [c["id"] for c in clientes if c["codigo"] == codigo]
    return cliente_id, codigo


def _wrong(codigo: str, n: int) -> str:
    return f"{(int(codigo) + n) % 1_000_000:06d}"


async def _link(http: httpx.AsyncClient, codigo: str) -> httpx.Response:
    return await http.post("/cadastro/balcao", json={"nome_balcao": "B", "user_codigo": codigo})


async def test_sixth_failure_from_one_address_gets_429_and_even_a_right_code_waits(
    nursery: trio.Nursery, database_url: str
) -> None:
    running = await start_server(nursery, database_url)
    async with _client(running.base_url) as http, _client(running.base_url, "127.0.0.2") as other:
        _, codigo = await _new_cliente(http)
        statuses = [(await _link(http, _wrong(codigo, n))).status_code for n in range(1, 6)]
        assert statuses == [404] * 5
        sixth = await _link(http, _wrong(codigo, 6))
        assert sixth.status_code == 429 and sixth.json()["error"] == "too_many_requests"
        assert 1 <= int(sixth.headers["Retry-After"]) <= 60
        right = await _link(http, codigo)
        assert right.status_code == 429 and "Retry-After" in right.headers
        # the limit is the address's: another address links with the right code
        assert (await _link(other, codigo)).status_code == 201
        falhas = await http.get("/admin/cadastro/falhas", headers=ADMIN)
    assert falhas.status_code == 200
    items = falhas.json()["items"]
    assert [(i["remote_addr"], i["reason"]) for i in items] == [
        ("127.0.0.1", "rate_limited"),
        ("127.0.0.1", "rate_limited"),
        *[("127.0.0.1", "unknown_code")] * 5,
    ]
    assert items[0]["codigo"] == codigo and items[1]["codigo"] == _wrong(codigo, 6)
    assert query(database_url, "SELECT count(*) FROM balcoes") == [(1,)]


async def test_a_code_failing_from_many_addresses_is_limited(
    nursery: trio.Nursery, database_url: str
) -> None:
    running = await start_server(nursery, database_url, BALTO_CADASTRO_MAX_FAILURES="3")
    async with _client(running.base_url) as http:
        _, codigo = await _new_cliente(http)
    guess = _wrong(codigo, 1)
    statuses = []
    for n in range(2, 7):
        async with _client(running.base_url, f"127.0.0.{n}") as http:
            statuses.append((await _link(http, guess)).status_code)
    assert statuses == [404, 404, 404, 429, 429]


async def test_rotated_code_refuses_the_old_one_and_is_audited(
    nursery: trio.Nursery, database_url: str
) -> None:
    running = await start_server(nursery, database_url)
    async with _client(running.base_url) as http:
        cliente_id, old = await _new_cliente(http)
        assert (await http.post(f"/admin/clientes/{cliente_id}/codigo")).status_code == 401
        rotated = await http.post(f"/admin/clientes/{cliente_id}/codigo", headers=ADMIN)
        assert rotated.status_code == 200
        new = rotated.json()["codigo"]
        assert rotated.json()["cliente_id"] == cliente_id and new != old and len(new) == 6
        assert (await _link(http, old)).status_code == 404
        assert (await _link(http, new)).status_code == 201
        missing = await http.post(f"/admin/clientes/{uuid.uuid4()}/codigo", headers=ADMIN)
        assert missing.status_code == 404
    audit = query(database_url, "SELECT action, detail->>'outcome' FROM admin_audit ORDER BY id")
    assert audit == [("rotate_codigo", "rotated"), ("rotate_codigo", "not_found")]


async def test_metrics_token_scrapes_and_opens_no_admin_route(
    nursery: trio.Nursery, database_url: str
) -> None:
    running = await start_server(
        nursery, database_url, BALTO_METRICS_TOKEN="scrape-only", BALTO_FAULTS="1"
    )
    token = {"Authorization": "Bearer scrape-only"}
    rules = [
        rule
        for rule in create_quart_app(running.services).url_map.iter_rules()
        if rule.rule != "/metrics" and rule.rule.startswith(("/admin", "/api", "/cadastro/cliente"))
    ]
    assert len(rules) >= 15  # every admin route of the app, found from its URL map
    async with _client(running.base_url) as http:
        scrape = await http.get("/metrics", headers=token)
        assert scrape.status_code == 200 and "balto_sessions_live" in scrape.text
        assert (await http.get("/metrics", headers=ADMIN)).status_code == 200
        wrong = await http.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        for rule in rules:
            path = rule.rule
            for arg in rule.arguments:
                path = path.replace(f"<{arg}>", str(uuid.uuid4()))
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                response = await http.request(method, path, headers=token, json={})
                assert response.status_code == 401, (method, path, response.status_code)


async def test_metrics_without_a_token_keeps_the_admin_rule(
    nursery: trio.Nursery, database_url: str
) -> None:
    running = await start_server(nursery, database_url)
    async with _client(running.base_url) as http:
        assert (await http.get("/metrics", headers=ADMIN)).status_code == 200
        anonymous = await http.get("/metrics", headers={"Authorization": "Bearer scrape-only"})
        assert anonymous.status_code == 401


def test_metrics_token_equal_to_the_admin_secret_is_a_config_error() -> None:
    same = {"ADMIN_SECRET": "s3cret", "BALTO_METRICS_TOKEN": "s3cret"}
    with pytest.raises(ConfigError, match="BALTO_METRICS_TOKEN"):
        Settings.from_env(same)


async def test_behind_a_trusted_proxy_the_limit_is_per_forwarded_client(
    nursery: trio.Nursery, database_url: str
) -> None:
    """With BALTO_TRUSTED_PROXY_HOPS=1 (compose sets it: only nginx reaches Balto) every device
    behind the proxy keeps its own limit; without it the header is ignored (it could be forged)."""
    trusting = await start_server(nursery, database_url, BALTO_TRUSTED_PROXY_HOPS="1")
    async with _client(trusting.base_url) as http:
        _, codigo = await _new_cliente(http)
        for n in range(1, 7):  # six failures, each from "another device" behind the proxy
            forwarded = {"X-Forwarded-For": f"203.0.113.{n}"}
            body = {"nome_balcao": "B", "user_codigo": _wrong(codigo, n)}
            response = await http.post("/cadastro/balcao", json=body, headers=forwarded)
            assert response.status_code == 404
        falhas = (await http.get("/admin/cadastro/falhas", headers=ADMIN)).json()["items"]
        assert {f["remote_addr"] for f in falhas} == {f"203.0.113.{n}" for n in range(1, 7)}
        async with open_websocket_url(trusting.base_url.replace("http", "ws") + "/ws") as ws:
            await ws.send_message('{"api_key": "bk_nope"}')
            with pytest.raises(ConnectionClosed) as closed:
                await ws.get_message()
        assert closed.value.reason.code == 4001  # devices still get through the middleware


async def test_without_trusted_proxies_x_forwarded_for_is_ignored(
    nursery: trio.Nursery, database_url: str
) -> None:
    running = await start_server(nursery, database_url)
    async with _client(running.base_url) as http:
        _, codigo = await _new_cliente(http)
        for n in range(1, 7):
            forwarded = {"X-Forwarded-For": f"203.0.113.{n}"}
            body = {"nome_balcao": "B", "user_codigo": _wrong(codigo, n)}
            response = await http.post("/cadastro/balcao", json=body, headers=forwarded)
        assert response.status_code == 429  # the sixth failure from 127.0.0.1, whatever it claims
