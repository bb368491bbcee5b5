"""Gestores for tests: the operator creates one over HTTP; it signs in on the form, as a browser."""

from __future__ import annotations

from typing import Any

import httpx

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
