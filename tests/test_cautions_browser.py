"""Contraindications in a real browser, end to end: on the counter page (Chromium's fake
microphone plays a customer with a strong headache who then says she is allergic to dipirona) the
suggestion of Neosaldina (which holds dipirona, as the catalog says) is struck through as
withdrawn and the next one says what it considered, across a reload; the conversation page
shows both to the admin. Every state is checked with axe.

Needs Debian's ``chromium`` (skipped outside CI without it, failed under CI)."""

from __future__ import annotations

from pathlib import Path

import trio

from tests.browser import (
    accessible,
    chromium,
    fake_microphone,
    microphone_wav,
    needs_chromium,
    open_counter,
    open_page,
    photograph,
    sign_in,
)
from tests.conftest import FIXTURES, query, register_balcao, start_server
from tests.fakes.elevenlabs import FakeElevenLabs
from tests.fakes.wiring import provider_env

pytestmark = needs_chromium
SAID = ["Boa tarde, eu tô com uma dor de cabeça forte desde ontem.", "Ah, sou alérgica a dipirona."]
CARDS = 'Array.from(document.querySelectorAll("#sugestoes li")).map(li => li.textContent)'


async def test_the_counter_page_strikes_a_withdrawn_suggestion_and_shows_what_was_considered(
    nursery: trio.Nursery, database_url: str, tmp_path: Path
) -> None:
    executable = chromium()
    stt = FakeElevenLabs(transcripts=SAID, default_text="Obrigada.")
    running = await start_server(nursery, database_url, **await provider_env(nursery, stt=stt))
    api_key, balcao_id = await register_balcao(running.base_url, "Caixa 1")
    microphone = microphone_wav(FIXTURES / "two_utterances.wav", tmp_path / "microfone.wav")
    async with open_page(
        executable, tmp_path / "profile", width=1366, height=900,
        extra_args=fake_microphone(microphone),
    ) as page:  # fmt: skip
        await open_counter(page, running.base_url, api_key, balcao_id, "Caixa 1")
        await page.click("#iniciar")
        # newest first: the replacement, then the withdrawn one
        cards = await page.wait_for(
            f"(c => c.length === 2 && c[1].includes('Retirada') ? c : null)({CARDS})",
            timeout_s=40,
        )
        assert "Paracetamol 750 mg" in cards[0], cards
        assert "Considerado: alergia a dipirona" in cards[0], cards
        assert "Neosaldina" in cards[1], cards
        assert "Retirada: Neosaldina não é indicado: alergia a dipirona. Não ofereça." in cards[1]
        withdrawn = 'document.querySelector("#sugestoes li.retirada")'
        assert await page.evaluate(f"{withdrawn}.querySelectorAll('button').length") == 0
        await photograph(page, "balcao-retirada")  # with an accessibility check
        await page.click("#pausar")
        await page.goto(running.base_url + "/balcao")  # the board is kept for the tab
        again = await page.wait_for(f"(c => c.length === 2 ? c : null)({CARDS})", timeout_s=10)
        assert again == cards

        await sign_in(page, running.base_url)
        [(session_id,)] = query(database_url, "SELECT id::text FROM sessions")
        await page.goto(f"{running.base_url}/admin/historico/{session_id}")
        items = 'Array.from(document.querySelectorAll(".ev-recomendacao")).map(e => e.textContent)'
        shown = await page.wait_for(f"(i => i.length === 2 ? i : null)({items})", timeout_s=10)
        assert "retirada às " in shown[0] and "alergia a dipirona" in shown[0], shown
        assert "Considerou: alergia a dipirona" in shown[1], shown
        await accessible(page, "conversa-retirada")
