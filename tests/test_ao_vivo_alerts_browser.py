"""A red-flag alert on the Ao vivo page in a real browser: while a device streams a customer
speaking of chest pain (loopback STT fake), a signed-in admin's page shows the alert in a banner
above the cards, naming the balcão and the attendant, outlines that session's card and puts the
count in the tab's title; "Ciente" clears it, for every admin: it is stored
(``POST /admin/alertas/{id}/ciente``, audited), another admin's browser shows no banner and the
card's alert reads "ciente às …". The route itself: idempotent, 404 for unknown ids, 401 without
the secret. The page is photographed (``tests/artifacts/admin-app/ao-vivo-alerta.png``).

Needs Debian's ``chromium`` (skipped outside CI without it, failed under CI)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import httpx
import trio

from balto.device import stream_file
from tests.browser import chromium, needs_chromium, open_page, photograph, sign_in
from tests.conftest import ADMIN, FIXTURES, query, register_balcao, start_server, ws_url
from tests.fakes.elevenlabs import FakeElevenLabs
from tests.fakes.openai_compat import FakeOpenAICompat
from tests.fakes.wiring import provider_env

pytestmark = needs_chromium
BANNER = 'document.getElementById("alertas-novos")'


async def test_a_new_alert_shows_in_a_banner_until_the_admin_acknowledges_it(
    nursery: trio.Nursery, database_url: str, tmp_path: Path
) -> None:
    executable = chromium()
    stt = FakeElevenLabs(
        transcripts=["Bom dia.", "Meu pai está com um aperto no peito desde cedo."],
        default_text="Obrigado.",
    )
    env = await provider_env(nursery, stt=stt, llm=FakeOpenAICompat("xai"))
    running = await start_server(nursery, database_url, **env)
    api_key, _ = await register_balcao(running.base_url, "Balcão Alerta")
    async with trio.open_nursery() as device:
        # the device stays connected (lingering) until the page has been checked
        device.start_soon(
            lambda: stream_file(
                ws_url(running),
                api_key,
                FIXTURES / "two_utterances.webm",
                linger_s=90,
                atendente="Rui",
            )
        )
        async with open_page(executable, tmp_path / "profile", width=1366, height=900) as page:
            await sign_in(page, running.base_url)
            shown = await page.wait_for(
                f"!{BANNER}.hidden && {BANNER}.textContent", timeout_s=40, every_s=0.25
            )
            assert "Balcão Alerta: Dor ou aperto no peito" in shown and "atendente Rui" in shown
            assert await page.evaluate("document.title") == "(1) Alerta — Ao vivo — Balto"
            outlined = 'document.querySelectorAll(".cartao.com-alerta").length'
            assert await page.evaluate(outlined) == 1
            await photograph(page, "ao-vivo-alerta")  # with an accessibility check

            await page.click("#alertas-novos li button")  # Ciente
            await page.wait_for(f"{BANNER}.hidden", timeout_s=5)
            assert await page.evaluate("document.title") == "Ao vivo — Balto"
            assert await page.evaluate(outlined) == 0
        [(alert_id, acknowledged)] = await _acknowledged(database_url)
        # another admin's browser (a fresh profile): nothing to acknowledge, the card says when
        async with open_page(executable, tmp_path / "profile2") as page:
            await sign_in(page, running.base_url)
            seen = 'document.querySelector(".ev-alerta") && document.querySelector(".ev-alerta")'
            said = await page.wait_for(f"{seen}.textContent", timeout_s=10)
            assert "ciente às" in said and "por Operador" in said  # when, and who
            assert await page.evaluate(f"{BANNER}.hidden") is True
            assert await page.evaluate(outlined) == 0
        device.cancel_scope.cancel()
    async with httpx.AsyncClient(base_url=running.base_url) as http:
        again = await http.post(f"/admin/alertas/{alert_id}/ciente", headers=ADMIN)
        assert again.status_code == 200
        assert datetime.fromisoformat(again.json()["ciente_em"]) == acknowledged  # the first
        assert again.json()["ciente_por"] == "Operador"
        for unknown in ("5f0c1d9e-0000-4000-8000-00000000abcd", "nope"):
            missing = await http.post(f"/admin/alertas/{unknown}/ciente", headers=ADMIN)
            assert missing.status_code == 404 and missing.json()["error"] == "not_found"
        assert (await http.post(f"/admin/alertas/{alert_id}/ciente")).status_code == 401
        # the conversation's timeline says it too
        ((session_id,),) = query(
            database_url, "SELECT session_id::text FROM alerts WHERE id = %s", alert_id
        )
        timeline = await http.get(f"/admin/history/conversas/{session_id}", headers=ADMIN)
        [alert] = [i for i in timeline.json()["itens"] if i["tipo"] == "alerta"]
        assert datetime.fromisoformat(alert["ciente_em"]) == acknowledged
    audit = query(database_url, "SELECT detail->>'alerta_id' FROM admin_audit WHERE action = %s",
                  "ack_alert")  # fmt: skip
    assert audit == [(alert_id,), (alert_id,)]


async def _acknowledged(database_url: str) -> list[tuple[str, datetime]]:
    """The alert and its acknowledgement, once the page's request has landed."""
    sql = "SELECT id::text, ciente_em FROM alerts WHERE ciente_em IS NOT NULL"
    for _ in range(100):
        if rows := query(database_url, sql):
            return rows
        await trio.sleep(0.05)
    raise AssertionError("the acknowledgement was not stored")
