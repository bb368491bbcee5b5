"""Two-step verification (TOTP) of a gestor in a real browser.

Ana, a gestor of the whole chain, turns it on under Cadastro → Sua conta: a wrong password is
refused in the server's words, the right one shows a QR code (an image the page's CSP lets load)
and the secret as text, which the test reads from the page to compute the code an authenticator
app would show; the ten recovery codes are shown once and leave the page with "Guardei os
códigos". Signing in then asks for a code after the password: a wrong code is refused and asked
again, the app's next code leads to the page asked for, a recovery code works once (the second use
is refused). The operator turns her verification off from the chain's gestor list (asked twice)
and she signs in with the password alone. Photographed in ``tests/artifacts/admin-app/``.

Codes come from ``pyotp`` on the wall clock; the server takes each app code once, so a second one
waits for the next 30 s step. Needs Debian's ``chromium`` (skipped outside CI without it, failed
under CI).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pyotp
import trio

from tests.admin_seed import seed
from tests.browser import (
    SIGNED_OUT,
    Page,
    chromium,
    needs_chromium,
    open_page,
    photograph,
    settle,
    sign_in,
)
from tests.conftest import ADMIN, start_server
from tests.gestor_accounts import EMAIL, PASSWORD, create_gestor, sign_in_gestor

pytestmark = needs_chromium
STEP_S = 30  # the TOTP time step (RFC 6238's default, pyotp's and the server's)
MARGIN_S = 4.0  # a code typed this close to the end of its step might reach the server after it
RECOVERY_CODES = 10
# every table of the chain filled: until then a late one moves Sua conta, below them all, and a
# click aimed at its buttons can land beside them
LOADED = " && ".join(
    f'document.querySelectorAll("#{table} tbody tr").length > 0'
    for table in ("balcoes", "atendentes", "gestores", "chaves", "catalogo")
)


async def _code(totp: pyotp.TOTP, after_step: int = -1) -> tuple[str, int]:
    """The app's code now, and its step: a step later than `after_step` (a code is taken once),
    with at least `MARGIN_S` of it left."""
    while True:
        now = time.time()
        step, into = divmod(now, STEP_S)
        if step > after_step and STEP_S - into > MARGIN_S:
            return totp.at(now), int(step)
        await trio.sleep(STEP_S - into + 0.05)


def _wrong(totp: pyotp.TOTP) -> str:
    """Six digits no nearby step of `totp` shows (a wrong code that cannot be right by luck)."""
    now = time.time()
    near = {totp.at(now + k * STEP_S) for k in range(-2, 3)}
    return next(c for c in (f"{n:06d}" for n in range(123456, 124000)) if c not in near)


async def _sign_out(page: Page, base: str) -> None:
    """Sair, then a clean sign-in form: a request still running on the page being left, answered
    401 once the cookie is gone, may have sent the browser to ``/entrar?proximo=`` that page."""
    await page.click(".sair button")
    await settle(page, SIGNED_OUT)
    await page.goto(f"{base}/entrar")


async def _password(page: Page, senha: str = PASSWORD) -> None:
    """Type Ana's e-mail and `senha` into the sign-in form on screen and send it."""
    await page.fill("#email", EMAIL)
    await page.fill("#segredo", senha)
    await page.click("#entrar button")


async def _asked_for_code(page: Page) -> None:
    """After the password: the second form, the code field ready for the app's digits."""
    await settle(page, 'document.getElementById("entrar-codigo")')
    field = await page.evaluate(
        '(c => [c.name, c.getAttribute("autocomplete")])(document.getElementById("codigo"))'
    )
    assert field == ["codigo", "one-time-code"]
    assert await page.evaluate('document.getElementById("entrar") === null')


async def _send_code(page: Page, codigo: str) -> None:
    await page.fill("#codigo", codigo)
    await page.click("#entrar-codigo button")


async def _cell(page: Page, gestor: str) -> str:
    """The "2 etapas" cell of `gestor`'s row in the chain's gestores list."""
    row = json.dumps(f'#gestores tr[data-gestor="{gestor}"]')
    text: str = await page.evaluate(f"document.querySelector({row}).cells[5].textContent")
    return text


async def _gestores(base: str, cliente: str) -> dict[str, bool]:
    """Each account's ``dois_fatores`` as the API lists the chain's gestores, by e-mail."""
    async with httpx.AsyncClient(base_url=base) as http:
        answer = await http.get(f"/admin/clientes/{cliente}/gestores", headers=ADMIN)
    assert answer.status_code == 200, answer.text
    return {g["email"]: g["dois_fatores"] for g in answer.json()["items"]}


