"""Two-step verification for gestores over real HTTP and PostgreSQL: set up with an authenticator's
code, sign-in's second step (codes good once, recovery codes once, an expired or forged step
refused, guesses counted), turned off by its owner or, for a lost phone, by a colleague."""

from __future__ import annotations

import re

import httpx
import trio

from balto import totp
from balto.web import session_cookie
from supervisors.root import Running
from tests.admin_seed import seed
from tests.conftest import ADMIN, query, start_server
from tests.gestor_accounts import EMAIL, PASSWORD, create_gestor, origin, sign_in_gestor

_STEP = re.compile(r'name="etapa" value="([^"]+)"')


def _etapa(page: httpx.Response) -> str:
    """The second-step token the sign-in page carries."""
    found = _STEP.search(page.text)
    assert found is not None, page.text
    return found.group(1)


async def _code_step(
    http: httpx.AsyncClient, running: Running, etapa: str, codigo: str
) -> httpx.Response:
    return await http.post(
        "/entrar",
        data={"etapa": etapa, "codigo": codigo, "proximo": "/admin/historico"},
        headers=origin(running),
    )


async def _turn_on(http: httpx.AsyncClient, running: Running) -> tuple[str, list[str], int]:
    """Ana sets it up: her secret, her recovery codes and the step of the code she confirmed."""
    here = origin(running)
    started = await http.post("/admin/conta/dois-fatores", json={"senha": PASSWORD}, headers=here)
    assert started.status_code == 200, started.text
    secret = started.json()["segredo"]
    step = totp.current_step()
    confirmed = await http.post(
        "/admin/conta/dois-fatores/confirmar",
        json={"codigo": totp.code_at(secret, step)},
        headers=here,
    )
    assert confirmed.status_code == 200, confirmed.text
    return secret, confirmed.json()["codigos_recuperacao"], step


async def test_set_up_then_sign_in_with_a_code_each_good_once(
    nursery: trio.Nursery, database_url: str
) -> None:
    running = await start_server(nursery, database_url)
    ids = seed(database_url)
    here = origin(running)
    async with (
        httpx.AsyncClient(base_url=running.base_url) as op,
        httpx.AsyncClient(base_url=running.base_url) as ana,
        httpx.AsyncClient(base_url=running.base_url) as other_tab,
        httpx.AsyncClient(base_url=running.base_url) as later,
    ):
        await create_gestor(op, ids["c1"])
        assert (await sign_in_gestor(ana, running, EMAIL, PASSWORD)).status_code == 303
        assert (await sign_in_gestor(other_tab, running, EMAIL, PASSWORD)).status_code == 303
        assert (await ana.get("/admin/conta")).json()["dois_fatores"] is False

        # setting up asks for the password; nothing changes until a code confirms it
        path = "/admin/conta/dois-fatores"
        missing = await ana.post(path, json={}, headers=here)
        assert missing.status_code == 400 and missing.json()["field"] == "senha"
        wrong = await ana.post(path, json={"senha": "nao-e-a-senha"}, headers=here)
        assert wrong.status_code == 400 and wrong.json()["field"] == "senha"
        started = await ana.post(path, json={"senha": PASSWORD}, headers=here)
        assert started.status_code == 200, started.text
        body = started.json()
        secret = body["segredo"]
        assert re.fullmatch(r"[A-Z2-7]{32}", secret)
        assert body["uri"].startswith("otpauth://totp/Balto:")
        assert f"secret={secret}" in body["uri"] and "issuer=Balto" in body["uri"]
        assert body["qr"].startswith("data:image/svg+xml")
        again = await ana.post(path, json={"senha": PASSWORD}, headers=here)
        secret = again.json()["segredo"]  # a second start replaces the first secret
        assert secret != body["segredo"]
        assert (await ana.get("/admin/conta")).json()["dois_fatores"] is False

        confirm = "/admin/conta/dois-fatores/confirmar"
        step = totp.current_step()
        stale = await ana.post(
            confirm, json={"codigo": totp.code_at(body["segredo"], step)}, headers=here
        )
        assert stale.status_code == 400 and stale.json()["field"] == "codigo"
        done = await ana.post(confirm, json={"codigo": totp.code_at(secret, step)}, headers=here)
        assert done.status_code == 200, done.text
        codes = done.json()["codigos_recuperacao"]
        assert len(codes) == 10 and len(set(codes)) == 10
        assert all(re.fullmatch(r"[A-Z2-9]{5}-[A-Z2-9]{5}", c) for c in codes)
        # this browser stays in (a new cookie); the session signed in without the code ends
        assert (await ana.get("/admin/conta")).json()["dois_fatores"] is True
        assert (await other_tab.get("/admin/conta")).status_code == 401
        assert (await ana.post(path, json={"senha": PASSWORD}, headers=here)).status_code == 409
        assert (await ana.post(confirm, json={"codigo": "123456"}, headers=here)).status_code == 409
        stored = query(database_url, "SELECT codigo_hash FROM gestor_recuperacao")
        assert len(stored) == 10 and not any(c in str(stored) for c in codes)

        # the password alone no longer signs in: it leads to the code's form, with no cookie
        first = await sign_in_gestor(later, running, EMAIL, PASSWORD)
        assert first.status_code == 200 and 'id="entrar-codigo"' in first.text
        assert "set-cookie" not in first.headers
        etapa = _etapa(first)
        assert (await later.get("/admin/conta")).status_code == 401
        wrong_code = await _code_step(later, running, etapa, "000000")
        assert wrong_code.status_code == 401 and "Código incorreto" in wrong_code.text
        # the code that confirmed the setup was seen: it never signs in
        replayed = await _code_step(later, running, etapa, totp.code_at(secret, step))
        assert replayed.status_code == 401
        fresh = totp.code_at(secret, step + 1)
        signed = await _code_step(later, running, etapa, fresh)
        assert signed.status_code == 303 and signed.headers["location"] == "/admin/historico"
        assert (await later.get("/admin/conta")).json()["email"] == EMAIL
        async with httpx.AsyncClient(base_url=running.base_url) as thief:
            again_page = await sign_in_gestor(thief, running, EMAIL, PASSWORD)
            assert (await _code_step(thief, running, _etapa(again_page), fresh)).status_code == 401
            # a recovery code, typed any way, once
            code = codes[3].lower().replace("-", " ")
            used = await _code_step(thief, running, _etapa(again_page), code)
            assert used.status_code == 303
        async with httpx.AsyncClient(base_url=running.base_url) as thief:
            page = await sign_in_gestor(thief, running, EMAIL, PASSWORD)
            assert (await _code_step(thief, running, _etapa(page), codes[3])).status_code == 401
        audited = query(
            database_url,
            "SELECT detail->>'outcome' FROM admin_audit WHERE action = 'sign_in' ORDER BY id",
        )
        outcomes = [row[0] for row in audited]
        assert "code_asked" in outcomes and "wrong_code" in outcomes


