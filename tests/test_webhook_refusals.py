"""A chain's webhooks refused what they may not do: every bad field named, another chain's
webhooks unknown, an API key reading only, and a name that resolves inside the servers' network
refused when a delivery would go there."""

from __future__ import annotations

import ipaddress
import socket

import httpx
import pytest
import trio

from tests.admin_seed import seed
from tests.conftest import ADMIN, start_server
from tests.gestor_accounts import PASSWORD, create_gestor, sign_in_gestor
from tests.webhook_api import log_until, make_hook


async def test_refusals_name_their_field_and_chains_see_only_their_own(
    nursery: trio.Nursery, database_url: str
) -> None:
    running = await start_server(nursery, database_url)  # private addresses not allowed
    ids = seed(database_url)
    hooks = f"/admin/clientes/{ids['c1']}/webhooks"
    async with (
        httpx.AsyncClient(base_url=running.base_url) as http,
        httpx.AsyncClient(base_url=running.base_url) as ana,
    ):
        for url in (
            "ftp://example.com/x",
            "example.com/hook",
            "http://example.com/hook",  # plain HTTP
            "https://user:senha@example.com/hook",
            "https://127.0.0.1/hook",
            "https://10.1.2.3/hook",
            "https://[::1]:8443/hook",
            "https://[::ffff:192.168.0.1]/hook",
            "https://127.1/hook",  # the resolver's shorthands for 127.0.0.1
            "https://2130706433/hook",
            "https://0x7f.0.0.1/hook",
            "https://169.254.169.254/latest/meta-data",
            "https://localhost:9000/hook",
            "https://example.com:99999/hook",
            "https://example.com/hook#x",
            "https://example.com/" + "x" * 500,
            "",
            7,
        ):
            bad = await http.post(hooks, json={"url": url}, headers=ADMIN)
            assert (bad.status_code, bad.json().get("field")) == (400, "url"), (url, bad.text)
        for eventos in (["foo"], [], "alerta", [1], None):
            bad = await http.post(
                hooks, json={"url": "https://example.com/h", "eventos": eventos}, headers=ADMIN
            )
            assert (bad.status_code, bad.json().get("field")) == (400, "eventos"), eventos
        bad = await http.post(
            hooks, json={"url": "https://example.com/h", "descricao": "x" * 121}, headers=ADMIN
        )
        assert (bad.status_code, bad.json().get("field")) == (400, "descricao")
        for body in ([], "x", None):
            assert (await http.post(hooks, json=body, headers=ADMIN)).status_code == 400

        made = await make_hook(http, ids["c1"], "https://example.com/h")
        dup = await http.post(hooks, json={"url": "https://example.com/h"}, headers=ADMIN)
        assert (dup.status_code, dup.json()["field"]) == (409, "url")
        for n in range(9):
            await make_hook(http, ids["c1"], f"https://example.com/h{n}")
        eleventh = await http.post(hooks, json={"url": "https://example.com/z"}, headers=ADMIN)
        assert (eleventh.status_code, eleventh.json()["field"]) == (409, "url")
        unknown = await http.post(
            f"/admin/clientes/{ids['s1']}/webhooks", json={"url": "https://e.com"}, headers=ADMIN
        )
        assert unknown.status_code == 404
        for path in ("/admin/webhooks/x/teste", f"/admin/webhooks/{ids['s1']}/teste"):
            assert (await http.post(path, headers=ADMIN)).status_code == 404
        lim = await http.get(f"/admin/webhooks/{made['id']}/entregas?limit=0", headers=ADMIN)
        assert (lim.status_code, lim.json()["field"]) == (400, "limit")

        # the chain's gestor: its own webhooks only; another chain's read as unknown
        assert (await create_gestor(http, ids["c1"])).status_code == 201
        assert (await sign_in_gestor(ana, running, "ana@rede1.com.br", PASSWORD)).status_code == 303
        mine = await ana.get(hooks)
        assert len(mine.json()["items"]) == 10
        other = await ana.get(f"/admin/clientes/{ids['c2']}/webhooks")
        assert other.json() == {"items": []}
        theirs = await make_hook(http, ids["c2"], "https://example.com/c2")
        origin = {"Origin": running.base_url}
        for call in (
            ana.post(f"/admin/webhooks/{theirs['id']}/teste", headers=origin),
            ana.delete(f"/admin/webhooks/{theirs['id']}", headers=origin),
            ana.get(f"/admin/webhooks/{theirs['id']}/entregas"),
            ana.post(
                f"/admin/clientes/{ids['c2']}/webhooks",
                json={"url": "https://example.com/x"},
                headers=origin,
            ),
        ):
            assert (await call).status_code == 404
        tested = await ana.post(f"/admin/webhooks/{made['id']}/teste", headers=origin)
        assert tested.status_code == 202, tested.text

        # an API key reads them and changes nothing
        key = await http.post(
            f"/admin/clientes/{ids['c1']}/chaves", json={"nome": "BI"}, headers=ADMIN
        )
        bearer = {"Authorization": f"Bearer {key.json()['chave']}"}
        assert (await http.get(hooks, headers=bearer)).status_code == 200
        refused = await http.post(hooks, json={"url": "https://example.com/k"}, headers=bearer)
        assert refused.status_code == 403


async def test_a_name_that_resolves_inside_is_refused_at_delivery(
    nursery: trio.Nursery, database_url: str
) -> None:
    host = socket.gethostname()
    found = {info[4][0] for info in socket.getaddrinfo(host, 443, type=socket.SOCK_STREAM)}
    if any(ipaddress.ip_address(a).is_global for a in found):
        pytest.skip(f"this machine's name resolves to a public address ({found})")
    running = await start_server(nursery, database_url, BALTO_WEBHOOK_RETRY_S="60")
    ids = seed(database_url)
    async with httpx.AsyncClient(base_url=running.base_url) as http:
        hook = await make_hook(http, ids["c1"], f"https://{host}:9/hook")
        await http.post(f"/admin/webhooks/{hook['id']}/teste", headers=ADMIN)
        [entry] = await log_until(http, hook["id"], lambda log: log[0]["ultimo_erro"])
    assert entry["ultimo_erro"] == "o nome aponta para a rede interna; entrega recusada"
    assert entry["ultimo_status"] is None and entry["entregue_em"] is None
