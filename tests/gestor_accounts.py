"""Gestores for tests: the operator creates one over HTTP; it signs in on the form, as a browser."""

from __future__ import annotations

from typing import Any

import httpx

from balto.web.app import create_quart_app
from supervisors.root import Running
from tests.conftest import ADMIN

PASSWORD = "senha-da-rede-1"
EMAIL = "ana@rede1.com.br"


def origin(running: Running) -> dict[str, str]:
    """The ``Origin`` header a page of this server sends (the cookie acts only with it)."""
    return {"Origin": running.base_url}


async def create_gestor(http: httpx.AsyncClient, cliente: str, **body: Any) -> httpx.Response:
    """``POST /admin/clientes/{cliente}/gestores`` as the operator: Ana, unless `body` says else."""
    fields = {"nome": "Ana Gestora", "email": EMAIL, "senha": PASSWORD, **body}
    return await http.post(f"/admin/clientes/{cliente}/gestores", headers=ADMIN, json=fields)


async def sign_in_gestor(
    http: httpx.AsyncClient, running: Running, email: str, senha: str
) -> httpx.Response:
    """The sign-in form posted with an e-mail and a password (the cookie lands in `http`)."""
    return await http.post(
        "/entrar",
        data={"email": email, "segredo": senha, "proximo": "/admin/historico"},
        headers=origin(running),
    )


# routes that never took a session cookie: the operator's bearer secret only, 401 for anyone else
BEARER_ONLY = {"cadastro.cadastro_cliente", "dashboard.page", "dashboard.totals", "metrics.metrics"}
SAMPLE_ID = "00000000-0000-0000-0000-000000000000"


def opened_routes(running: Running, marker: str) -> tuple[set[str], list[Any]]:
    """The admin routes whose view carries `marker` (``_balto_for_gestores``, ``_balto_for_lojas``),
    and every admin route rule, from the server's own route table."""
    quart = create_quart_app(running.services)
    rules = [
        rule
        for rule in quart.url_map.iter_rules()
        if rule.rule.startswith(("/admin", "/api", "/cadastro/cliente", "/metrics"))
    ]
    opened = {r.endpoint for r in rules if getattr(quart.view_functions[r.endpoint], marker, False)}
    return opened, rules


async def walk_refused(
    http: httpx.AsyncClient, running: Running, rules: list[Any], opened: set[str]
) -> set[str]:
    """Ask every route not in `opened` with each method, as the signed-in `http`: pages lead to
    Ao vivo, bearer-only routes 401, the rest 403 ``forbidden``. The endpoints asked."""
    asked: set[str] = set()
    for rule in rules:
        if rule.endpoint in opened:
            continue
        asked.add(rule.endpoint)
        path = rule.rule
        for arg in rule.arguments:
            path = path.replace(f"<{arg}>", SAMPLE_ID)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            answer = await http.request(method, path, headers=origin(running), json={})
            where = (rule.endpoint, method, path)
            if rule.endpoint.startswith("pages."):
                assert answer.status_code == 303, where
                assert answer.headers["location"] == "/admin/ao-vivo", where
            elif rule.endpoint in BEARER_ONLY:
                assert answer.status_code == 401, where
            else:
                assert answer.status_code == 403, (where, answer.text)
                assert answer.json()["error"] == "forbidden", where
    return asked
