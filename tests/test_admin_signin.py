"""Signing in to the admin app over real HTTP: the form, the session cookie's attributes, what it
opens and what it does not (cross-site, tampered, another secret), logout, the failure limit, and
every admin route still refusing a missing or wrong secret."""

from __future__ import annotations

from typing import Any

import httpx
import trio

from balto.web import session_cookie
from balto.web.app import create_quart_app
from supervisors.root import Running
from tests.conftest import ADMIN, start_server

SECRET = "test-admin-secret"


async def _server(nursery: trio.Nursery, database_url: str) -> Running:
    return await start_server(nursery, database_url)


def _origin(running: Running) -> dict[str, str]:
    return {"Origin": running.base_url}


async def _sign_in(http: httpx.AsyncClient, running: Running, secret: str = SECRET) -> Any:
    return await http.post(
        "/entrar",
        data={"segredo": secret, "proximo": "/admin/historico"},
        headers=_origin(running),
    )


async def test_the_form_opens_a_session_cookie_that_scripts_and_other_sites_cannot_use(
    nursery: trio.Nursery, database_url: str
) -> None:
    running = await _server(nursery, database_url)
    async with httpx.AsyncClient(base_url=running.base_url) as http:
        page = await http.get("/admin/ao-vivo")
        assert page.status_code == 303
        assert page.headers["location"] == "/entrar?proximo=%2Fadmin%2Fao-vivo"
        assert (await http.get("/admin/ao-vivo/dados")).status_code == 401  # APIs: JSON 401
        form = await http.get("/entrar")
        assert form.status_code == 200 and 'name="segredo"' in form.text
        assert "HttpOnly" not in str(form.headers)  # no cookie before signing in

        wrong = await _sign_in(http, running, "not-the-secret")
        assert wrong.status_code == 401 and "Segredo incorreto" in wrong.text
        assert "set-cookie" not in wrong.headers
        forged = await http.post(
            "/entrar", data={"segredo": SECRET}, headers={"Origin": "https://evil.example"}
        )
        assert forged.status_code == 403 and "set-cookie" not in forged.headers

        ok = await _sign_in(http, running)
        assert ok.status_code == 303 and ok.headers["location"] == "/admin/historico"
        cookie = ok.headers["set-cookie"]
        attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
        assert {"httponly", "path"} <= attributes and "samesite=strict" in cookie.lower()
        assert "secure" not in attributes and "max-age" not in attributes  # plain http; session
        assert cookie.startswith(f"{session_cookie.COOKIE}=")

        # the cookie opens pages, reads and same-origin writes
        assert (await http.get("/admin/ao-vivo")).status_code == 200
        assert (await http.get("/admin/sessions")).status_code == 200
        assert (await http.get("/admin/painel/dados")).status_code == 200
        missing = "/admin/clientes/00000000-0000-0000-0000-000000000000/codigo"
        same = await http.post(missing, headers=_origin(running))
        assert same.status_code == 404  # through the guard: the cliente does not exist
        # ... but never a write from another site, or one that says nothing of its origin
        cross = await http.post(missing, headers={"Origin": "https://evil.example"})
        assert cross.status_code == 403 and cross.json()["error"] == "forbidden"
        assert (await http.post(missing)).status_code == 403
        other_site = await http.post(
            "/cadastro/cliente",
            json={"email": "a@b.com", "razao_social": "X", "telefone": "11999998888"},
            headers={"Origin": "https://evil.example"},
        )
        assert other_site.status_code == 401
        fetch_meta = await http.post(missing, headers={"Sec-Fetch-Site": "cross-site"})
        assert fetch_meta.status_code == 403

        # bearer clients are untouched
        http.cookies.clear()
        assert (await http.get("/admin/sessions", headers=ADMIN)).status_code == 200
        assert (await http.post(missing, headers=ADMIN)).status_code == 404

        # a tampered, expired or other-secret token is refused
        good = session_cookie.make_token(SECRET)
        for token in (
            good[:-1] + ("0" if good[-1] != "0" else "1"),
            session_cookie.make_token(SECRET, now=0.0),
            session_cookie.make_token("another-secret"),
            "v1.99999999999.x.y",
        ):
            http.cookies.set(session_cookie.COOKIE, token)
            assert (await http.get("/admin/sessions")).status_code == 401, token
            assert (await http.get("/admin/ao-vivo")).status_code == 303, token
            http.cookies.clear()

        # the page to go back to is a path on this server, never another host
        http.cookies.clear()
        for proximo in ("//evil.example/x", "/\t/evil.example", "https://evil.example"):
            back = await http.post(
                "/entrar",
                data={"segredo": SECRET, "proximo": proximo},
                headers=_origin(running),
            )
            assert back.headers["location"] == "/admin/ao-vivo", proximo

        # logout drops it
        await _sign_in(http, running)
        assert (await http.get("/admin/sessions")).status_code == 200
        out = await http.post("/sair", headers=_origin(running))
        assert out.status_code == 303 and out.headers["location"] == "/entrar"
        assert (await http.get("/admin/sessions")).status_code == 401


