"""Admin API over stored data: auth on every route, revocation over a real socket, listings,
history filters and keyset pagination, parameter validation, and the audit log."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import trio

from balto.device import stream_file
from tests.admin_seed import FEEDBACK, SEGMENTS_PER_SESSION, seed
from tests.conftest import ADMIN, FIXTURES, query, register_balcao, start_server, ws_url

WAV = FIXTURES / "two_utterances.wav"
ROUTES = [
    ("GET", "/admin"),
    ("GET", "/admin/clientes"),
    ("GET", "/admin/balcoes"),
    ("GET", "/admin/history/segments"),
    ("GET", "/admin/history/recommendations"),
    ("GET", "/admin/audit"),
    ("GET", "/admin/totals"),
    ("POST", "/admin/balcoes/00000000-0000-0000-0000-000000000000/revoke"),
    ("GET", "/api/export/xlsx"),
    ("GET", "/metrics"),
]


async def _all(http: httpx.AsyncClient, path: str, **params: Any) -> list[list[dict[str, Any]]]:
    """Every page of a listing, following next_cursor."""
    pages: list[list[dict[str, Any]]] = []
    cursor = None
    while True:
        response = await http.get(path, headers=ADMIN, params={**params, "cursor": cursor or ""})
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages


async def test_every_admin_route_refuses_a_missing_or_wrong_secret(
    nursery: trio.Nursery, database_url: str
) -> None:
    running = await start_server(nursery, database_url)
    for n, (method, path) in enumerate(ROUTES):
        # an address of its own per route: its sixth wrong guess would get 429 (balto.web.guesses)
        transport = httpx.AsyncHTTPTransport(local_address=f"127.0.1.{2 + n}")
        async with httpx.AsyncClient(base_url=running.base_url, transport=transport) as http:
            for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic x"}):
                response = await http.request(method, path, headers=headers)
                assert response.status_code == 401, (method, path, response.text)
                assert response.json()["error"] == "unauthorized"


async def test_revoke_closes_the_live_session_with_4003_and_refuses_the_key(
    nursery: trio.Nursery, database_url: str
) -> None:
    running = await start_server(nursery, database_url)
    api_key, balcao_id = await register_balcao(running.base_url)
    answers: list[httpx.Response] = []

    async def operator() -> None:
        async with httpx.AsyncClient(base_url=running.base_url) as http:
            await trio.sleep(1.0)
            answers.append(await http.post(f"/admin/balcoes/{balcao_id}/revoke", headers=ADMIN))

    async with trio.open_nursery() as inner:
        inner.start_soon(operator)
        run = await stream_file(ws_url(running), api_key, WAV, linger_s=1.0)
    assert (run.close_code, run.close_reason) == (4003, "API Key Revogada")
    body = answers[0].json()
    assert answers[0].status_code == 200, body
    assert body["balcao_id"] == balcao_id and body["closed_session_id"] and body["revoked_at"]
    # the key no longer opens a session
    again = await stream_file(ws_url(running), api_key, WAV, linger_s=0.5)
    assert again.close_code == 4003
    async with httpx.AsyncClient(base_url=running.base_url) as http:
        missing = await http.post(
            "/admin/balcoes/5f0c3c1e-0000-4000-8000-000000000000/revoke", headers=ADMIN
        )
        assert missing.status_code == 404 and missing.json()["error"] == "not_found"
        listed = (await http.get("/admin/balcoes", headers=ADMIN)).json()["items"]
        assert listed[0]["id"] == balcao_id and listed[0]["revoked_at"] == body["revoked_at"]
        audit = (await http.get("/admin/audit", headers=ADMIN)).json()["items"]
    assert [(a["action"], a["detail"]["outcome"]) for a in audit] == [
        ("revoke", "not_found"),
        ("revoke", "revoked"),
    ]
    assert audit[1]["balcao_id"] == balcao_id
    assert audit[1]["session_id"] == body["closed_session_id"]
    assert query(database_url, "SELECT close_code FROM sessions ORDER BY started_at")[0] == (4003,)


async def test_listings_of_clientes_and_balcoes(nursery: trio.Nursery, database_url: str) -> None:
    running = await start_server(nursery, database_url)
    ids = seed(database_url)
    async with httpx.AsyncClient(base_url=running.base_url) as http:
        clientes = await _all(http, "/admin/clientes", limit=1)
        assert [[c["id"] for c in page] for page in clientes] == [[ids["c2"]], [ids["c1"]]]
        assert clientes[1][0]["balcoes"] == 2 and clientes[1][0]["codigo"] == "900000"
        balcoes = await _all(http, "/admin/balcoes", cliente_id=ids["c1"])
        assert [b["id"] for b in balcoes[0]] == [ids["b2"], ids["b1"]]
        assert balcoes[0][0]["revoked_at"] is None and balcoes[0][0]["live_session_id"] is None


async def test_history_filters_and_pagination(nursery: trio.Nursery, database_url: str) -> None:
    running = await start_server(nursery, database_url)
    ids = seed(database_url)
    async with httpx.AsyncClient(base_url=running.base_url) as http:
        pages = await _all(http, "/admin/history/segments", limit=4)
        assert [len(p) for p in pages] == [4, 4, 4, 3]
        rows = [row for page in pages for row in page]
        assert len({r["id"] for r in rows}) == 3 * SEGMENTS_PER_SESSION  # no repeats, none lost
        stamps = [r["created_at"] for r in rows]
        assert stamps == sorted(stamps, reverse=True)
        # cliente c1 holds b1 and b2
        rows = (await _all(http, "/admin/history/segments", cliente_id=ids["c1"]))[0]
        assert {r["balcao_id"] for r in rows} == {ids["b1"], ids["b2"]} and len(rows) == 10
        # balcão and period: minutes 1 and 2 of b3 (ate is exclusive)
        params = {
            "balcao_id": ids["b3"],
            "desde": "2026-03-02T12:01:00Z",
            "ate": "2026-03-02T09:03:00-03:00",
        }
        rows = (await _all(http, "/admin/history/segments", **params))[0]
        assert [r["transcript"] for r in rows] == ["b3 fala 2", "b3 fala 1"]
        # a bare date covers the whole day
        rows = await _all(http, "/admin/history/segments", desde="2026-03-02", ate="2026-03-02")
        assert sum(map(len, rows)) == 15
        assert (await _all(http, "/admin/history/segments", desde="2026-03-03"))[0] == []
        # recommendations with feedback
        recs = (await _all(http, "/admin/history/recommendations", balcao_id=ids["b1"]))[0]
        assert [r["aceita"] for r in reversed(recs)] == [
            FEEDBACK[seq % 3] for seq in range(SEGMENTS_PER_SESSION)
        ]
        accepted = (await _all(http, "/admin/history/recommendations", aceita="true"))[0]
        assert len(accepted) == 6 and all(r["aceita"] is True for r in accepted)
        none = (await _all(http, "/admin/history/recommendations", sem_feedback="true"))[0]
        assert len(none) == 3 and all(r["feedback_at"] is None for r in none)
        assert accepted[0]["produto"].startswith("Produto ") and accepted[0]["nome_balcao"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"cliente_id": "nope"}, "cliente_id"),
        ({"balcao_id": "123"}, "balcao_id"),
        ({"desde": "ontem"}, "desde"),
        ({"ate": "2026-13-01"}, "ate"),
        ({"desde": "2026-03-02", "ate": "2026-03-01"}, "ate"),
        ({"limit": "0"}, "limit"),
        ({"limit": "501"}, "limit"),
        ({"limit": "dez"}, "limit"),
        # at Python's date limits the day after, or another zone's time, does not exist
        ({"ate": "9999-12-31"}, "ate"),
        ({"desde": "0001-01-01T00:00:00+05:00"}, "desde"),
        ({"cursor": "garbage!"}, "cursor"),
        ({"aceita": "talvez"}, "aceita"),
        ({"aceita": "true", "sem_feedback": "true"}, "sem_feedback"),
    ],
)
async def test_bad_parameters_are_400_naming_the_field(
    nursery: trio.Nursery, database_url: str, params: dict[str, str], field: str
) -> None:
    running = await start_server(nursery, database_url)
    async with httpx.AsyncClient(base_url=running.base_url) as http:
        response = await http.get("/admin/history/recommendations", headers=ADMIN, params=params)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_field" and response.json()["field"] == field
    assert response.json()["message"]


async def test_a_nul_in_a_text_filter_is_400_naming_it_on_every_route(
    nursery: trio.Nursery, database_url: str
) -> None:
    # PostgreSQL cannot compare text with a NUL in it: each of these was a 500
    running = await start_server(nursery, database_url)
    filters = [
        ("/admin/history/alerts", "sinal"),
        ("/admin/history/refusals", "provider"),
        ("/admin/history/refusals", "reason"),
        ("/admin/history/alertas", "sinal"),
        ("/admin/history/alertas", "atendente"),
        ("/admin/history/conversas", "atendente"),
        ("/api/export/xlsx", "atendente"),
    ]
    async with httpx.AsyncClient(base_url=running.base_url) as http:
        for path, name in filters:
            response = await http.get(path, headers=ADMIN, params={name: "Ana\x00"})
            assert response.status_code == 400, (path, name, response.text)
            assert response.json()["field"] == name
            response = await http.get(path, headers=ADMIN, params={name: "x" * 101})
            assert (response.status_code, response.json()["field"]) == (400, name)


async def test_restart_and_disconnect_are_audited(nursery: trio.Nursery, database_url: str) -> None:
    running = await start_server(nursery, database_url)
    api_key, balcao_id = await register_balcao(running.base_url)

    async def operator() -> None:
        async with httpx.AsyncClient(base_url=running.base_url) as http:
            await trio.sleep(1.0)
            restart = await http.post(f"/admin/sessions/{balcao_id}/restart", headers=ADMIN)
            assert restart.status_code == 202, restart.text
            await trio.sleep(1.0)
            gone = await http.post(f"/admin/sessions/{balcao_id}/disconnect", headers=ADMIN)
            assert gone.status_code == 202, gone.text

    async with trio.open_nursery() as inner:
        inner.start_soon(operator)
        run = await stream_file(ws_url(running), api_key, WAV, linger_s=1.0)
    assert run.close_code == 4005
    rows = query(
        database_url, "SELECT action, balcao_id::text, detail FROM admin_audit ORDER BY id"
    )
    assert rows == [("restart", balcao_id, {"accepted": True}), ("disconnect", balcao_id, {})]


async def test_the_audit_log_is_narrowed_by_action_who_and_period(
    nursery: trio.Nursery, database_url: str
) -> None:
    from tests.gestor_accounts import EMAIL, PASSWORD, create_gestor, origin, sign_in_gestor

    running = await start_server(nursery, database_url)
    ids = seed(database_url)
    async with (
        httpx.AsyncClient(base_url=running.base_url) as op,
        httpx.AsyncClient(base_url=running.base_url) as gestor,
    ):
        assert (await create_gestor(op, ids["c1"])).status_code == 201  # by the operator
        assert (await sign_in_gestor(gestor, running, EMAIL, PASSWORD)).status_code == 303
        made = await gestor.post(
            "/admin/atendentes",
            headers=origin(running),
            json={"cliente_id": ids["c1"], "nome": "Bia", "consentimento": True},
        )
        assert made.status_code == 201, made.text
        for balcao in ("b1", "b2"):  # by the operator
            revoked = await op.post(f"/admin/balcoes/{ids[balcao]}/revoke", headers=ADMIN)
            assert revoked.status_code == 200
        # one revocation a year ago, to be found by its date
        query(
            database_url,
            "UPDATE admin_audit SET at = now() - interval '1 year' WHERE id ="
            " (SELECT min(id) FROM admin_audit WHERE action = 'revoke')",
        )

        async def actions(**params: str) -> list[tuple[str, str]]:
            answer = await op.get("/admin/audit", headers=ADMIN, params=params)
            assert answer.status_code == 200, answer.text
            return [(a["action"], a["ator"]) for a in answer.json()["items"]]

        everything = await actions()
        assert ("create_atendente", f"gestor:{EMAIL}") in everything
        assert await actions(acao="revoke") == [("revoke", "operador")] * 2
        assert await actions(ator="OPERADOR", acao="create_gestor") == [
            ("create_gestor", "operador")
        ]
        by_her = await actions(ator=EMAIL.split("@")[0].upper())
        assert by_her and all(ator == f"gestor:{EMAIL}" for _, ator in by_her)
        assert ("sign_in", f"gestor:{EMAIL}") in by_her
        assert await actions(ator="%") == []  # a letter, not a pattern
        assert await actions(ator="_") == []
        year_ago = query(database_url, "SELECT (now() - interval '1 year')::date::text")[0][0]
        assert await actions(acao="revoke", ate=year_ago) == [("revoke", "operador")]
        assert await actions(acao="revoke", desde=year_ago) == [("revoke", "operador")] * 2
        today = query(database_url, "SELECT now()::date::text")[0][0]
        assert await actions(acao="revoke", desde=today) == [("revoke", "operador")]
        # pages follow the filter
        first = await op.get("/admin/audit", headers=ADMIN, params={"acao": "revoke", "limit": 1})
        rest = await op.get(
            "/admin/audit",
            headers=ADMIN,
            params={"acao": "revoke", "cursor": first.json()["next_cursor"]},
        )
        assert [a["action"] for a in rest.json()["items"]] == ["revoke"]
        assert rest.json()["next_cursor"] is None
        # refusals name the field
        for params, field in (
            ({"acao": "Revoke!"}, "acao"),
            ({"acao": "a" * 65}, "acao"),
            ({"ator": "a" * 201}, "ator"),
            ({"ator": "a\x00"}, "ator"),
            ({"desde": "ontem"}, "desde"),
            ({"desde": today, "ate": year_ago}, "ate"),
        ):
            refused = await op.get("/admin/audit", headers=ADMIN, params=params)
            assert (refused.status_code, refused.json().get("field")) == (400, field), params
        # a chain's gestor reads its chain's accounts' actions only, whatever it asks
        theirs = await gestor.get("/admin/audit", headers=origin(running))
        assert theirs.status_code == 200
        seen = {(a["action"], a["ator"]) for a in theirs.json()["items"]}
        assert seen == {("sign_in", f"gestor:{EMAIL}"), ("create_atendente", f"gestor:{EMAIL}")}
        other = await gestor.get(f"/admin/audit?cliente_id={ids['c2']}", headers=origin(running))
        assert other.status_code == 403 and other.json()["field"] == "cliente_id"
        # the operator narrows to a chain the same way
        chain = await op.get(f"/admin/audit?cliente_id={ids['c1']}", headers=ADMIN)
        assert {a["ator"] for a in chain.json()["items"]} == {f"gestor:{EMAIL}"}
