"""The admin secret's guess budget is the cluster's, not each instance's, and holds while the
database is away: two real servers on one PostgreSQL, the second asked after the first was
guessed at; then one server whose database stops taking connections."""

from __future__ import annotations

import httpx
import trio

from tests.conftest import ADMIN, allow_connections, start_server

WRONG = {"Authorization": "Bearer guess"}


async def _statuses(http: httpx.AsyncClient, count: int) -> list[int]:
    """`count` wrong bearer guesses sent in parallel: their statuses, sorted."""
    statuses: list[int] = []

    async def guess() -> None:
        statuses.append((await http.get("/admin/clientes", headers=WRONG)).status_code)

    async with trio.open_nursery() as nursery:
        for _ in range(count):
            nursery.start_soon(guess)
    return sorted(statuses)


async def test_wrong_guesses_at_one_instance_limit_the_address_at_another(
    nursery: trio.Nursery, database_url: str
) -> None:
    """Counted per process, N instances behind the proxy gave an address N budgets."""
    a = await start_server(nursery, database_url)
    b = await start_server(nursery, database_url)
    async with httpx.AsyncClient(base_url=a.base_url) as http:
        assert await _statuses(http, 5) == [401] * 5
    async with httpx.AsyncClient(base_url=b.base_url) as http:
        assert await _statuses(http, 3) == [429] * 3
        limited = await http.get("/admin/clientes", headers=ADMIN)  # even the right one
        assert limited.status_code == 429 and 0 < int(limited.headers["retry-after"]) <= 300
        form = await http.post(
            "/entrar", data={"segredo": "test-admin-secret"}, headers={"Origin": b.base_url}
        )
        assert form.status_code == 429  # one budget for both doors, on every instance
    other = httpx.AsyncHTTPTransport(local_address="127.0.0.2")
    async with httpx.AsyncClient(base_url=b.base_url, transport=other) as http:
        assert (await http.get("/admin/clientes", headers=ADMIN)).status_code == 200
        assert (await http.get("/admin/clientes", headers=WRONG)).status_code == 401


async def test_a_sign_in_forgets_the_addresss_guesses_on_every_instance(
    nursery: trio.Nursery, database_url: str
) -> None:
    a = await start_server(nursery, database_url)
    b = await start_server(nursery, database_url)
    async with httpx.AsyncClient(base_url=a.base_url) as http:
        assert await _statuses(http, 4) == [401] * 4
    async with httpx.AsyncClient(base_url=b.base_url) as http:
        form = await http.post(
            "/entrar", data={"segredo": "test-admin-secret"}, headers={"Origin": b.base_url}
        )
        assert form.status_code == 303
    async with httpx.AsyncClient(base_url=a.base_url) as http:
        # the shared count was forgotten (A's own table, which still holds them, only decides
        # while the database is away)
        assert await _statuses(http, 6) == [401] * 5 + [429]


async def test_the_limit_holds_while_the_database_is_away(
    nursery: trio.Nursery, database_url: str
) -> None:
    running = await start_server(nursery, database_url)
    allow_connections(database_url, False)
    try:
        async with httpx.AsyncClient(base_url=running.base_url, timeout=10) as http:
            assert await _statuses(http, 8) == [401] * 5 + [429] * 3
            assert (await http.get("/metrics", headers=ADMIN)).status_code == 429
    finally:
        allow_connections(database_url, True)
