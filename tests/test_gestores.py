"""A chain's own accounts (gestores) over real HTTP and PostgreSQL: the operator creates one, it
signs in with e-mail and password and reaches its own cliente's data only (lists, one
conversation, erasure, charts, the Excel report, catalog, attendants, linking code, revocation,
alert acknowledgement), never the operator's routes; its sessions end when its password changes
or it is deactivated, on every instance."""

from __future__ import annotations

import io
from typing import Any

import httpx
import openpyxl
import trio

from balto.device import stream_file
from balto.web.app import create_quart_app
from supervisors.root import Running
from tests.admin_seed import seed
from tests.conftest import ADMIN, FIXTURES, query, register_balcao, start_server, ws_url

PASSWORD = "senha-da-rede-1"


def _origin(running: Running) -> dict[str, str]:
    return {"Origin": running.base_url}


async def _create(http: httpx.AsyncClient, cliente: str, **body: Any) -> httpx.Response:
    fields = {"nome": "Ana Gestora", "email": "ana@rede1.com.br", "senha": PASSWORD, **body}
    return await http.post(f"/admin/clientes/{cliente}/gestores", headers=ADMIN, json=fields)


async def _sign_in(
    http: httpx.AsyncClient, running: Running, email: str, senha: str
) -> httpx.Response:
    return await http.post(
        "/entrar",
        data={"email": email, "segredo": senha, "proximo": "/admin/historico"},
        headers=_origin(running),
    )


def _alert(database_url: str, session_id: str) -> str:
    rows = query(
        database_url,
        "INSERT INTO alerts (id, session_id, sinal, motivo, orientacao, transcricao_base)"
        " VALUES (gen_random_uuid(), %s, 'dor_no_peito', 'dor', 'procure', 'dói') RETURNING id",
        session_id,
    )
    return str(rows[0][0])


