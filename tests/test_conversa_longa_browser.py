"""A conversation that lasted a shift, on its page in a real browser: a counter session serves
customer after customer for hours, and its timeline (1,300 utterances here) no longer stops
silently at the first 2,000 items — it comes 500 at a time with *Mostrar mais da conversa*, a
line where each customer began (one marked by the counter, one by a pause) numbered across pages,
and, opened from a search, the page walks on until the words searched for show; the Histórico's
list counts the customers it served.

Needs Debian's ``chromium`` (skipped outside CI without it, failed under CI)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import psycopg
import trio

from tests.admin_seed import BASE, seed
from tests.browser import accessible, chromium, needs_chromium, open_page, sign_in
from tests.conftest import start_server

pytestmark = needs_chromium
UTTERANCES = 1300
MARKED = {700: "balcao", 1050: "pausa"}  # where the next customer began
RARE = 1250  # the utterance a search finds, on the third page
FALAS = 'document.querySelectorAll("#linha-do-tempo li.ev-fala").length'
LINES = 'Array.from(document.querySelectorAll("li.ev-atendimento"), li => li.textContent)'


def _shift(database_url: str, session_id: str) -> None:
    """Replace the session's utterances with a shift's worth, in one transaction."""
    rows = [
        (
            str(uuid.uuid4()), session_id, seq,
            "quero um xarope de guaco" if seq == RARE else f"fala número {seq} do turno",
            BASE + timedelta(seconds=20 * seq), MARKED.get(seq),
        )
        for seq in range(UTTERANCES)
    ]  # fmt: skip
    with psycopg.connect(database_url) as conn:
        conn.execute("DELETE FROM recommendations WHERE session_id = %s", (session_id,))
        conn.execute("DELETE FROM segments WHERE session_id = %s", (session_id,))
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO segments (id, session_id, seq, audio_start, audio_end, status,"
                " transcript, created_at, transcribed_at, novo_atendimento)"
                " VALUES (%s, %s, %s, 0, 1, 'transcribed', %s, %s, %s + interval '1 second', %s)",
                [(i, s, q, t, at, at, m) for i, s, q, t, at, m in rows],
            )
        conn.execute("UPDATE sessions SET ended_at = %s WHERE id = %s", (rows[-1][4], session_id))


async def test_a_shift_long_conversation_comes_in_pages_with_its_customers_marked(
    nursery: trio.Nursery, database_url: str, tmp_path: Path
) -> None:
    executable = chromium()
    running = await start_server(nursery, database_url)
    ids = seed(database_url)
    _shift(database_url, ids["s1"])
    page_url = f"{running.base_url}/admin/historico/{ids['s1']}"
    async with open_page(executable, tmp_path / "profile", width=1366, height=900) as page:
        await sign_in(page, running.base_url)
        await page.goto(page_url)
        await page.wait_for(f"{FALAS} === 500", timeout_s=15)
        facts = await page.evaluate('document.getElementById("sessao").textContent')
        assert "Atendimentos3" in facts.replace(" ", ""), facts
        assert await page.evaluate(LINES) == []  # the first page holds the first customer only
        more = "#mais-conversa button"
        assert await page.evaluate(f'document.querySelector("{more}").textContent') == (
            "Mostrar mais da conversa"
        )
        await accessible(page, "conversa-longa")
        await page.click(more)
        await page.wait_for(f"{FALAS} === 1000", timeout_s=15)
        assert await page.evaluate(LINES) == [
            "Atendimento 1",
            "Atendimento 2: o balcão passou ao próximo cliente",
        ]
        await page.click(more)
        await page.wait_for(f"{FALAS} === {UTTERANCES}", timeout_s=15)
        assert (await page.evaluate(LINES))[2] == (
            "Atendimento 3: depois de um minuto ou mais sem fala"
        )
        assert await page.evaluate('document.getElementById("mais-conversa").hidden') is True
        spans = "#linha-do-tempo li.ev-fala span:not(.hora):not(.falante)"
        order = await page.evaluate(
            f'Array.from(document.querySelectorAll("{spans}"), s => s.textContent)'
        )
        assert order[0] == "fala número 0 do turno" and order[-1].endswith("1299 do turno")
        assert len(set(order)) == UTTERANCES  # nothing twice across the pages

        # opened from a search (the Histórico's link carries ?q=): on to where the words are
        await page.goto(f"{page_url}?q=guaco")
        mark = 'document.querySelector("#linha-do-tempo mark")?.textContent'
        assert await page.wait_for(mark, timeout_s=15) == "guaco"
        assert await page.evaluate(FALAS) == UTTERANCES

        # the Histórico's list says how many customers the conversation served
        await page.goto(f"{running.base_url}/admin/historico")
        cells = 'Array.from(document.querySelectorAll("#conversas tbody td"), td => td.textContent)'
        shown = await page.wait_for(f"(c => c.length ? c : null)({cells})", timeout_s=15)
        assert f"{UTTERANCES} · 3 atendimentos" in shown, shown
