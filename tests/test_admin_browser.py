"""The live dashboard in a real browser: a headless Chromium opens ``/admin`` while two devices
stream, sees both sessions and their actors update, presses "Reiniciar" on one and sees its
restart counter move, and saves a screenshot (``tests/artifacts/admin.png``, git-ignored).

Needs Debian's ``chromium`` (``.ci/run`` installs it as root). Outside CI the test is skipped
with the reason when Chromium is absent; under CI (``CI`` set) a missing Chromium fails it.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import trio

from balto.device import DeviceRun, stream_file
from tests.browser import ADMIN_SECRET, Page, accessible, chromium, needs_chromium, open_page
from tests.conftest import FIXTURES, register_balcao, start_server, ws_url
from tests.fakes.elevenlabs import FakeElevenLabs
from tests.fakes.wiring import provider_env

WAV = FIXTURES / "two_utterances.wav"  # 8 s: utterances at 0.8–2.8 s and 4.6–6.8 s
ACTORS = {"receiver", "decoder", "vad", "transcriber", "advisor", "sender"}
ARTIFACT = Path(__file__).parent / "artifacts" / "admin.png"

# What the page shows, read back as plain data: one entry per session card, with the header's
# text and each actor row's cells (columns as in the page's ACTOR_COLUMNS).
_READ_PAGE = """JSON.stringify(Array.from(document.querySelectorAll("section.sessao")).map(c => ({
  balcao: c.dataset.balcao,
  header: c.querySelector("header").textContent,
  restarts: c.querySelector(".session-restarts").textContent,
  actors: Object.fromEntries(Array.from(c.querySelectorAll("tr[data-actor]")).map(
    tr => [tr.dataset.actor, Array.from(tr.cells).map(td => td.textContent)])),
})))"""
_STATE, _RESTARTS, _IN = 1, 4, 7  # actor row cells: estado, reinícios, entradas


pytestmark = needs_chromium


async def _cards(page: Page) -> dict[str, dict[str, Any]]:
    cards: list[dict[str, Any]] = json.loads(await page.evaluate(_READ_PAGE))
    return {card["balcao"]: card for card in cards}


def _number(pattern: str, text: str) -> float:
    match = re.search(pattern, text)
    assert match is not None, (pattern, text)
    return float(match.group(1))


async def _wait_for_cards(page: Page, balcoes: set[str], timeout_s: float) -> dict[str, Any]:
    with trio.fail_after(timeout_s):
        while True:
            cards = await _cards(page)
            if set(cards) == balcoes and all(set(c["actors"]) == ACTORS for c in cards.values()):
                return cards
            await trio.sleep(0.1)


async def _restarts(page: Page, balcao: str) -> int:
    return int(_number(r"reinícios (\d+)", (await _cards(page))[balcao]["restarts"]))


async def test_dashboard_shows_live_sessions_and_restarts_one(
    nursery: trio.Nursery, database_url: str, tmp_path: Path
) -> None:
    executable = chromium()
    stt = FakeElevenLabs(transcripts=["Bom dia.", "Tem dipirona?"] * 2)
    running = await start_server(nursery, database_url, **await provider_env(nursery, stt=stt))
    devices = [await register_balcao(running.base_url, f"Balcão {n}") for n in ("A", "B")]
    (_, restarted), (_, untouched) = devices
    runs: list[DeviceRun] = []

    async def device(api_key: str) -> None:
        runs.append(await stream_file(ws_url(running), api_key, WAV, linger_s=3.0))

    profile = tmp_path / "chromium-profile"
    async with open_page(executable, profile) as page, trio.open_nursery() as streams:
        # the secret travels in the fragment, which the page moves to sessionStorage
        await page.goto(f"{running.base_url}/admin#{ADMIN_SECRET}")
        for api_key, _ in devices:
            streams.start_soon(device, api_key)

        first = await _wait_for_cards(page, {restarted, untouched}, timeout_s=5)
        await trio.sleep(1.5)  # the page polls once a second: at least one refresh in between
        second = await _wait_for_cards(page, {restarted, untouched}, timeout_s=5)
        for balcao in (restarted, untouched):
            before, after = first[balcao], second[balcao]
            audio = r"áudio ([\d.]+) s"
            assert _number(audio, after["header"]) > _number(audio, before["header"]), balcao
            received = int(after["actors"]["receiver"][_IN])
            assert received > int(before["actors"]["receiver"][_IN]), balcao
            states = {row[_STATE] for row in after["actors"].values()}
            assert states <= {"em execução", "degradado"}  # running, degraded
            assert await _restarts(page, balcao) == 0

        card = f'section.sessao[data-balcao="{restarted}"]'
        moved = f"document.querySelector('{card} .session-restarts').textContent !== 'reinícios 0'"
        for attempt in (1, 2):
            await page.click(f'{card} button[data-action="restart"]')
            try:
                await page.wait_for(moved, timeout_s=3)
                break
            except trio.TooSlowError:
                # The page re-renders every card each second; a press and release that
                # straddle a re-render land on two different buttons and click neither.
                if attempt == 2:
                    raise
        error = await page.evaluate('document.getElementById("erro").textContent')
        assert error == ""
        cards = await _cards(page)
        assert {int(row[_RESTARTS]) for row in cards[restarted]["actors"].values()} == {1}
        assert await _restarts(page, restarted) == len(ACTORS)
        assert await _restarts(page, untouched) == 0

        await accessible(page, "operacao")
        png = await page.screenshot()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000
    (tmp_path / "admin.png").write_bytes(png)
    ARTIFACT.parent.mkdir(exist_ok=True)
    shutil.copyfile(tmp_path / "admin.png", ARTIFACT)
    # both devices streamed to the end over sockets that stayed open through the restart
    assert sorted(run.close_code for run in runs) == [1000, 1000]
