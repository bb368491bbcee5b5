"""A chain's webhooks in a real browser, as its gestor sets them up on the Cadastro page: a URL
the server refuses ("ftp://x") gets the server's message beside the field, and no event chosen
the page's; the receiver's URL (a real HTTP server on loopback) is added with both events and its
secret is shown once; *Testar* makes the receiver get a test event signed with that secret, and
the row then says it was delivered (and, after a reload, no longer shows the secret); a receiver
answering 500, with one attempt allowed, leaves a delivery given up, which *Entregas* lists as
"desistida" and *Reenviar* delivers; *Novo segredo* (a second click) shows a new secret once,
and the next delivery is signed by both; the webhook is removed with a second click. Every step
is audited. A store's gestor then sees no Webhooks section; neither page is refused a request.
Photographed at 1366 and 390 px wide in ``tests/artifacts/admin-app/webhooks-*.png``.

Needs Debian's ``chromium`` (skipped outside CI without it, failed under CI)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import trio

from balto.webhooks.signing import HEADER, verify
from tests.browser import (
    SIGNED_OUT,
    Page,
    chromium,
    needs_chromium,
    open_page,
    photograph,
    settle,
)
from tests.conftest import ADMIN, query, start_server
from tests.gestor_accounts import create_gestor
from tests.webhook_receiver import Received, receiver

pytestmark = needs_chromium
EMAIL, PASSWORD = "ana@redenorte.com.br", "senha-da-rede-1"
LOJA_EMAIL, LOJA_PASSWORD = "bia@redenorte.com.br", "senha-da-loja-1"
ROW = "#webhooks tbody tr[data-webhook]"
# the requests the page made that were forbidden: a page asking for what its viewer may not use
FORBIDDEN = (
    '[...performance.getEntriesByType("navigation"), ...performance.getEntriesByType("resource")]'
    '.filter(e => e.responseStatus === 403).map(e => e.responseStatus + " " + e.name)'
)


async def _sign_in(page: Page, base: str, email: str, password: str) -> None:
    await page.goto(base + "/entrar")
    await page.fill("#email", email)
    await page.fill("#segredo", password)
    await page.click("#entrar button")
    await settle(page, 'location.pathname === "/admin/ao-vivo"')


async def _both_widths(page: Page, name: str) -> None:
    """Photograph the page (desktop), then at phone width, where it must not scroll sideways."""
    await photograph(page, f"webhooks-{name}-1366")
    await page.at_phone_width()
    fits = "document.documentElement.scrollWidth <= innerWidth && innerWidth === 390"
    try:
        await settle(page, fits, timeout_s=3)
    except trio.TooSlowError:
        raise AssertionError(
            (name, await page.evaluate("document.documentElement.scrollWidth"))
        ) from None
    await photograph(page, f"webhooks-{name}-390")
    await page.call("Emulation.clearDeviceMetricsOverride")


def _signed(got: Received, secret: str) -> dict[str, str]:
    """The delivery's headers (lower-cased), once its signature checks out under `secret`."""
    headers = {k.lower(): v for k, v in got.headers.items()}
    assert verify(secret, got.body, headers[HEADER.lower()]), headers
    assert not verify(secret + "x", got.body, headers[HEADER.lower()])
    return headers


async def _row_says(page: Page, *words: str) -> str:
    """The webhook's row once it contains every one of `words` (the page polls the server)."""
    want = json.dumps(list(words))
    await settle(
        page,
        f"(r => r && {want}.every(w => r.textContent.includes(w)))"
        f"(document.querySelector({json.dumps(ROW)}))",
        timeout_s=15,
    )
    return await page.text(ROW)


