"""Erasing a conversation from its page in a real browser: a headless Chromium signs in, opens an
ended conversation, is asked before anything happens (Cancelar leaves it whole), confirms, and
sees every utterance replaced by "(fala apagada)" and the erasure's time, and the Histórico list
marks its utterances "(apagadas)", and the Auditoria page lists the erasure and the sign-in in
words; a live conversation offers no button; utterances labelled by voice name their speaker.
The page is photographed (``tests/artifacts/admin-app/conversa-apagada.png``).
On the way, the Histórico page with one page of conversations must not show "Mais antigas": the
buttons' ``display`` rule had overridden their ``hidden`` attribute on every page.

Needs Debian's ``chromium`` (skipped outside CI without it, failed under CI)."""

from __future__ import annotations

import json
from pathlib import Path

import trio

from tests.admin_seed import BASE, SEGMENTS_PER_SESSION, seed
from tests.browser import Page, chromium, needs_chromium, open_page, photograph, sign_in
from tests.conftest import query, start_server

pytestmark = needs_chromium
BUTTON = 'Array.from(document.querySelectorAll("#apagar button"))'
SHOWN = 'document.getElementById("apagar").getClientRects().length > 0'  # on screen, not hidden


async def _press(page: Page, label: str) -> None:
    """Click the erasure box's button labelled `label`, with real mouse events."""
    index = await page.wait_for(
        f"(() => {{ const i = {BUTTON}.findIndex(b => b.textContent === {json.dumps(label)});"
        " return i < 0 ? null : String(i); })()",
        timeout_s=10,
    )
    await page.click(f"#apagar button:nth-of-type({int(index) + 1})")


async def _said(page: Page) -> list[str]:
    spans = 'document.querySelectorAll("#linha-do-tempo li.ev-fala span:not(.hora):not(.falante)")'
    texts: list[str] = await page.evaluate(f"Array.from({spans}).map(s => s.textContent)")
    return texts


async def test_an_admin_erases_a_conversation_from_its_page(
    nursery: trio.Nursery, database_url: str, tmp_path: Path
) -> None:
    executable = chromium()
    running = await start_server(nursery, database_url)
    ids = seed(database_url)
    query(database_url, "UPDATE sessions SET ended_at = %s WHERE id = %s", BASE, ids["s1"])
    # who spoke, as the voice labeller stores it: the page names the role (and the attendant)
    for seq, falante, nome in ((0, "atendente", "Ana"), (1, "cliente", None)):
        query(
            database_url,
            "UPDATE segments SET falante = %s, atendente = %s WHERE session_id = %s AND seq = %s",
            falante, nome, ids["s1"], seq,
        )  # fmt: skip
    async with open_page(executable, tmp_path / "profile", width=1366, height=900) as page:
        await sign_in(page, running.base_url)

        await page.goto(running.base_url + "/admin/historico")  # one page: no "Mais antigas"
        rows = 'document.querySelectorAll("#conversas tbody tr").length === 3'
        await page.wait_for(rows, timeout_s=10)
        more = 'document.getElementById("mais-conversas").getClientRects().length > 0'
        assert await page.evaluate(more) is False

        await page.goto(f"{running.base_url}/admin/historico/{ids['s3']}")  # still live
        await page.wait_for('document.querySelectorAll("li.ev-fala").length > 0', timeout_s=10)
        assert await page.evaluate(SHOWN) is False

        await page.goto(f"{running.base_url}/admin/historico/{ids['s1']}")
        await page.wait_for('document.querySelectorAll("li.ev-fala").length > 0', timeout_s=10)
        assert await _said(page) == [f"b1 fala {n}" for n in range(SEGMENTS_PER_SESSION)]
        speakers = 'Array.from(document.querySelectorAll("#linha-do-tempo .falante"))'
        assert await page.evaluate(f"{speakers}.map(s => s.textContent)") == [
            "Atendente Ana:",
            "Cliente:",
        ]
        assert await page.evaluate(SHOWN) is True
        await _press(page, "Apagar o que foi dito")
        await _press(page, "Cancelar")  # asked, not done
        await _press(page, "Apagar o que foi dito")
        assert query(database_url, "SELECT said_erased_at FROM sessions WHERE id = %s", ids["s1"])[
            0
        ] == (None,)
        await _press(page, "Sim, apagar")
        await page.wait_for(
            'document.getElementById("sessao").textContent.includes("Falas apagadas em")',
            timeout_s=10,
        )
        assert await _said(page) == ["(fala apagada)"] * SEGMENTS_PER_SESSION
        assert "Falas apagadas: 5 falas" in await page.evaluate(
            'document.getElementById("resultado").textContent'
        )
        assert await page.evaluate(SHOWN) is False
        await page.goto(running.base_url + "/admin/historico")  # the list says so too
        row = f"document.querySelector('#conversas tr[data-session=\"{ids['s1']}\"]')"
        marked = await page.wait_for(f"{row} && {row}.textContent", timeout_s=10)
        assert "5 (apagadas)" in marked
        await page.goto(f"{running.base_url}/admin/historico/{ids['s1']}")
        await page.wait_for('document.querySelectorAll("li.ev-fala").length > 0', timeout_s=10)
        await photograph(page, "conversa-apagada")  # with an accessibility check

        await page.goto(running.base_url + "/admin/auditoria")  # who erased it, in words
        rows = 'Array.from(document.querySelectorAll("#auditoria tbody tr"))'
        erasure = f'{rows}.find(r => r.dataset.action === "erase_conversation")'
        erased = await page.wait_for(f"(r => r && r.textContent)({erasure})", timeout_s=10)
        assert "Apagar falas" in erased and "5 falas, 5 citações" in erased
        assert ids["s1"][:8] in erased  # the session, linked
        signed = await page.evaluate(
            f'{rows}.filter(r => r.dataset.action === "sign_in").map(r => r.textContent)'
        )
        assert len(signed) == 1 and "Entrada no painel" in signed[0] and "entrou" in signed[0]
        # narrowed to one action, chosen by its words; the address keeps the filter
        options = await page.evaluate(
            'Array.from(document.getElementById("f-acao").options).map(o => o.textContent)'
        )
        assert options[0] == "Todas" and "Apagar falas" in options and "sign_in" not in options
        await page.evaluate('document.getElementById("f-acao").value = "erase_conversation"')
        await page.click('#filtros-auditoria button[type="submit"]')
        await page.wait_for(f"{rows}.length === 1", timeout_s=10)
        assert await page.evaluate(f"{rows}[0].dataset.action") == "erase_conversation"
        assert "acao=erase_conversation" in await page.evaluate("location.search")
        await photograph(page, "auditoria")
        # nobody of that name: the list says so
        await page.fill("#f-ator", "ninguém")
        await page.click('#filtros-auditoria button[type="submit"]')
        await page.wait_for('!document.getElementById("auditoria-vazio").hidden', timeout_s=10)
        assert await page.evaluate(f"{rows}.length") == 0
    assert query(
        database_url,
        "SELECT count(*) FROM segments WHERE session_id = %s AND transcript IS NOT NULL",
        ids["s1"],
    ) == [(0,)]
