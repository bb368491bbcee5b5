"""A red-flag alert on the Ao vivo page in a real browser: while a device streams a customer
speaking of chest pain (loopback STT fake), a signed-in admin's page shows the alert in a banner
above the cards, naming the balcão and the attendant, outlines that session's card and puts the
count in the tab's title; "Ciente" clears it, and it stays cleared after a reload (the browser
session remembers). The page is photographed (``tests/artifacts/admin-app/ao-vivo-alerta.png``).

Needs Debian's ``chromium`` (skipped outside CI without it, failed under CI)."""

from __future__ import annotations

from pathlib import Path

import trio

from balto.device import stream_file
from tests.browser import ARTIFACTS, chromium, needs_chromium, open_page, sign_in
from tests.conftest import FIXTURES, register_balcao, start_server, ws_url
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
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            (ARTIFACTS / "ao-vivo-alerta.png").write_bytes(await page.screenshot())

            await page.click("#alertas-novos li button")  # Ciente
            await page.wait_for(f"{BANNER}.hidden", timeout_s=5)
            assert await page.evaluate("document.title") == "Ao vivo — Balto"
            assert await page.evaluate(outlined) == 0
            await page.goto(running.base_url + "/admin/ao-vivo")  # still acknowledged
            await page.wait_for('document.querySelectorAll(".cartao").length === 1', timeout_s=10)
            await trio.sleep(2.0)  # a poll or two
            assert await page.evaluate(f"{BANNER}.hidden") is True
            assert await page.evaluate(outlined) == 0
        device.cancel_scope.cancel()