async def test_a_chain_gestor_sets_up_tests_and_removes_a_webhook(
    nursery: trio.Nursery, database_url: str, tmp_path: Path
) -> None:
    executable = chromium()
    running = await start_server(
        nursery, database_url, BALTO_WEBHOOKS_ALLOW_PRIVATE="1", BALTO_WEBHOOK_ATTEMPTS="1"
    )
    base = running.base_url
    async with httpx.AsyncClient(base_url=base) as http:
        made = await http.post(
            "/cadastro/cliente",
            headers=ADMIN,
            json={
                "email": "ti@redenorte.com",
                "razao_social": "Rede Norte",
                "telefone": "91999998888",
            },
        )
        assert made.status_code == 201, made.text
        [(cliente,)] = query(database_url, "SELECT id::text FROM clientes")
        assert (await create_gestor(http, cliente, email=EMAIL, senha=PASSWORD)).status_code == 201
        loja = await http.post(
            f"/admin/clientes/{cliente}/lojas", json={"nome": "Loja Centro"}, headers=ADMIN
        )
        made_loja = await create_gestor(
            http,
            cliente,
            nome="Bia",
            email=LOJA_EMAIL,
            senha=LOJA_PASSWORD,
            loja_id=loja.json()["id"],
        )
        assert made_loja.status_code == 201

    with receiver() as rx:
        async with open_page(executable, tmp_path / "profile", width=1366, height=900) as page:
            await _sign_in(page, base, EMAIL, PASSWORD)
            cadastro = f"{base}/admin/cadastro"
            await page.goto(cadastro)
            await settle(
                page,
                '!document.getElementById("do-cliente").hidden'
                ' && document.querySelector("#webhooks tbody").textContent.includes("Nenhum")',
            )
            assert "README" in await page.text("#webhooks-bloco")

            # 1. a URL the server refuses: its message beside the URL field, nothing made
            await page.fill("#novo-webhook [name=url]", "ftp://x")
            await page.click('#novo-webhook button[type="submit"]')
            await settle(page, '!document.getElementById("webhook-erro-url").hidden')
            assert "https://" in await page.text("#webhook-erro-url")
            assert await page.evaluate(
                'document.activeElement === document.querySelector("#novo-webhook [name=url]")'
                ' && document.activeElement.getAttribute("aria-invalid") === "true"'
            )
            assert not await page.shown("erro")
            assert query(database_url, "SELECT count(*) FROM webhooks") == [(0,)]
            await photograph(page, "webhooks-erro-url-1366")
            # a good URL and no event: the events' message, the URL's gone
            await page.fill("#novo-webhook [name=url]", rx.url)
            await page.click('#novo-webhook [value="alerta"]')
            await page.click('#novo-webhook button[type="submit"]')
            await settle(page, '!document.getElementById("webhook-erro-eventos").hidden')
            assert "ao menos um evento" in await page.text("#webhook-erro-eventos")
            assert not await page.shown("webhook-erro-url")
            await photograph(page, "webhooks-erro-eventos-1366")
            assert query(database_url, "SELECT count(*) FROM webhooks") == [(0,)]

            # 2. the receiver's URL, both events: the secret shown once, beside its note
            await page.click('#novo-webhook [value="alerta"]')
            await page.fill("#novo-webhook [name=descricao]", "ERP da rede")
            await page.click('#novo-webhook [value="recomendacao"]')
            await page.click('#novo-webhook button[type="submit"]')
            await settle(page, '!document.getElementById("webhook-segredo").hidden')
            secret = await page.text("#webhook-segredo-valor")
            assert secret.startswith("whsec_"), secret
            assert "não será mostrado de novo" in await page.text("#webhook-segredo")
            assert not await page.shown("webhook-erro-url")  # the earlier error is gone
            row = await _row_says(page, rx.url, "ERP da rede", "Nenhum envio ainda")
            assert "Alertas de encaminhamento; Sugestões de produto" in row
            [(hook, eventos)] = query(database_url, "SELECT id::text, eventos FROM webhooks")
            assert eventos == ["alerta", "recomendacao"]
            await _both_widths(page, "criado")

            # 3. Testar: the receiver gets a test event signed with that secret
            await page.click(f'{ROW} [data-action="testar-webhook"]')
            [got] = await rx.wait_for(1)
            headers = _signed(got, secret)
            assert headers["x-balto-evento"] == "teste" and got.json()["evento"] == "teste"
            assert got.json()["cliente_id"] == cliente
            await _row_says(page, "entregues (24 h): 1", "HTTP 200")
            # a reload shows the delivery as the server keeps it, and the secret no more
            await page.goto(cadastro)
            row = await _row_says(page, "Pendentes: 0", "entregues (24 h): 1", "HTTP 200")
            assert not await page.shown("webhook-segredo")
            assert secret not in await page.evaluate("document.body.textContent")

            # 4. a receiver failing, one attempt allowed: given up, then sent again
            rx.answers.append(500)
            await page.click(f'{ROW} [data-action="testar-webhook"]')
            await _row_says(page, "desistidas (24 h): 1", "o receptor respondeu HTTP 500")
            assert [r.status for r in rx.received] == [200, 500]
            await page.click(f'{ROW} [data-action="entregas-webhook"]')
            deliveries = 'document.querySelectorAll("#entregas tbody tr[data-entrega]")'
            await settle(page, f"{deliveries}.length === 2")
            assert await page.shown("webhook-entregas")
            newest = await page.text("#entregas tbody tr[data-entrega]")
            assert "Teste" in newest and "desistida" in newest and "HTTP 500" in newest, newest
            assert "entregue" in await page.evaluate(f"{deliveries}[1].textContent")
            given_up = await page.evaluate(f"{deliveries}[0].dataset.entrega")
            await _both_widths(page, "entregas")
            await page.click(
                f'#entregas tr[data-entrega="{given_up}"] [data-action="reenviar-entrega"]'
            )
            again = (await rx.wait_for(2))[1]
            assert _signed(again, secret)["x-balto-entrega"] == given_up
            await settle(
                page,
                f"document.querySelector('#entregas tr[data-entrega=\"{given_up}\"]')"
                '.textContent.includes("entregue em")',
                timeout_s=15,
            )
            await _row_says(page, "entregues (24 h): 2", "desistidas (24 h): 0", "HTTP 200")

            # 4b. a new secret (the second click confirms): shown once, the old one signs a day more
            rotate = f'{ROW} [data-action="novo-segredo"]'
            await page.click(rotate)
            assert await page.text(rotate) == "Sim, trocar o segredo"
            await page.click(rotate)
            await settle(
                page,
                '!document.getElementById("webhook-segredo").hidden'
                f' && document.getElementById("webhook-segredo-valor").textContent !== "{secret}"',
            )
            new_secret = await page.text("#webhook-segredo-valor")
            assert new_secret.startswith("whsec_") and new_secret != secret
            assert "continua assinando" in await page.text("#webhook-segredo-anterior")
            await _row_says(page, "Segredo anterior ainda assina até")
            await _both_widths(page, "novo-segredo")
            # 5. removed with a second click, armed first and tested meanwhile: the page redraws
            # the row as that test goes out, and the armed "Sim, remover" must survive it (a
            # redraw had put "Remover" back, so the second click only armed it again)
            remove = f'{ROW} [data-action="remover-webhook"]'
            await page.click(remove)
            assert await page.text(remove) == "Sim, remover"
            await page.click(f'{ROW} [data-action="testar-webhook"]')
            both = (await rx.wait_for(3))[2]
            _signed(both, new_secret)
            _signed(both, secret)
            await _row_says(page, "entregues (24 h): 3", "Pendentes: 0")
            assert await page.text(remove) == "Sim, remover"
            await page.click(remove)
            await settle(
                page, 'document.querySelector("#webhooks tbody").textContent.includes("Nenhum")'
            )
            assert not await page.shown("webhook-entregas")
            assert query(database_url, "SELECT count(*) FROM webhooks") == [(0,)]
            assert await page.evaluate(FORBIDDEN) == []
            audited = query(
                database_url,
                "SELECT action, detail->>'webhook_id' FROM admin_audit"
                " WHERE action LIKE %s ORDER BY id",
                "%webhook%",
            )
            assert audited == [
                ("create_webhook", hook),
                ("test_webhook", hook),
                ("test_webhook", hook),
                ("resend_webhook", hook),
                ("rotate_webhook_secret", hook),
                ("test_webhook", hook),
                ("delete_webhook", hook),
            ]

            # 6. a store's gestor: its store's panels only, no Webhooks
            await page.click(".sair button")
            await settle(page, SIGNED_OUT)
            await _sign_in(page, base, LOJA_EMAIL, LOJA_PASSWORD)
            await page.goto(cadastro)
            await settle(page, '!document.getElementById("do-cliente").hidden')
            assert not await page.shown("webhooks-bloco")
            await trio.sleep(0.5)  # a request fired after the page looked ready has its answer
            assert await page.evaluate(FORBIDDEN) == []