async def test_a_gestor_reaches_its_own_clientes_data_and_nothing_else(
    nursery: trio.Nursery, database_url: str
) -> None:
    running = await start_server(nursery, database_url)
    ids = seed(database_url)
    c1, c2 = ids["c1"], ids["c2"]
    alert_mine, alert_theirs = _alert(database_url, ids["s1"]), _alert(database_url, ids["s3"])
    async with httpx.AsyncClient(base_url=running.base_url) as op:
        assert (await _create(op, c1, senha="curta")).json()["field"] == "senha"
        assert (await _create(op, c1, email="sem-arroba")).json()["field"] == "email"
        assert (await _create(op, "00000000-0000-0000-0000-000000000000")).status_code == 404
        created = await _create(op, c1)
        assert created.status_code == 201, created.text
        again = await _create(op, c2, email="ANA@rede1.com.br")  # one account per address
        assert again.status_code == 409 and again.json()["field"] == "email"
        listed = (await op.get(f"/admin/clientes/{c1}/gestores", headers=ADMIN)).json()["items"]
        assert [(g["nome"], g["email"]) for g in listed] == [("Ana Gestora", "ana@rede1.com.br")]
        assert "senha_hash" not in listed[0]
        stored = query(database_url, "SELECT senha_hash FROM gestores")[0][0]
        assert stored.startswith("$argon2id$") and PASSWORD not in stored

    async with httpx.AsyncClient(base_url=running.base_url) as http:
        wrong = await _sign_in(http, running, "ana@rede1.com.br", "senha-errada-99")
        unknown = await _sign_in(http, running, "ninguem@rede1.com.br", PASSWORD)
        nul = await _sign_in(http, running, "ana\x00@rede1.com.br", PASSWORD)
        assert nul.status_code == 401  # not a 500 from a text PostgreSQL cannot compare
        for refused in (wrong, unknown):  # the same words: an address is not confirmed
            assert refused.status_code == 401 and "E-mail ou senha incorretos." in refused.text
        signed = await _sign_in(http, running, "Ana@Rede1.com.br", PASSWORD)
        assert signed.status_code == 303 and signed.headers["location"] == "/admin/historico"

        conta = (await http.get("/admin/conta")).json()
        assert conta["papel"] == "gestor" and conta["cliente_id"] == c1
        assert conta["razao_social"] == "Rede c1"

        async def items(path: str, key: str = "id") -> set[str]:
            answer = await http.get(path)
            assert answer.status_code == 200, (path, answer.text)
            return {str(item[key]) for item in answer.json()["items"]}

        assert await items("/admin/history/conversas") == {ids["s1"], ids["s2"]}
        assert await items("/admin/clientes") == {c1}
        assert await items("/admin/balcoes") == {ids["b1"], ids["b2"]}
        assert await items("/admin/history/segments", "balcao_id") == {ids["b1"], ids["b2"]}
        assert await items("/admin/history/alertas", "session_id") == {ids["s1"]}
        other = await http.get(f"/admin/history/conversas?cliente_id={c2}")
        assert other.status_code == 403 and other.json()["field"] == "cliente_id"
        # another cliente's rows named in the path: as if they did not exist
        assert (await http.get(f"/admin/history/conversas/{ids['s1']}")).status_code == 200
        assert (await http.get(f"/admin/history/conversas/{ids['s3']}")).status_code == 404
        assert (
            await http.delete(f"/admin/history/conversas/{ids['s3']}", headers=_origin(running))
        ).status_code == 404
        assert query(database_url, "SELECT count(*) FROM segments WHERE transcript IS NULL") == [
            (0,)
        ]
        assert (
            await http.post(f"/admin/alertas/{alert_theirs}/ciente", headers=_origin(running))
        ).status_code == 404
        acked = await http.post(f"/admin/alertas/{alert_mine}/ciente", headers=_origin(running))
        assert acked.status_code == 200 and acked.json()["ciente_por"] == "Ana Gestora"
        # the operator's later acknowledgement keeps the first one's time and name
        again = await http.post(f"/admin/alertas/{alert_mine}/ciente", headers=ADMIN)
        assert again.json() == acked.json()  # (the bearer secret wins over the cookie)
        assert (
            await http.post(f"/admin/balcoes/{ids['b3']}/revoke", headers=_origin(running))
        ).status_code == 404
        assert (
            await http.post(f"/admin/clientes/{c2}/codigo", headers=_origin(running))
        ).status_code == 404
        assert (
            await http.post(f"/admin/clientes/{c1}/codigo", headers=_origin(running))
        ).status_code == 200
        assert (await http.get(f"/admin/clientes/{c2}/catalogo")).status_code == 404
        assert (await http.get(f"/admin/clientes/{c1}/catalogo")).status_code == 200
        theirs = await http.post(
            "/admin/atendentes",
            json={"cliente_id": c2, "nome": "Intrusa", "consentimento": True},
            headers=_origin(running),
        )
        assert theirs.status_code == 404
        mine = await http.post(
            "/admin/atendentes",
            json={"cliente_id": c1, "nome": "Bia", "consentimento": True},
            headers=_origin(running),
        )
        assert mine.status_code == 201
        assert (await http.get(f"/admin/atendentes?cliente_id={c2}")).status_code == 403
        assert [a["nome"] for a in (await http.get("/admin/atendentes")).json()["items"]] == ["Bia"]

        painel = (await http.get("/admin/painel/dados?desde=2026-03-01&ate=2026-03-03")).json()
        assert [row["cliente_id"] for row in painel["por_cliente"]] == [c1]
        report = await http.get("/api/export/xlsx?desde=2026-03-01&ate=2026-03-03")
        assert report.status_code == 200
        sheet = openpyxl.load_workbook(io.BytesIO(report.content), read_only=True)["Interações"]
        said = {str(cell) for row in sheet.iter_rows(values_only=True) for cell in row}
        assert "b1 fala 0" in said and "b2 fala 0" in said and "b3 fala 0" not in said
        assert (await http.get(f"/api/export/xlsx?cliente_id={c2}")).status_code == 403

        # the operator's routes: 403 for the admin API, the sign-in's 401 where only the
        # admin secret was ever accepted, and its pages lead back to Ao vivo
        for method, path in (
            ("GET", "/admin/audit"),
            ("GET", "/admin/sessions"),
            ("GET", "/admin/runtime"),
            ("POST", "/admin/faults"),
            ("GET", "/admin/history/refusals"),
            ("GET", "/admin/cadastro/falhas"),
            ("GET", f"/admin/clientes/{c1}/gestores"),
            ("POST", f"/admin/clientes/{c1}/gestores"),
        ):
            answer = await http.request(method, path, headers=_origin(running), json={})
            assert answer.status_code == 403, (method, path, answer.text)
            assert answer.json()["error"] == "forbidden"
        for method, path in (("GET", "/metrics"), ("GET", "/admin/totals")):
            assert (await http.request(method, path)).status_code == 401, path
        made = await http.post(
            "/cadastro/cliente",
            json={"email": "x@y.com", "razao_social": "X", "telefone": "11999998888"},
            headers=_origin(running),
        )
        assert made.status_code == 401
        auditoria = await http.get("/admin/auditoria")
        assert auditoria.status_code == 303 and auditoria.headers["location"] == "/admin/ao-vivo"
        page = await http.get("/admin/historico")
        assert page.status_code == 200 and "Auditoria" not in page.text
        assert "Ana Gestora — Rede c1" in page.text

    actors = query(
        database_url,
        "SELECT DISTINCT ator FROM admin_audit WHERE action IN ('ack_alert', 'create_atendente')"
        " ORDER BY ator",
    )
    assert actors == [("gestor:ana@rede1.com.br",), ("operador",)]  # the second "Ciente"
    assert query(database_url, "SELECT ator FROM admin_audit WHERE action = 'create_gestor'") == [
        ("operador",)
    ]
    # every sign-in audited, the one whose e-mail held a NUL too (it cannot be stored as such)
    tried = query(
        database_url,
        "SELECT ator, detail->>'outcome' FROM admin_audit WHERE action = 'sign_in' ORDER BY id",
    )
    assert tried == [
        ("gestor:ana@rede1.com.br", "wrong_secret"),
        ("gestor:ninguem@rede1.com.br", "wrong_secret"),
        ("gestor:?", "wrong_secret"),
        ("gestor:Ana@Rede1.com.br", "signed_in"),
    ]


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
        gestor = (await _create(op, cliente)).json()["id"]
        assert (await _sign_in(at_a, a, "ana@rede1.com.br", PASSWORD)).status_code == 303
        assert (await _sign_in(at_b, b, "ana@rede1.com.br", PASSWORD)).status_code == 303
        assert (await at_b.get("/admin/history/conversas")).status_code == 200

        # the gestor's own change: the wrong current password refused, then both sessions but
        # the one that changed it end
        wrong = await at_a.post(
            "/admin/conta/senha",
            json={"atual": "nao-e-essa-senha", "nova": "outra-senha-boa"},
            headers=_origin(a),
        )
        assert wrong.status_code == 400 and wrong.json()["field"] == "atual"
        changed = await at_a.post(
            "/admin/conta/senha",
            json={"atual": PASSWORD, "nova": "outra-senha-boa"},
            headers=_origin(a),
        )
        assert changed.status_code == 200, changed.text
        assert (await at_a.get("/admin/history/conversas")).status_code == 200
        assert (await at_b.get("/admin/history/conversas")).status_code == 401
        assert (await _sign_in(at_b, b, "ana@rede1.com.br", PASSWORD)).status_code == 401
        assert (await _sign_in(at_b, b, "ana@rede1.com.br", "outra-senha-boa")).status_code == 303

        # the operator sets a new one (a forgotten password): every session of the account ends
        reset = await op.put(
            f"/admin/gestores/{gestor}/senha", headers=ADMIN, json={"senha": "terceira-senha"}
        )
        assert reset.status_code == 200
        for http in (at_a, at_b):
            assert (await http.get("/admin/history/conversas")).status_code == 401
        assert (await _sign_in(at_b, b, "ana@rede1.com.br", "terceira-senha")).status_code == 303
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
        assert (await _sign_in(at_b, b, "ana@rede1.com.br", "terceira-senha")).status_code == 401
        assert (await op.delete(f"/admin/gestores/{gestor}", headers=ADMIN)).status_code == 204
        # its address is free for a new account
        assert (await _create(op, cliente)).status_code == 201


