"""A gestor's sessions and sign-ins over real HTTP and PostgreSQL: its sessions end when its
password changes (its own change or the operator's reset) or it is deactivated, on every
instance; an e-mail's wrong passwords are limited whatever the addresses; while the database is
away its pages say so in words."""

from __future__ import annotations

import httpx
import trio
from argon2 import PasswordHasher

from tests.admin_seed import seed
from tests.conftest import ADMIN, allow_connections, query, start_server
from tests.gestor_accounts import EMAIL, PASSWORD, create_gestor, origin, sign_in_gestor


async def test_a_gestors_sessions_end_on_a_new_password_or_deactivation_on_every_instance(
    nursery: trio.Nursery, database_url: str
) -> None:
    a = await start_server(nursery, database_url)
    b = await start_server(nursery, database_url)
    cliente = seed(database_url)["c1"]
    async with (
        httpx.AsyncClient(base_url=a.base_url) as op,
        httpx.AsyncClient(base_url=a.base_url) as at_a,
        httpx.AsyncClient(base_url=b.base_url) as at_b,
    ):
        gestor = (await create_gestor(op, cliente)).json()["id"]
        assert (await sign_in_gestor(at_a, a, "ana@rede1.com.br", PASSWORD)).status_code == 303
        assert (await sign_in_gestor(at_b, b, "ana@rede1.com.br", PASSWORD)).status_code == 303
        assert (await at_b.get("/admin/history/conversas")).status_code == 200

        # the gestor's own change: the wrong current password refused, then both sessions but
        # the one that changed it end
        wrong = await at_a.post(
            "/admin/conta/senha",
            json={"atual": "nao-e-essa-senha", "nova": "outra-senha-boa"},
            headers=origin(a),
        )
        assert wrong.status_code == 400 and wrong.json()["field"] == "atual"
        changed = await at_a.post(
            "/admin/conta/senha",
            json={"atual": PASSWORD, "nova": "outra-senha-boa"},
            headers=origin(a),
        )
        assert changed.status_code == 200, changed.text
        assert (await at_a.get("/admin/history/conversas")).status_code == 200
        assert (await at_b.get("/admin/history/conversas")).status_code == 401
        assert (await sign_in_gestor(at_b, b, "ana@rede1.com.br", PASSWORD)).status_code == 401
        assert (
            await sign_in_gestor(at_b, b, "ana@rede1.com.br", "outra-senha-boa")
        ).status_code == 303

        # the operator sets a new one (a forgotten password): every session of the account ends
        reset = await op.put(
            f"/admin/gestores/{gestor}/senha", headers=ADMIN, json={"senha": "terceira-senha"}
        )
        assert reset.status_code == 200
        for http in (at_a, at_b):
            assert (await http.get("/admin/history/conversas")).status_code == 401
        assert (
            await sign_in_gestor(at_b, b, "ana@rede1.com.br", "terceira-senha")
        ).status_code == 303
        # a signed-in gestor's cookie cannot act from another site
        forged = await at_b.post(
            f"/admin/clientes/{cliente}/codigo", headers={"Origin": "https://evil.example"}
        )
        assert forged.status_code == 403

        # deactivated at A: B refuses its session at once, and the sign-in
        assert (await op.delete(f"/admin/gestores/{gestor}", headers=ADMIN)).status_code == 204
        assert (await at_b.get("/admin/history/conversas")).status_code == 401
        to_form = await at_b.get("/admin/historico")
        assert to_form.status_code == 303 and to_form.headers["location"].startswith("/entrar")
        assert (await at_b.get("/entrar")).status_code == 200  # the form, not back to the page
        assert (
            await sign_in_gestor(at_b, b, "ana@rede1.com.br", "terceira-senha")
        ).status_code == 401
        assert (await op.delete(f"/admin/gestores/{gestor}", headers=ADMIN)).status_code == 204
        # its address is free for a new account
        assert (await create_gestor(op, cliente)).status_code == 201