async def test_a_forged_or_expired_step_is_refused_and_never_a_session(
    nursery: trio.Nursery, database_url: str
) -> None:
    running = await start_server(nursery, database_url)
    ids = seed(database_url)
    async with (
        httpx.AsyncClient(base_url=running.base_url) as op,
        httpx.AsyncClient(base_url=running.base_url) as ana,
        httpx.AsyncClient(base_url=running.base_url) as later,
    ):
        gestor_id = (await create_gestor(op, ids["c1"])).json()["id"]
        assert (await sign_in_gestor(ana, running, EMAIL, PASSWORD)).status_code == 303
        secret, _, step = await _turn_on(ana, running)
        page = await sign_in_gestor(later, running, EMAIL, PASSWORD)
        etapa = _etapa(page)
        # the step's proof is no session cookie
        later.cookies.set(session_cookie.COOKIE, etapa)
        assert (await later.get("/admin/conta")).status_code == 401
        later.cookies.clear()
        stamp = int(etapa.split(".")[4])
        expired = session_cookie.make_step_token("test-admin-secret", gestor_id, stamp, now=0.0)
        forged = etapa[:-4] + ("0000" if not etapa.endswith("0000") else "1111")
        code = totp.code_at(secret, step + 1)
        for bad in (expired, forged, "s1.x", ""):
            answer = await _code_step(later, running, bad, code)
            assert answer.status_code == 401, bad
            assert 'id="entrar"' in answer.text and "expirou" in answer.text
        # a password changed meanwhile voids the step: the new one must be typed again
        reset = await op.put(
            f"/admin/gestores/{gestor_id}/senha", json={"senha": "outra-senha-boa"}, headers=ADMIN
        )
        assert reset.status_code == 200
        assert (await _code_step(later, running, etapa, code)).status_code == 401
        assert (await later.get("/admin/conta")).status_code == 401


async def test_wrong_codes_count_as_wrong_guesses(nursery: trio.Nursery, database_url: str) -> None:
    running = await start_server(nursery, database_url)
    ids = seed(database_url)
    async with (
        httpx.AsyncClient(base_url=running.base_url) as op,
        httpx.AsyncClient(base_url=running.base_url) as ana,
        httpx.AsyncClient(base_url=running.base_url) as guesser,
    ):
        await create_gestor(op, ids["c1"])
        assert (await sign_in_gestor(ana, running, EMAIL, PASSWORD)).status_code == 303
        secret, _, step = await _turn_on(ana, running)
        etapa = _etapa(await sign_in_gestor(guesser, running, EMAIL, PASSWORD))
        statuses = []
        for guess in range(6):
            answer = await _code_step(guesser, running, etapa, f"{guess:06d}")
            statuses.append(answer.status_code)
        assert statuses[:5] == [401] * 5 and statuses[5] == 429
        # limited: even the right code waits, and the password cannot reset the count
        right = await _code_step(guesser, running, etapa, totp.code_at(secret, step + 1))
        assert right.status_code == 429 and int(right.headers["Retry-After"]) > 0
        assert (await sign_in_gestor(guesser, running, EMAIL, PASSWORD)).status_code == 429


