"""A chain's API key held to its budget of work per minute (``BALTO_API_KEY_BUDGET``) over real
HTTP and PostgreSQL: one budget per key across the instances behind the proxy, the report
dearer than a page, refusals not counted, and people (the operator, a gestor) never limited."""

from __future__ import annotations

import httpx
import pytest
import trio

from balto.store.key_budget import _wait_s
from tests.admin_seed import seed
from tests.conftest import ADMIN, query, start_server
from tests.gestor_accounts import PASSWORD, create_gestor, sign_in_gestor

BUDGET = {"BALTO_API_KEY_BUDGET": "5"}


async def _key(http: httpx.AsyncClient, cliente: str, nome: str) -> dict[str, str]:
    made = await http.post(f"/admin/clientes/{cliente}/chaves", json={"nome": nome}, headers=ADMIN)
    assert made.status_code == 201, made.text
    return {"Authorization": f"Bearer {made.json()['chave']}"}


async def test_a_keys_budget_is_one_across_instances_and_refusals_cost_nothing(
    nursery: trio.Nursery, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    a = await start_server(nursery, database_url, **BUDGET)
    b = await start_server(nursery, database_url, **BUDGET)
    ids = seed(database_url)
    async with (
        httpx.AsyncClient(base_url=a.base_url) as on_a,
        httpx.AsyncClient(base_url=b.base_url) as on_b,
        httpx.AsyncClient(base_url=a.base_url) as ana,
    ):
        bi = await _key(on_a, ids["c1"], "BI")
        erp = await _key(on_a, ids["c1"], "ERP")
        left = []
        for http in (on_a, on_b, on_a, on_b, on_a):  # the proxy spreads them over both
            read = await http.get("/admin/balcoes", headers=bi)
            assert read.status_code == 200, read.text
            assert read.headers["RateLimit-Limit"] == "5"
            left.append(int(read.headers["RateLimit-Remaining"]))
        assert left == [4, 3, 2, 1, 0]
        for http in (on_a, on_b, on_a):
            over = await http.get("/admin/balcoes", headers=bi)
            assert (over.status_code, over.json()["error"]) == (429, "rate_limited")
            assert 1 <= int(over.headers["Retry-After"]) <= 120
            assert over.headers["Retry-After"] in over.json()["message"]
        # counted per chain on each instance, logged once a minute per key and instance
        throttled = f'balto_api_key_throttled_total{{cliente_id="{ids["c1"]}"}}'
        for http, count in ((on_a, 2), (on_b, 1)):
            scraped = (await http.get("/metrics", headers=ADMIN)).text
            assert f"{throttled} {count}.0" in scraped, scraped
        logged = [r for r in caplog.records if "over its budget" in r.getMessage()]
        assert len(logged) == 2 and all(ids["c1"] in r.getMessage() for r in logged)
        # the key's own budget: another key of the chain, the operator and a gestor go on
        assert (await on_b.get("/admin/balcoes", headers=erp)).status_code == 200
        for _ in range(8):
            assert (await on_a.get("/admin/balcoes", headers=ADMIN)).status_code == 200
        assert (await create_gestor(on_a, ids["c1"])).status_code == 201
        assert (await sign_in_gestor(ana, a, "ana@rede1.com.br", PASSWORD)).status_code == 303
        for _ in range(8):
            page = await ana.get("/admin/balcoes")
            assert page.status_code == 200 and "RateLimit-Limit" not in page.headers
        # the chain sees each key's pace against its budget
        listed = (await ana.get(f"/admin/clientes/{ids['c1']}/chaves")).json()
        assert listed["orcamento_minuto"] == 5
        assert {k["nome"]: k["uso_minuto"] for k in listed["items"]} == {"BI": 5, "ERP": 1}
    # what was refused spent nothing
    spent = query(
        database_url,
        "SELECT k.nome, sum(u.custo) FROM chave_uso u JOIN chaves_api k ON k.id = u.chave_id"
        " GROUP BY k.nome ORDER BY k.nome",
    )
    assert spent == [("BI", 5), ("ERP", 1)]


async def test_the_report_costs_more_than_a_page(nursery: trio.Nursery, database_url: str) -> None:
    running = await start_server(nursery, database_url, BALTO_API_KEY_BUDGET="40")
    ids = seed(database_url)
    async with httpx.AsyncClient(base_url=running.base_url) as http:
        bi = await _key(http, ids["c1"], "BI")
        report = await http.get("/api/export/xlsx", headers=bi)
        assert report.status_code == 200, report.text
        assert report.headers["RateLimit-Remaining"] == "10"  # 40 - 30
        again = await http.get("/api/export/xlsx", headers=bi)
        assert again.status_code == 429
        page = await http.get("/admin/balcoes", headers=bi)  # a page still fits
        assert (page.status_code, page.headers["RateLimit-Remaining"]) == (200, "9")


async def test_no_budget_when_it_is_turned_off(nursery: trio.Nursery, database_url: str) -> None:
    running = await start_server(nursery, database_url, BALTO_API_KEY_BUDGET="0")
    ids = seed(database_url)
    async with httpx.AsyncClient(base_url=running.base_url) as http:
        bi = await _key(http, ids["c1"], "BI")
        for _ in range(12):
            read = await http.get("/admin/balcoes", headers=bi)
            assert read.status_code == 200 and "RateLimit-Limit" not in read.headers
        listed = (await http.get(f"/admin/clientes/{ids['c1']}/chaves", headers=ADMIN)).json()
        assert listed["orcamento_minuto"] is None and listed["items"][0]["uso_minuto"] == 0
    assert query(database_url, "SELECT count(*) FROM chave_uso") == [(0,)]


def test_the_wait_follows_the_sliding_window() -> None:
    # 5 of 5 spent this minute, 10 s in, nothing the minute before: the next minute, once this
    # one's weight has fallen to 4 units (12 s into it)
    assert _wait_s(5, 0, 10.0, 1, 5) == 62
    # 2 this minute, 6 the minute before, 30 s in (used 2 + 3 = 5): one more fits once the old
    # minute weighs 2, at 40 s, i.e. 10 s later
    assert _wait_s(2, 6, 30.0, 1, 5) == 10
    # a cost of 3 with 4 spent now and nothing before: next minute, at 60 * (1 - 2/4) = 30 s
    assert _wait_s(4, 0, 50.0, 3, 5) == 40
