"""An admin action done is audited even when its client hangs up before the answer.

Quart-Trio cancels a request's handler when the client disconnects; an action already done in
the database (here a linking code rotated) must still get its audit row.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
import psycopg
import trio

from tests.conftest import ADMIN, query, start_server

CODES_LOCK = 0x0BA175  # balto.store.link_codes: every linking code is handed out under it


async def test_an_action_done_is_audited_though_the_client_hung_up(
    nursery: trio.Nursery, database_url: str
) -> None:
    running = await start_server(nursery, database_url)
    async with httpx.AsyncClient(base_url=running.base_url, headers=ADMIN) as http:
        made = await http.post(
            "/cadastro/cliente",
            json={"email": "a@b.com", "razao_social": "Rede", "telefone": "11999998888"},
        )
        assert made.status_code == 201, made.text
    ((cliente_id, codigo),) = query(database_url, "SELECT id::text, codigo FROM clientes")
    where = urlsplit(running.base_url)
    with psycopg.connect(database_url, autocommit=True) as holder:
        # the rotation waits on the codes' lock, so the client hangs up while it is under way
        holder.execute("SELECT pg_advisory_lock(%s)", (CODES_LOCK,))
        stream = await trio.open_tcp_stream(where.hostname or "127.0.0.1", where.port or 80)
        await stream.send_all(
            f"POST /admin/clientes/{cliente_id}/codigo HTTP/1.1\r\nHost: {where.netloc}\r\n"
            f"Authorization: {ADMIN['Authorization']}\r\nContent-Length: 0\r\n\r\n".encode()
        )
        with trio.fail_after(10):
            while not _waiting_on(holder):  # noqa: ASYNC110 - the database's state
                await trio.sleep(0.02)
        await stream.aclose()  # gone before the answer
        await trio.sleep(0.5)  # the server has seen it go (and cancelled the request)
        holder.execute("SELECT pg_advisory_unlock(%s)", (CODES_LOCK,))
    with trio.fail_after(10):
        # the rotation, done though nobody waits for its answer, and then its audit row
        while query(database_url, "SELECT codigo FROM clientes")[0][0] == codigo:  # noqa: ASYNC110
            await trio.sleep(0.02)
    with trio.fail_after(10):
        while not _audited(database_url):  # noqa: ASYNC110 - the database's state
            await trio.sleep(0.02)


def _waiting_on(conn: psycopg.Connection) -> bool:
    """Whether another session waits for the codes' lock."""
    row = conn.execute(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
    ).fetchone()
    return row is not None and row[0] > 0


def _audited(database_url: str) -> bool:
    rows = query(
        database_url,
        "SELECT count(*) FROM admin_audit WHERE action = 'rotate_codigo'"
        " AND detail->>'outcome' = 'rotated'",
    )
    return bool(rows[0][0])