async def test_turned_off_by_its_owner_or_by_a_colleague_for_a_lost_phone(
    nursery: trio.Nursery, database_url: str
) -> None:
    running = await start_server(nursery, database_url)
    ids = seed(database_url)
    here = origin(running)
    async with (
        httpx.AsyncClient(base_url=running.base_url) as op,
        httpx.AsyncClient(base_url=running.base_url) as ana,
        httpx.AsyncClient(base_url=running.base_url) as bia,
        httpx.AsyncClient(base_url=running.base_url) as bruno,
    ):
        ana_id = (await create_gestor(op, ids["c1"])).json()["id"]
        bia_email = "bia@rede1.com.br"
        await create_gestor(op, ids["c1"], nome="Bia", email=bia_email)
        bruno_email = "bruno@rede2.com.br"
        await create_gestor(op, ids["c2"], nome="Bruno", email=bruno_email)
        for who, email in ((ana, EMAIL), (bia, bia_email), (bruno, bruno_email)):
            assert (await sign_in_gestor(who, running, email, PASSWORD)).status_code == 303

        # the operator has no second step of its own
        assert (
            await op.post("/admin/conta/dois-fatores", json={"senha": "x"}, headers=ADMIN)
        ).status_code == 403

        # by its owner: the password and a code
        path = "/admin/conta/dois-fatores"
        off = await ana.request(
            "DELETE", path, json={"senha": PASSWORD, "codigo": "1"}, headers=here
        )
        assert off.status_code == 409  # not on yet
        secret, codes, step = await _turn_on(ana, running)
        no_code = await ana.request("DELETE", path, json={"senha": PASSWORD}, headers=here)
        assert no_code.status_code == 400 and no_code.json()["field"] == "codigo"
        code = totp.code_at(secret, step + 1)
        bad_password = await ana.request(
            "DELETE", path, json={"senha": "nao-e-a-senha", "codigo": code}, headers=here
        )
        assert bad_password.status_code == 400 and bad_password.json()["field"] == "senha"
        bad_code = await ana.request(
            "DELETE", path, json={"senha": PASSWORD, "codigo": "999999"}, headers=here
        )
        assert bad_code.status_code == 400 and bad_code.json()["field"] == "codigo"
        off = await ana.request(
            "DELETE", path, json={"senha": PASSWORD, "codigo": codes[0]}, headers=here
        )
        assert off.status_code == 200 and off.json() == {"dois_fatores": False}
        assert query(database_url, "SELECT count(*) FROM gestor_recuperacao") == [(0,)]
        assert (await ana.get("/admin/conta")).json()["dois_fatores"] is False

        # for a lost phone: a colleague of the same chain, never one's own, never another chain's
        secret, _, step = await _turn_on(ana, running)
        listed = await bia.get(f"/admin/clientes/{ids['c1']}/gestores")
        flags = {row["email"]: row["dois_fatores"] for row in listed.json()["items"]}
        assert flags == {EMAIL: True, bia_email: False}
        colleague = f"/admin/gestores/{ana_id}/dois-fatores"
        assert (await bruno.delete(colleague, headers=here)).status_code == 404
        assert (await ana.delete(colleague, headers=here)).status_code == 409
        assert (await bia.delete(colleague, headers=here)).status_code == 204
        assert (await bia.delete(colleague, headers=here)).status_code == 409  # off already
        assert (await ana.get("/admin/conta")).status_code == 401  # her sessions ended
        assert (await sign_in_gestor(ana, running, EMAIL, PASSWORD)).status_code == 303
        unknown = "/admin/gestores/00000000-0000-0000-0000-000000000000/dois-fatores"
        assert (await op.delete(unknown, headers=ADMIN)).status_code == 404
        audited = query(
            database_url,
            "SELECT detail->>'outcome', ator FROM admin_audit"
            " WHERE action IN ('two_step', 'turn_off_two_step') ORDER BY id",
        )
        assert ("on", f"gestor:{EMAIL}") in audited and ("off", f"gestor:{EMAIL}") in audited
        assert (None, f"gestor:{bia_email}") in audited


_KEY = re.compile(r'<code id="chave">([A-Z2-7]+)</code>')