async def test_ao_vivo_shows_a_gestor_its_own_live_sessions_only(
    nursery: trio.Nursery, database_url: str
) -> None:
    running = await start_server(nursery, database_url)
    key_a, balcao_a = await register_balcao(running.base_url, "Balcão da Rede A")
    key_b, balcao_b = await register_balcao(running.base_url, "Balcão da Rede B")
    cliente_a = str(
        query(database_url, "SELECT cliente_id FROM balcoes WHERE id = %s", balcao_a)[0][0]
    )
    async with (
        httpx.AsyncClient(base_url=running.base_url) as op,
        httpx.AsyncClient(base_url=running.base_url) as http,
        trio.open_nursery() as devices,
    ):
        await _create(op, cliente_a)
        assert (await _sign_in(http, running, "ana@rede1.com.br", PASSWORD)).status_code == 303
        for key in (key_a, key_b):  # both stay connected until the pages have been read
            devices.start_soon(
                lambda k=key: stream_file(
                    ws_url(running), k, FIXTURES / "two_utterances.webm", linger_s=60
                )
            )

        async def live(client: httpx.AsyncClient, headers: dict[str, str]) -> set[str]:
            body = (await client.get("/admin/ao-vivo/dados", headers=headers)).json()
            return {s["balcao_id"] for s in body["sessions"]}

        with trio.fail_after(20):
            while await live(op, ADMIN) != {balcao_a, balcao_b}:  # noqa: ASYNC110 - polling the server
                await trio.sleep(0.2)
        assert await live(http, {}) == {balcao_a}
        devices.cancel_scope.cancel()