async def test_an_accounts_wrong_passwords_are_limited_whatever_the_addresses(
    nursery: trio.Nursery, database_url: str
) -> None:
    running = await start_server(nursery, database_url)
    cliente = seed(database_url)["c1"]

    async def sign_in_from(n: int, email: str, senha: str) -> httpx.Response:
        # each from a loopback address of its own: no address reaches its own budget of 5
        transport = httpx.AsyncHTTPTransport(local_address=f"127.0.9.{n}")
        async with httpx.AsyncClient(base_url=running.base_url, transport=transport) as http:
            return await sign_in_gestor(http, running, email, senha)

    async with httpx.AsyncClient(base_url=running.base_url) as op:
        await create_gestor(op, cliente)
        await create_gestor(op, cliente, email="outra@rede1.com.br")
    statuses = [
        (await sign_in_from(n, "ANA@rede1.com.br", f"tentativa-{n:04d}")).status_code
        for n in range(2, 12)
    ]
    assert statuses == [401] * 10
    limited = await sign_in_from(20, "ana@rede1.com.br", PASSWORD)  # right, from a fresh address
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
    # an e-mail nobody signs in with is limited the same way (no account is confirmed)
    for n in range(30, 41):
        last = await sign_in_from(n, "ninguem@rede1.com.br", "qualquer-coisa")
    assert last.status_code == 429
    # another account of the same chain is not
    assert (await sign_in_from(50, "outra@rede1.com.br", PASSWORD)).status_code == 303


async def test_a_gestor_is_told_in_words_while_the_database_is_away(
    nursery: trio.Nursery, database_url: str
) -> None:
    running = await start_server(nursery, database_url, BALTO_DB_TIMEOUT_S="1")
    cliente = seed(database_url)["c1"]
    async with httpx.AsyncClient(base_url=running.base_url, timeout=15) as http:
        await create_gestor(http, cliente)
        assert (
            await sign_in_gestor(http, running, "ana@rede1.com.br", PASSWORD)
        ).status_code == 303
        allow_connections(database_url, False)
        try:
            page = await http.get("/admin/historico")
            assert page.status_code == 503 and page.headers["content-type"].startswith("text/html")
            assert "banco de dados está indisponível" in page.text
            assert page.headers["Retry-After"] == "5"
            data = await http.get("/admin/history/conversas")
            assert data.status_code == 503 and data.json()["error"] == "database_unavailable"
        finally:
            allow_connections(database_url, True)
        with trio.fail_after(20):  # the pool reconnects by itself
            while (await http.get("/admin/historico")).status_code != 200:  # noqa: ASYNC110 - polling the server
                await trio.sleep(0.5)


async def test_an_old_hash_is_remade_at_sign_in_without_ending_other_sessions(
    nursery: trio.Nursery, database_url: str
) -> None:
    running = await start_server(nursery, database_url)
    cliente = seed(database_url)["c1"]
    async with (
        httpx.AsyncClient(base_url=running.base_url) as first,
        httpx.AsyncClient(base_url=running.base_url) as second,
    ):
        await create_gestor(first, cliente)
        # a hash made with other (older) parameters: argon2-cffi's defaults, 64 MiB
        query(database_url, "UPDATE gestores SET senha_hash = %s", PasswordHasher().hash(PASSWORD))
        ((stamp,),) = query(database_url, "SELECT senha_em FROM gestores")
        assert (await sign_in_gestor(first, running, EMAIL, PASSWORD)).status_code == 303
        assert (await sign_in_gestor(second, running, EMAIL, PASSWORD)).status_code == 303
        ((stored, stamp_after),) = query(database_url, "SELECT senha_hash, senha_em FROM gestores")
        assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")  # today's parameters
        assert stamp_after == stamp
        assert (await first.get("/admin/history/conversas")).status_code == 200


async def test_a_gestor_ends_its_other_sessions_and_stays_in(
    nursery: trio.Nursery, database_url: str
) -> None:
    running = await start_server(nursery, database_url)
    cliente = seed(database_url)["c1"]
    path = "/admin/conta/sessoes/encerrar"
    async with (
        httpx.AsyncClient(base_url=running.base_url) as op,
        httpx.AsyncClient(base_url=running.base_url) as here,
        httpx.AsyncClient(base_url=running.base_url) as left_open,
    ):
        await create_gestor(op, cliente)
        for http in (here, left_open):
            assert (await sign_in_gestor(http, running, EMAIL, PASSWORD)).status_code == 303
        # state-changing: from this server's pages only
        assert (await here.post(path)).status_code == 403
        ended = await here.post(path, headers=origin(running))
        assert ended.status_code == 200 and "senha_em" in ended.json()
        assert (await here.get("/admin/conta")).json()["email"] == EMAIL
        assert (await left_open.get("/admin/conta")).status_code == 401
        # the password is unchanged: signing in again works
        assert (await sign_in_gestor(left_open, running, EMAIL, PASSWORD)).status_code == 303
        assert (await op.post(path, headers=ADMIN)).status_code == 403
        audited = query(
            database_url, "SELECT ator FROM admin_audit WHERE action = 'end_other_sessions'"
        )
        assert audited == [(f"gestor:{EMAIL}",)]