async def test_a_gestor_turns_two_step_verification_on_and_signs_in_with_a_code(
    nursery: trio.Nursery, database_url: str, tmp_path: Path
) -> None:
    executable = chromium()
    running = await start_server(nursery, database_url)
    ids = seed(database_url)
    base = running.base_url
    async with httpx.AsyncClient(base_url=base) as http:
        created = await create_gestor(http, ids["c1"])
    assert created.status_code == 201, created.text
    ana = created.json()["id"]
    assert await _gestores(base, ids["c1"]) == {EMAIL: False}

    async with open_page(executable, tmp_path / "profile", width=1366, height=900) as page:
        await page.goto(f"{base}/entrar")
        await _password(page)
        await settle(page, 'location.pathname === "/admin/ao-vivo"')
        await page.goto(f"{base}/admin/cadastro")
        await settle(page, LOADED)
        await settle(page, '!document.getElementById("dois-fatores").hidden')
        assert await page.text("#df-situacao") == "Desativada"
        assert await page.shown("df-ativar")

        # a browser left signed in elsewhere: Sua conta ends it, this page stays in
        async with httpx.AsyncClient(base_url=base) as elsewhere:
            assert (await sign_in_gestor(elsewhere, running, EMAIL, PASSWORD)).status_code == 303
            assert (await elsewhere.get("/admin/conta")).status_code == 200
            await page.click("#encerrar-sessoes")
            await settle(
                page, 'document.getElementById("resultado").textContent.includes("terminaram")'
            )
            assert (await elsewhere.get("/admin/conta")).status_code == 401

        # a wrong password: the server's words next to the form, the cursor back in the field
        await page.fill("#df-ativar [name=senha]", "nao-e-a-senha-1")
        await page.click('#df-ativar button[type="submit"]')
        await settle(page, '!document.getElementById("df-erro").hidden')
        refused = await page.text("#df-erro")
        assert refused and not refused.startswith("erro "), refused
        assert await page.evaluate("document.activeElement.name") == "senha"
        assert not await page.shown("df-configurar")

        await page.fill("#df-ativar [name=senha]", PASSWORD)
        await page.click('#df-ativar button[type="submit"]')
        await settle(page, '!document.getElementById("df-configurar").hidden')
        assert await page.evaluate('document.getElementById("df-erro").hidden')
        qr = await page.evaluate('document.getElementById("df-qr").src')
        assert qr.startswith("data:image/svg+xml"), qr[:40]
        # drawn: the page's CSP allows data: images
        await settle(
            page, '(i => i.complete && i.naturalWidth > 0)(document.getElementById("df-qr"))'
        )
        secret = (await page.text("#df-segredo")).replace(" ", "")
        uri = await page.evaluate('document.getElementById("df-uri").href')
        assert pyotp.parse_uri(uri).secret == secret  # the text typed by hand is the QR's secret
        code_field = "#df-confirmar [name=codigo]"
        assert await page.evaluate(
            f'(c => [c.inputMode, c.autocomplete])(document.querySelector("{code_field}"))'
        ) == ["numeric", "one-time-code"]
        await photograph(page, "dois-fatores-qr")

        totp = pyotp.TOTP(secret)
        codigo, step = await _code(totp)
        await page.fill(code_field, codigo)
        await page.click('#df-confirmar button[type="submit"]')
        await settle(page, '!document.getElementById("df-recuperacao").hidden')
        recovery: list[str] = await page.evaluate(
            'Array.from(document.querySelectorAll("#df-codigos li")).map(li => li.textContent)'
        )
        assert len(set(recovery)) == RECOVERY_CODES, recovery
        assert "uma vez" in await page.text("#df-recuperacao")
        assert await page.text("#df-situacao") == "Ativada"
        await photograph(page, "dois-fatores-codigos")
        await page.click("#df-guardei")
        await settle(page, 'document.getElementById("df-recuperacao").hidden')
        assert await page.evaluate('document.querySelectorAll("#df-codigos li").length') == 0
        assert await page.shown("df-desativar")
        assert await _gestores(base, ids["c1"]) == {EMAIL: True}
        assert await _cell(page, ana) == "ativada"

        # the cookie the confirmation handed back keeps the page signed in; the list shows her
        # own account's verification without the button (that is Sua conta's)
        await page.goto(f"{base}/admin/cadastro")
        await settle(page, 'document.getElementById("df-situacao").textContent === "Ativada"')
        await settle(page, f'document.querySelector("#gestores tr[data-gestor=\\"{ana}\\"]")')
        assert await _cell(page, ana) == "ativada"
        assert await page.evaluate('document.querySelector("#gestores [data-action]") === null')

        # signing in: the password, then a code; a wrong one is refused and asked again
        await _sign_out(page, base)
        await page.goto(f"{base}/admin/cadastro")
        await settle(page, SIGNED_OUT)
        await _password(page)
        await _asked_for_code(page)
        await photograph(page, "dois-fatores-entrar")
        await _send_code(page, _wrong(totp))
        await settle(page, 'document.getElementById("erro-entrar")')
        assert await page.text("#erro-entrar")
        await _asked_for_code(page)
        codigo, step = await _code(totp, after_step=step)
        await _send_code(page, codigo)
        await settle(page, 'location.pathname === "/admin/cadastro"')  # the page asked for

        # a recovery code instead of the app's: once
        await _sign_out(page, base)
        await _password(page)
        await _asked_for_code(page)
        await _send_code(page, recovery[0])
        await settle(page, 'location.pathname === "/admin/ao-vivo"')
        await _sign_out(page, base)
        await _password(page)
        await _asked_for_code(page)
        await _send_code(page, recovery[0])
        await settle(page, 'document.getElementById("erro-entrar")')
        assert await page.evaluate('location.pathname === "/entrar"')

        # she lost her phone: the operator turns her verification off from the list, asked twice
        await sign_in(page, base)
        await page.goto(f"{base}/admin/cadastro?cliente_id={ids['c1']}")
        await settle(page, LOADED)
        button = f'#gestores tr[data-gestor="{ana}"] [data-action="desativar-2-etapas"]'
        await settle(page, f"document.querySelector({json.dumps(button)})")
        assert await _cell(page, ana) == "ativada"
        await page.click(button)
        assert await page.text(button) == "Sim, desativar 2 etapas"
        await photograph(page, "dois-fatores-operador")
        assert await _gestores(base, ids["c1"]) == {EMAIL: True}  # the first click only asks
        await page.click(button)
        await settle(
            page, 'document.getElementById("resultado").textContent.includes("duas etapas")'
        )
        await settle(page, f"document.querySelector({json.dumps(button)}) === null")
        assert await _cell(page, ana) == "desativada"
        assert await _gestores(base, ids["c1"]) == {EMAIL: False}

        await _sign_out(page, base)
        await _password(page)
        await settle(page, 'location.pathname === "/admin/ao-vivo"')  # no code asked

        # the chain now requires it: the operator ticks the box; Ana sets it up when she signs in
        await _sign_out(page, base)
        await sign_in(page, base)
        await page.goto(f"{base}/admin/cadastro?cliente_id={ids['c1']}")
        await settle(page, LOADED)
        assert not await page.evaluate('document.getElementById("exigir-2-etapas").checked')
        await page.click("#exigir-2-etapas")
        await settle(page, 'document.getElementById("resultado").textContent.includes("exigida")')
        async with httpx.AsyncClient(base_url=base) as http:
            listed = (await http.get("/admin/clientes", headers=ADMIN)).json()["items"]
        assert {c["id"]: c["exige_dois_fatores"] for c in listed}[ids["c1"]] is True
        await page.goto(f"{base}/admin/cadastro?cliente_id={ids['c1']}")
        await settle(page, 'document.getElementById("exigir-2-etapas").checked')
        await _sign_out(page, base)
        await _password(page)
        await settle(page, 'document.getElementById("exigida")')
        await settle(page, '(i => i.complete && i.naturalWidth > 0)(document.querySelector(".qr"))')
        await photograph(page, "dois-fatores-exigida")
        chain_totp = pyotp.TOTP(await page.text("#chave"))
        codigo, _ = await _code(chain_totp)
        await _send_code(page, codigo)
        await settle(page, 'document.getElementById("entrar-codigos")')
        shown = await page.evaluate('document.querySelectorAll("#entrar-codigos li").length')
        assert shown == RECOVERY_CODES
        await page.click("#continuar")
        await settle(page, 'location.pathname === "/admin/ao-vivo"')
        assert await _gestores(base, ids["c1"]) == {EMAIL: True}