async def test_wrong_secrets_are_slowed_then_limited_per_address(
    nursery: trio.Nursery, database_url: str
) -> None:
    running = await _server(nursery, database_url)
    async with httpx.AsyncClient(base_url=running.base_url) as http:
        statuses: list[int] = []

        async def guess() -> None:
            statuses.append((await _sign_in(http, running, "guess")).status_code)

        async with trio.open_nursery() as guesses:  # in parallel: the limit still holds
            for _ in range(8):
                guesses.start_soon(guess)
        assert sorted(statuses) == [401] * 5 + [429] * 3
        limited = await _sign_in(http, running, SECRET)  # even the right one, while limited
        assert limited.status_code == 429 and int(limited.headers["retry-after"]) > 0
        assert "set-cookie" not in limited.headers


async def test_every_admin_route_refuses_a_missing_or_wrong_secret(
    nursery: trio.Nursery, database_url: str
) -> None:
    running = await _server(nursery, database_url)
    rules = [
        rule
        for rule in create_quart_app(running.services).url_map.iter_rules()
        if rule.rule.startswith(("/admin", "/api", "/cadastro/cliente", "/metrics"))
        and rule.endpoint not in ("signin.form", "signin.sign_in", "signin.sign_out")
        and not rule.endpoint.startswith("assets.")
    ]
    assert len(rules) > 30
    sample = "00000000-0000-0000-0000-000000000000"
    requests = []
    for rule in rules:
        path = rule.rule
        for arg in rule.arguments:
            path = path.replace(f"<{arg}>", sample)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            for headers in ({}, {"Authorization": "Bearer wrong"}):
                requests.append((rule.endpoint, method, path, headers))
    answers: list[tuple[str, str, str, httpx.Response]] = []

    async def ask(n: int, endpoint: str, method: str, path: str, headers: dict[str, str]) -> None:
        # Each request from an address of its own (all of 127/8 is loopback): a wrong secret is
        # a guess, and an address's sixth within five minutes gets 429 (balto.web.guesses).
        transport = httpx.AsyncHTTPTransport(local_address=f"127.0.{n // 250}.{2 + n % 250}")
        async with httpx.AsyncClient(base_url=running.base_url, transport=transport) as http:
            answers.append(
                (endpoint, method, path, await http.request(method, path, headers=headers))
            )

    async with trio.open_nursery() as asking:  # each wrong guess waits half a second
        for n, request in enumerate(requests):
            asking.start_soon(ask, n, *request)
    assert len(answers) == len(requests)
    for endpoint, method, path, response in answers:
        if endpoint.startswith("pages.") or endpoint == "dashboard.page":
            # pages: to the sign-in form; the ops console keeps its JSON 401
            assert response.status_code in (303, 401), (method, path)
        else:
            assert response.status_code == 401, (method, path, response.text)
            assert response.json()["error"] == "unauthorized"


async def test_wrong_bearer_secrets_share_the_sign_in_forms_limit(
    nursery: trio.Nursery, database_url: str
) -> None:
    """Any admin route answered a wrong bearer guess at once, as often as asked."""
    running = await _server(nursery, database_url)
    wrong = {"Authorization": "Bearer guess"}
    async with httpx.AsyncClient(base_url=running.base_url) as http:
        statuses: list[int] = []

        async def guess() -> None:
            statuses.append((await http.get("/admin/clientes", headers=wrong)).status_code)

        async with trio.open_nursery() as guesses:  # in parallel: the limit still holds
            for _ in range(8):
                guesses.start_soon(guess)
        assert sorted(statuses) == [401] * 5 + [429] * 3
        limited = await http.get("/admin/clientes", headers=ADMIN)  # even the right one
        assert limited.status_code == 429 and int(limited.headers["retry-after"]) > 0
        assert limited.json()["error"] == "rate_limited"
        assert (await _sign_in(http, running)).status_code == 429  # one budget, both doors
    other = httpx.AsyncHTTPTransport(local_address="127.0.0.2")
    async with httpx.AsyncClient(base_url=running.base_url, transport=other) as http:
        for _ in range(8):  # the right secret is never counted against its address
            assert (await http.get("/admin/clientes", headers=ADMIN)).status_code == 200


async def test_demo_data_is_marked_on_every_page(nursery: trio.Nursery, database_url: str) -> None:
    running = await start_server(nursery, database_url, BALTO_DEMO="1")
    banner = "Dados de demonstração"
    async with httpx.AsyncClient(base_url=running.base_url) as http:
        assert banner in (await http.get("/entrar")).text
        await _sign_in(http, running)
        for path in (
            "/admin/ao-vivo",
            "/admin/historico",
            "/admin/painel",
            "/admin/cadastro",
            "/admin/auditoria",
        ):
            page = await http.get(path)
            assert page.status_code == 200 and banner in page.text, path
            assert "script-src 'self'" in page.headers["content-security-policy"]
            # only this origin's pages may open the microphone (Cadastro records voices)
            assert page.headers["permissions-policy"].startswith("microphone=(self), camera=()")
        assert banner in (await http.get("/admin", headers={"Accept": "text/html"})).text
    plain = await start_server(nursery, database_url)
    async with httpx.AsyncClient(base_url=plain.base_url) as http:
        assert banner not in (await http.get("/entrar")).text