# Opening a route to gestores is a decision about what a chain may see: this list says which are
# open, so a route opened by accident, or one added later, fails here until someone decides.
OPEN_TO_GESTORES = {
    "admin_atendentes.create",
    "admin_atendentes.listing",
    "admin_atendentes.remove",
    "admin_cadastro.rotate",
    "admin_catalog.read",
    "admin_catalog.upload",
    "admin_charts.chart_data",
    "admin_conversations.erase_conversation",
    "admin_conversations.list_alerts",
    "admin_conversations.list_conversations",
    "admin_conversations.one_conversation",
    "admin_gestores.account",
    "admin_gestores.change_own_password",
    "admin_history.alerts",
    "admin_history.balcoes",
    "admin_history.clientes",
    "admin_history.recommendations",
    "admin_history.revoke",
    "admin_history.segments",
    "admin_live.acknowledge",
    "admin_live.live_data",
    "admin_voice.delete_voice",
    "admin_voice.put_voice",
    "export.export_xlsx",
    "pages.ao_vivo",
    "pages.cadastro",
    "pages.conversa",
    "pages.historico",
    "pages.painel",
}
# routes that never took a session cookie: the operator's bearer secret only, 401 for anyone else
BEARER_ONLY = {"cadastro.cadastro_cliente", "dashboard.page", "dashboard.totals", "metrics.metrics"}


async def test_every_other_admin_route_refuses_a_gestor(
    nursery: trio.Nursery, database_url: str
) -> None:
    running = await start_server(nursery, database_url)
    cliente = seed(database_url)["c1"]
    quart = create_quart_app(running.services)  # the server's own route table
    rules = [
        rule
        for rule in quart.url_map.iter_rules()
        if rule.rule.startswith(("/admin", "/api", "/cadastro/cliente", "/metrics"))
    ]
    opened = {
        rule.endpoint
        for rule in rules
        if getattr(quart.view_functions[rule.endpoint], "_balto_for_gestores", False)
    }
    assert opened == OPEN_TO_GESTORES
    sample = "00000000-0000-0000-0000-000000000000"
    async with (
        httpx.AsyncClient(base_url=running.base_url) as op,
        httpx.AsyncClient(base_url=running.base_url) as http,
    ):
        await _create(op, cliente)
        assert (await _sign_in(http, running, "ana@rede1.com.br", PASSWORD)).status_code == 303
        asked = 0
        for rule in rules:
            if rule.endpoint in OPEN_TO_GESTORES:
                continue
            path = rule.rule
            for arg in rule.arguments:
                path = path.replace(f"<{arg}>", sample)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                answer = await http.request(method, path, headers=_origin(running), json={})
                asked += 1
                where = (rule.endpoint, method, path)
                if rule.endpoint.startswith("pages."):
                    assert answer.status_code == 303, where
                    assert answer.headers["location"] == "/admin/ao-vivo", where
                elif rule.endpoint in BEARER_ONLY:
                    assert answer.status_code == 401, where
                else:
                    assert answer.status_code == 403, (where, answer.text)
                    assert answer.json()["error"] == "forbidden", where
        assert asked > 20


async def test_an_accounts_wrong_passwords_are_limited_whatever_the_addresses(
    nursery: trio.Nursery, database_url: str
) -> None:
    running = await start_server(nursery, database_url)
    cliente = seed(database_url)["c1"]

    async def sign_in_from(n: int, email: str, senha: str) -> httpx.Response:
        # each from a loopback address of its own: no address reaches its own budget of 5
        transport = httpx.AsyncHTTPTransport(local_address=f"127.0.9.{n}")
        async with httpx.AsyncClient(base_url=running.base_url, transport=transport) as http:
            return await _sign_in(http, running, email, senha)

    async with httpx.AsyncClient(base_url=running.base_url) as op:
        await _create(op, cliente)
        await _create(op, cliente, email="outra@rede1.com.br")
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