async def test_a_chain_that_requires_it_sets_it_up_at_the_next_sign_in(
    nursery: trio.Nursery, database_url: str
) -> None:
    running = await start_server(nursery, database_url)
    ids = seed(database_url)
    c1, c2 = ids["c1"], ids["c2"]
    here = origin(running)
    async with (
        httpx.AsyncClient(base_url=running.base_url) as op,
        httpx.AsyncClient(base_url=running.base_url) as bia,
        httpx.AsyncClient(base_url=running.base_url) as bruno,
        httpx.AsyncClient(base_url=running.base_url) as ana,
    ):
        await create_gestor(op, c1)
        bia_email, bruno_email = "bia@rede1.com.br", "bruno@rede2.com.br"
        await create_gestor(op, c1, nome="Bia", email=bia_email)
        await create_gestor(op, c2, nome="Bruno", email=bruno_email)
        assert (await sign_in_gestor(bia, running, bia_email, PASSWORD)).status_code == 303
        assert (await sign_in_gestor(bruno, running, bruno_email, PASSWORD)).status_code == 303

        path = f"/admin/clientes/{c1}/dois-fatores"
        bad = await op.put(path, json={"exigido": "sim"}, headers=ADMIN)
        assert bad.status_code == 400 and bad.json()["field"] == "exigido"
        unknown = "/admin/clientes/00000000-0000-0000-0000-000000000000/dois-fatores"
        assert (await op.put(unknown, json={"exigido": True}, headers=ADMIN)).status_code == 404
        assert (await bruno.put(path, json={"exigido": True}, headers=here)).status_code == 404
        required = await bia.put(path, json={"exigido": True}, headers=here)
        assert required.status_code == 200
        assert required.json() == {"cliente_id": c1, "exigido": True}
        listed = (await op.get("/admin/clientes", headers=ADMIN)).json()["items"]
        assert {row["id"]: row["exige_dois_fatores"] for row in listed} == {c1: True, c2: False}
        # a session open when it became required goes on; another chain signs in as before
        assert (await bia.get("/admin/conta")).status_code == 200
        async with httpx.AsyncClient(base_url=running.base_url) as again:
            assert (await sign_in_gestor(again, running, bruno_email, PASSWORD)).status_code == 303

        # Ana has none: after her password, the setup, and no session until it is done
        first = await sign_in_gestor(ana, running, EMAIL, PASSWORD)
        assert first.status_code == 200 and 'id="exigida"' in first.text
        assert 'class="qr" src="data:image/svg+xml' in first.text
        assert "set-cookie" not in first.headers
        key = _KEY.search(first.text)
        assert key is not None
        secret = key.group(1)
        etapa = _etapa(first)
        assert (await ana.get("/admin/conta")).status_code == 401
        wrong = await _code_step(ana, running, etapa, "000000")
        assert wrong.status_code == 401 and 'id="exigida"' in wrong.text
        assert _KEY.search(wrong.text).group(1) == secret  # type: ignore[union-attr]
        assert "set-cookie" not in wrong.headers
        step = totp.current_step()
        done = await _code_step(ana, running, etapa, totp.code_at(secret, step))
        assert done.status_code == 200 and 'id="entrar-codigos"' in done.text
        codes = re.findall(r"<li><code>([A-Z2-9]{5}-[A-Z2-9]{5})</code></li>", done.text)
        assert len(set(codes)) == 10
        assert 'href="/admin/historico"' in done.text
        account = (await ana.get("/admin/conta")).json()
        assert account["email"] == EMAIL and account["dois_fatores"] is True
        # required: its owner cannot turn it off (a colleague can, for a lost phone)
        kept = await ana.request(
            "DELETE",
            "/admin/conta/dois-fatores",
            json={"senha": PASSWORD, "codigo": codes[0]},
            headers=here,
        )
        assert kept.status_code == 409 and "exige" in kept.json()["message"]

        # from now on she signs in with a code; with it no longer required, still with a code
        assert (await bia.put(path, json={"exigido": False}, headers=here)).status_code == 200
        async with httpx.AsyncClient(base_url=running.base_url) as later:
            page = await sign_in_gestor(later, running, EMAIL, PASSWORD)
            assert 'id="entrar-codigo"' in page.text and 'id="exigida"' not in page.text
            code = totp.code_at(secret, step + 1)
            assert (await _code_step(later, running, _etapa(page), code)).status_code == 303
        async with httpx.AsyncClient(base_url=running.base_url) as again:
            assert (await sign_in_gestor(again, running, bia_email, PASSWORD)).status_code == 303
        audited = query(
            database_url,
            "SELECT detail->>'exigido' FROM admin_audit WHERE action = 'require_two_step'"
            " ORDER BY id",
        )
        assert audited == [("true",), ("false",)]
