"""``GET /admin`` serves the dashboard shell (no data without the secret); ``/admin/totals``
answers the day's totals. The page in a real browser: ``test_admin_browser``."""

from __future__ import annotations

import httpx
import trio

from tests.admin_seed import seed
from tests.conftest import ADMIN, query, start_server


async def test_dashboard_page_is_a_portuguese_shell_without_data(
    nursery: trio.Nursery, database_url: str
) -> None:
    running = await start_server(nursery, database_url)
    seed(database_url)
    async with httpx.AsyncClient(base_url=running.base_url) as http:
        refused = await http.get("/admin")  # not a browser, no secret: a JSON 401
        wrong = await http.get("/admin", headers={"Authorization": "Bearer wrong"})
        browser = await http.get("/admin", headers={"Accept": "text/html,*/*"})
        allowed = await http.get("/admin", headers=ADMIN)
    for bad in (refused, wrong):
        assert bad.status_code == 401
        assert bad.json()["error"] == "unauthorized"
    # a browser is refused too, but gets the data-less page that asks for the secret
    assert browser.status_code == 401
    assert browser.headers["www-authenticate"].startswith("Bearer")
    assert browser.text == allowed.text
    response = allowed
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-store"
    assert "default-src 'none'" in response.headers["content-security-policy"]
    page = response.text
    assert '<html lang="pt-BR">' in page and "Segredo de administrador" in page
    assert "/admin/sessions/stream" in page and "Reiniciar" in page
    assert "Balcão b1" not in page  # data only comes from the bearer-protected routes


async def test_totals_of_the_day(nursery: trio.Nursery, database_url: str) -> None:
    running = await start_server(nursery, database_url)
    ids = seed(database_url)
    query(database_url, "UPDATE sessions SET started_at = now()")
    query(database_url, "UPDATE recommendations SET created_at = now()")
    query(
        database_url,
        "INSERT INTO provider_calls (session_id, kind, provider, model, ok, latency_ms, cost_usd)"
        " VALUES (%s, 'stt', 'elevenlabs', 'scribe_v2', true, 300, 0.0125)",
        ids["s1"],
    )
    async with httpx.AsyncClient(base_url=running.base_url) as http:
        response = await http.get("/admin/totals", headers=ADMIN, params={"tz": "UTC"})
        bad = await http.get("/admin/totals", headers=ADMIN, params={"tz": "Lua/Crateras"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["fuso"] == "UTC"
    assert (body["sessoes"], body["recomendacoes"], body["aceitas"], body["com_feedback"]) == (
        3,
        15,
        6,
        12,
    )
    assert body["taxa_aceitacao"] == 0.5 and body["custo_usd"] == 0.0125
    assert bad.status_code == 400 and bad.json()["field"] == "tz"
