"""The counter page (``/balcao``) in a real browser, end to end: a headless Chromium whose
microphone plays a two-utterance recording (Chromium's fake capture device) links itself with the
cliente's code (a wrong code first: the page says so), signs the attendant in, starts, and shows
the suggestion (a near-miss name from the loopback LLM fake, mapped to the catalog) and then the
red-flag alert, both carrying the attendant's name on the server; "Usei" stores the feedback and
"Orientei o cliente" the alert's guidance given; "Próximo cliente" marks the cards as the last
customer's and the server's next segment as a new atendimento, which the conversation's page shows;
revoking the balcão's key from the admin API stops the page and sends it back to linking, its key
forgotten. Another browser without WebM recording streams WAV and is heard just the same. The page
is photographed (``tests/artifacts/admin-app/balcao.png``) and must not scroll sideways at 390 px.
Unlinking that browser revokes its key on the server. And when the server restarts under a
streaming page, the page says it lost the connection, comes back by itself once the server does,
and is heard again (a new session, a new suggestion).

Needs Debian's ``chromium`` (skipped outside CI without it, failed under CI)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import trio

from tests.browser import (
    Page,
    accessible,
    chromium,
    fake_microphone,
    microphone_wav,
    needs_chromium,
    open_page,
    photograph,
    sign_in,
)
from tests.conftest import ADMIN, FIXTURES, query, start_server
from tests.fakes.elevenlabs import FakeElevenLabs
from tests.fakes.openai_compat import FakeOpenAICompat
from tests.fakes.wiring import provider_env
from tests.server_process import server_process

pytestmark = needs_chromium
SAID = [
    "Bom dia, eu tô espirrando o dia inteiro, acho que é rinite.",
    "E o olho coçando também, o que a senhora tem?",
    "Ah, e meu pai está com um aperto no peito desde cedo.",
]
NO_WEBM = "MediaRecorder.isTypeSupported = () => false;"
CARDS = 'Array.from(document.querySelectorAll("#{list} li")).map(li => li.textContent)'


async def _fakes(nursery: trio.Nursery, stt: FakeElevenLabs) -> dict[str, str]:
    """The providers as loopback fakes: `stt`, and an LLM naming the product a little off."""
    llm = FakeOpenAICompat("xai")
    llm.respond = lambda body: {
        "recomendar": True, "produto": "loratadina 10mg", "explicacao": "Antialérgico para rinite."
    }  # fmt: skip
    return await provider_env(nursery, stt=stt, llm=llm)


async def _fill(page: Page, form: str, values: dict[str, str]) -> None:
    for name, value in values.items():
        await page.evaluate(
            f'document.getElementById("{form}").elements["{name}"].value = {json.dumps(value)}'
        )
    await page.click(f"#{form} button[type=submit]")


async def _cards(page: Page, which: str, count: int, timeout_s: float) -> list[str]:
    cards: list[str] = await page.wait_for(
        f"(c => c.length >= {count} ? c : null)({CARDS.format(list=which)})", timeout_s=timeout_s
    )
    return cards


async def _settled(database_url: str, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    for _ in range(100):
        if rows := query(database_url, sql, *params):
            return rows
        await trio.sleep(0.1)
    return []


async def test_a_browser_on_the_counter_links_streams_and_shows_suggestions_and_alerts(
    nursery: trio.Nursery, database_url: str, tmp_path: Path
) -> None:
    executable = chromium()
    stt = FakeElevenLabs(transcripts=SAID, default_text="Obrigado.")
    env = await _fakes(nursery, stt)
    running = await start_server(nursery, database_url, **env)
    microphone = microphone_wav(FIXTURES / "two_utterances.wav", tmp_path / "microfone.wav")
    async with httpx.AsyncClient(base_url=running.base_url, timeout=30) as http:
        body = {"email": "a@rede.com", "razao_social": "Rede", "telefone": "11999998888"}
        codigo = (await http.post("/cadastro/cliente", headers=ADMIN, json=body)).json()["codigo"]
        wrong = "000000" if codigo != "000000" else "000001"
        [(cliente,)] = query(database_url, "SELECT id::text FROM clientes")
        for nome in ("Ana Paula", "Bruno"):  # registered: offered at sign-in
            registered = await http.post(
                "/admin/atendentes",
                headers=ADMIN,
                json={"cliente_id": cliente, "nome": nome, "consentimento": True},
            )
            assert registered.status_code == 201, registered.text
        async with open_page(
            executable, tmp_path / "profile", width=1366, height=900,
            extra_args=fake_microphone(microphone),
        ) as page:  # fmt: skip
            await page.goto(running.base_url + "/balcao")
            assert await page.evaluate('document.getElementById("vincular").hidden') is False
            await accessible(page, "balcao-vincular")
            await _fill(page, "vincular-form", {"codigo": wrong, "nome": "Balcão Web 01"})
            error = 'document.getElementById("erro").textContent'
            assert "não encontrado" in await page.wait_for(error, timeout_s=10)
            await accessible(page, "balcao-codigo-errado")
            await _fill(page, "vincular-form", {"codigo": codigo, "nome": "Balcão Web 01"})
            await page.wait_for('!document.getElementById("atender").hidden', timeout_s=10)
            stored = await page.evaluate('JSON.parse(localStorage.getItem("balto.balcao"))')
            assert stored["nome"] == "Balcão Web 01" and stored["api_key"].startswith("bk_")
            ((nome_balcao,),) = query(
                database_url, "SELECT nome_balcao FROM balcoes WHERE id = %s", stored["balcao_id"]
            )
            assert nome_balcao == "Balcão Web 01"

            offered = (
                'Array.from(document.querySelectorAll("#atendentes-nomes option"))'
                ".map(o => o.value)"
            )
            await page.wait_for(f"{offered}.length > 0", timeout_s=10)
            assert await page.evaluate(offered) == ["Ana Paula", "Bruno"]
            assert (
                await page.evaluate('document.querySelector("#atendente-form input").list.id')
                == "atendentes-nomes"
            )
            await _fill(page, "atendente-form", {"nome": "  Ana   Paula "})
            # renamed in Cadastro meanwhile: the page takes the new name when it starts streaming
            renamed = await http.patch(
                f"/admin/balcoes/{stored['balcao_id']}",
                json={"nome_balcao": "Caixa Web 01"},
                headers=ADMIN,
            )
            assert renamed.status_code == 200, renamed.text
            await page.click("#iniciar")
            await page.wait_for(
                'document.getElementById("estado").dataset.estado === "ouvindo"', timeout_s=10
            )
            header = 'document.getElementById("balcao-nome").textContent'
            assert await page.wait_for(f'{header} === "Caixa Web 01"', timeout_s=10)
            stored = await page.evaluate('JSON.parse(localStorage.getItem("balto.balcao"))')
            assert stored["nome"] == "Caixa Web 01"
            [suggestion] = await _cards(page, "sugestoes", 1, timeout_s=40)
            assert "Loratadina 10 mg" in suggestion and "Antialérgico para rinite." in suggestion
            [alert] = await _cards(page, "alertas", 1, timeout_s=40)
            assert "peito" in alert and "médico" in alert
            await page.click("#sugestoes li .acoes button")  # Usei
            assert "Marcada como usada" in (await _cards(page, "sugestoes", 1, timeout_s=5))[0]
            rows = await _settled(
                database_url, "SELECT produto, atendente FROM recommendations WHERE aceita"
            )
            assert rows == [("Loratadina 10 mg", "Ana Paula")]
            alerts = await _settled(database_url, "SELECT sinal, atendente FROM alerts")
            assert alerts == [("dor_no_peito", "Ana Paula")]
            # she told the customer to seek care, and says so: stored with the alert
            await page.click("#alertas li .acoes button")  # Orientei o cliente
            assert "Orientação registrada" in (await _cards(page, "alertas", 1, timeout_s=5))[0]
            oriented = await _settled(
                database_url, "SELECT sinal FROM alerts WHERE orientado_em > created_at"
            )
            assert oriented == [("dor_no_peito",)]
            listed = (await http.get("/admin/history/alertas", headers=ADMIN)).json()["items"]
            assert [a["orientado_em"] is not None for a in listed] == [True]
            feed = (await http.get("/admin/ao-vivo/dados", headers=ADMIN)).json()["sessions"]
            [told] = [e for e in feed[0]["eventos"] if e["tipo"] == "alerta"]
            assert told["orientado_em"] == listed[0]["orientado_em"]
            # the next customer: the server's advice starts afresh at the next utterance, and
            # the cards on screen are marked as the last customer's
            await page.click("#proximo")
            faded = 'document.querySelectorAll("#atender .cartao.anterior").length === 2'
            await page.wait_for(faded, timeout_s=5)
            with trio.fail_after(30):  # the microphone's recording plays on: its next utterance
                while not query(  # noqa: ASYNC110 - polling the database
                    database_url, "SELECT 1 FROM segments WHERE novo_atendimento = 'balcao'"
                ):
                    await trio.sleep(0.2)
            feed = (await http.get("/admin/ao-vivo/dados", headers=ADMIN)).json()["sessions"]
            assert [e["novo_atendimento"] for e in feed[0]["eventos"] if e["tipo"] == "fala"].count(
                "balcao"
            ) == 1
            await photograph(page, "balcao")  # with an accessibility check
            width = await page.at_phone_width()
            assert width[0] <= width[1] == 390, width
            await photograph(page, "balcao-390")

            # the chain suspended: the page stops and says why, keeping the key for its return
            suspensao = f"/admin/clientes/{cliente}/suspensao"
            suspended = await http.put(suspensao, json={"motivo": "contrato"}, headers=ADMIN)
            assert suspended.json()["sessoes_encerradas"] == 1, suspended.text
            await page.wait_for(f'{error}.includes("suspenso")', timeout_s=15)
            assert await page.evaluate('document.getElementById("vincular").hidden') is True
            assert await page.evaluate('localStorage.getItem("balto.balcao")') is not None
            await accessible(page, "balcao-suspenso")
            # a reload keeps this tab's cards and what the attendant answered on them
            await page.goto(running.base_url + "/balcao")
            kept = await page.wait_for(
                f"(c => c.length === 2 ? c : null)([{CARDS.format(list='sugestoes')},"
                f" {CARDS.format(list='alertas')}].flat())",
                timeout_s=10,
            )
            assert "Loratadina 10 mg" in kept[0] and "Marcada como usada" in kept[0], kept
            assert "peito" in kept[1] and "Orientação registrada" in kept[1], kept
            assert all("cliente anterior" in card for card in kept), kept
            assert await page.evaluate('document.querySelectorAll(".acoes button").length') == 0
            assert (await http.delete(suspensao, headers=ADMIN)).status_code == 200
            await page.click("#iniciar")  # resumed: the same key streams again
            live = f"/admin/sessions/{stored['balcao_id']}"
            with trio.fail_after(15):
                while (  # noqa: ASYNC110 - polling the server
                    (now := await http.get(live, headers=ADMIN)).status_code != 200
                    or now.json()["audio_format"] != "webm"
                ):
                    await trio.sleep(0.1)

            # the admin revokes the key: the page stops, says why, and forgets the key
            revoked = await http.post(f"/admin/balcoes/{stored['balcao_id']}/revoke", headers=ADMIN)
            assert revoked.status_code == 200, revoked.text
            await page.wait_for('!document.getElementById("vincular").hidden', timeout_s=15)
            assert "revogada" in await page.evaluate(error)
            # unlinked: that balcão's cards are forgotten with its key
            assert await page.evaluate('sessionStorage.getItem("balto.quadro")') == "[]"
            assert await page.evaluate('localStorage.getItem("balto.balcao")') is None
            # the recorder writes the session's close after the socket's, so wait for it
            closes = await _settled(
                database_url,
                "SELECT close_code FROM sessions WHERE ended_at IS NOT NULL AND"
                " (SELECT count(*) FROM sessions WHERE ended_at IS NOT NULL) = 2"
                " ORDER BY started_at",
            )
            assert closes == [(4009,), (4003,)]
            assert query(database_url, "SELECT count(*) FROM sessions") == [(2,)]
            # the conversation's page draws a line where the next customer began
            [(first,)] = query(
                database_url, "SELECT id::text FROM sessions ORDER BY started_at LIMIT 1"
            )
            await sign_in(page, running.base_url)
            await page.goto(f"{running.base_url}/admin/historico/{first}")
            lines = (
                'Array.from(document.querySelectorAll("li.ev-atendimento"), li => li.textContent)'
            )
            shown = await page.wait_for(f"(l => l.length ? l : null)({lines})", timeout_s=10)
            assert shown == ["Atendimento 1", "Atendimento 2: o balcão passou ao próximo cliente"]
            await accessible(page, "conversa-atendimentos")

        # a browser whose MediaRecorder makes no WebM streams a WAV of the microphone's samples
        stt.transcripts = ["Tem algo para rinite? Espirro muito."]
        async with open_page(
            executable, tmp_path / "profile2", extra_args=fake_microphone(microphone)
        ) as page:
            await page.call("Page.enable")
            await page.call("Page.addScriptToEvaluateOnNewDocument", source=NO_WEBM)
            # the Cadastro page's link carries the code: filled in, then gone from the address
            await page.goto(f"{running.base_url}/balcao?codigo={codigo}")
            form = 'document.getElementById("vincular-form").elements'
            assert await page.evaluate(f"{form}.codigo.value") == codigo
            assert await page.evaluate("location.search") == ""
            await _fill(page, "vincular-form", {"nome": "Balcão Web 02"})
            await page.wait_for('!document.getElementById("atender").hidden', timeout_s=10)
            await page.click("#iniciar")
            [suggestion] = await _cards(page, "sugestoes", 1, timeout_s=40)
            assert "Loratadina 10 mg" in suggestion
            await page.click("#pausar")
            await page.wait_for(
                'document.getElementById("estado").dataset.estado === "parado"', timeout_s=10
            )
            # the page says "parado" once it has sent its close; wait for the server to have seen
            # it, or the revocation below can reach the session first (then rightly its reason)
            paused = await _settled(
                database_url,
                "SELECT 1 FROM sessions s JOIN balcoes b ON b.id = s.balcao_id"
                " WHERE b.nome_balcao = 'Balcão Web 02' AND s.ended_at IS NOT NULL",
            )
            assert paused == [(1,)]
            # unlinking (asked twice) revokes the key on the server, not only in this browser
            await page.evaluate('document.querySelector("details.este-balcao").open = true')
            await page.click("#desvincular")
            assert await page.evaluate('localStorage.getItem("balto.balcao")') is not None
            await page.click("#desvincular")
            await page.wait_for('!document.getElementById("vincular").hidden', timeout_s=10)
            said = await page.evaluate('document.getElementById("aviso").textContent')
            assert "chave do balcão revogada" in said, said
            assert await page.evaluate('localStorage.getItem("balto.balcao")') is None
    revoked = query(
        database_url, "SELECT revoked_at IS NOT NULL FROM balcoes WHERE nome_balcao = %s",
        "Balcão Web 02",
    )  # fmt: skip
    assert revoked == [(True,)]
    sessions = await _settled(
        database_url,
        "SELECT b.nome_balcao, s.close_reason FROM sessions s JOIN balcoes b ON b.id = s.balcao_id"
        " WHERE b.nome_balcao = 'Balcão Web 02' AND s.ended_at IS NOT NULL",
    )
    assert sessions == [("Balcão Web 02", "device disconnected")]
    formats = query(database_url, "SELECT DISTINCT audio_format FROM sessions ORDER BY 1")
    assert formats == [("wav",), ("webm",)]


async def test_the_counter_page_reconnects_by_itself_when_the_server_restarts(
    nursery: trio.Nursery, database_url: str, tmp_path: Path
) -> None:
    executable = chromium()
    env = {
        **await _fakes(nursery, FakeElevenLabs(default_text=SAID[0])),
        "BALTO_DATABASE_URL": database_url,
        "BALTO_VAD_WORKERS": "0",
    }
    microphone = microphone_wav(FIXTURES / "two_utterances.wav", tmp_path / "microfone.wav")
    estado = 'document.getElementById("estado").dataset.estado'
    async with server_process(env) as first:
        async with httpx.AsyncClient(base_url=first.base_url, timeout=30) as http:
            body = {"email": "a@rede.com", "razao_social": "Rede", "telefone": "11999998888"}
            made = await http.post("/cadastro/cliente", headers=ADMIN, json=body)
            codigo = made.json()["codigo"]
        async with open_page(
            executable, tmp_path / "profile", extra_args=fake_microphone(microphone)
        ) as page:
            await page.goto(first.base_url + "/balcao")
            await _fill(page, "vincular-form", {"codigo": codigo, "nome": "Balcão Web 03"})
            await page.wait_for('!document.getElementById("atender").hidden', timeout_s=10)
            await page.click("#iniciar")
            await _cards(page, "sugestoes", 1, timeout_s=40)
            assert await first.stop() == 0  # SIGTERM: the server closes its sessions with 1001
            lost = await page.wait_for(
                f'{estado} === "conectando" && document.getElementById("estado").textContent',
                timeout_s=15,
            )
            assert "Sem conexão" in lost
            async with server_process(env, port=first.port):
                await page.wait_for(f'{estado} === "ouvindo"', timeout_s=40)
                cards = await _cards(page, "sugestoes", 2, timeout_s=40)
                assert all("Loratadina 10 mg" in card for card in cards)
                sessions = query(
                    database_url, "SELECT close_code FROM sessions ORDER BY started_at"
                )
                assert sessions == [(1001,), (None,)]
