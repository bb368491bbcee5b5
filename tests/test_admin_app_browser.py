"""The admin app in a real browser, as a chain's admin uses it: a headless Chromium signs in
through the form, watches two live sessions show transcripts, a recommendation (with the
attendant's feedback) and a red-flag alert as they happen, opens the operator details and
disconnects one session, opens a past conversation, filters history, downloads the Excel report
from its button, rotates a linking code, uploads a catalog with one bad row (the error shown,
nothing saved) and then a good one, and sees the next recommendation come from it. Every page is
photographed at 1366 and 390 px wide (``tests/artifacts/admin-app/``, git-ignored; the path is
printed) and, at 390 px, must not scroll sideways.

Needs Debian's ``chromium`` (skipped outside CI without it, failed under CI), like
`tests/test_admin_browser.py`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import openpyxl
import trio
from trio_websocket import ConnectionClosed, open_websocket_url

from balto.device import plan_chunks
from balto.errors import Category, ProviderError
from supervisors.root import Running
from tests.browser import (
    ADMIN_SECRET,
    ARTIFACTS,
    SIGNED_OUT,
    Page,
    chromium,
    downloaded,
    needs_chromium,
    open_page,
    photograph,
    settle,
)
from tests.conftest import ADMIN, FIXTURES, query, start_server, ws_url
from tests.fakes.elevenlabs import FakeElevenLabs
from tests.fakes.wiring import provider_env

WEBM = FIXTURES / "two_utterances.webm"  # 8 s: utterances at 0.8–2.8 s and 4.6–6.8 s
BASE: list[str] = []  # the server under test, for `_open`
HEADACHE = "Bom dia, eu estou com uma dor de cabeça muito forte desde ontem."
CHEST = "Meu pai está com uma dor no peito forte desde cedo."
BYE = "Obrigado, até logo."
NEW_NEED = "Tem alguma coisa para unha encravada?"
BAD_CATALOG = (
    "nome,categoria,indicacoes,explicacao,tarja,contraindicacoes\n"
    "Cefaliv 500 mg,analgésico,dor de cabeça,Genérico da casa.,isento,Gestantes\n"
    "Unhafix Creme,dermatológico,unha encravada,Alivia a unha encravada.,roxa,\n"
)
GOOD_CATALOG = BAD_CATALOG.replace(",roxa,", ",isento,")

pytestmark = needs_chromium


async def _open(page: Page, path: str, ready: str, timeout_s: float = 10.0) -> None:
    await page.call("Page.navigate", url=BASE[0] + path)
    await settle(page, f"location.pathname === {json.dumps(path.split('?')[0])}", timeout_s)
    await settle(page, f'document.readyState === "complete" && ({ready})', timeout_s)


async def _register(http: httpx.AsyncClient, rede: str, balcao: str) -> dict[str, str]:
    cliente = await http.post(
        "/cadastro/cliente",
        headers=ADMIN,
        json={"email": "contato@rede.com", "razao_social": rede, "telefone": "11999998888"},
    )
    codigo = cliente.json()["codigo"]
    linked = await http.post(
        "/cadastro/balcao", json={"nome_balcao": balcao, "user_codigo": codigo}
    )
    body = linked.json()
    return {"codigo": codigo, "api_key": body["api_key"], "balcao_id": body["balcao_id"]}


async def _device(
    running: Running,
    api_key: str,
    atendente: str,
    seen: list[dict[str, Any]],
    linger_s: float = 1.5,
) -> None:
    """Stream the fixture as a counter does; accept every recommendation it is shown."""
    chunks = plan_chunks(WEBM.read_bytes(), 0.25)
    async with open_websocket_url(ws_url(running)) as ws:
        await ws.send_message(json.dumps({"api_key": api_key}))
        await ws.send_message(json.dumps({"comando": "atendente", "nome": atendente}))
        t0 = trio.current_time()

        async def read(done: trio.CancelScope) -> None:
            try:
                while True:
                    frame = json.loads(await ws.get_message())
                    seen.append(frame)
                    if frame.get("comando") == "recomendar":
                        feedback = {"comando": "feedback", "id": frame["id"], "aceita": True}
                        await ws.send_message(json.dumps(feedback))
            except ConnectionClosed as closed:
                seen.append({"closed": closed.reason.code if closed.reason else None})
                done.cancel()

        async with trio.open_nursery() as nursery:
            nursery.start_soon(read, nursery.cancel_scope)
            try:
                for end_at, chunk in chunks:
                    await trio.sleep_until(t0 + end_at)
                    await ws.send_message(chunk)
                await trio.sleep(linger_s)
            except ConnectionClosed:
                await trio.sleep_forever()  # the reader records the close and ends this
            nursery.cancel_scope.cancel()


def _card_with(kind: str) -> str:
    cards = 'Array.from(document.querySelectorAll("section.sessao"))'
    return f'{cards}.filter(c => c.querySelector("li.ev-{kind}"))'


async def _phone(page: Page) -> None:
    await page.call(
        "Emulation.setDeviceMetricsOverride",
        width=390,
        height=844,
        deviceScaleFactor=1,
        mobile=True,
    )


async def _no_sideways_scroll(page: Page, name: str) -> None:
    width = await page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1] == 390, (name, width)


def _read_card(kind: str) -> str:
    return f"(c => ({{balcao: c.dataset.balcao, text: c.textContent}}))({_card_with(kind)}[0])"


async def test_a_chains_admin_runs_the_admin_app_in_a_browser(
    nursery: trio.Nursery, database_url: str, tmp_path: Path
) -> None:
    executable = chromium()
    stt = FakeElevenLabs(transcripts=[HEADACHE, CHEST, BYE, BYE])
    running = await start_server(nursery, database_url, **await provider_env(nursery, stt=stt))
    async with httpx.AsyncClient(base_url=running.base_url) as http:
        alfa = await _register(http, "Rede Alfa", "Balcão Alfa")
        beta = await _register(http, "Rede Beta", "Balcão Beta")
    alfa_cliente = query(
        database_url, "SELECT cliente_id::text FROM balcoes WHERE id = %s", alfa["balcao_id"]
    )[0][0]
    downloads = tmp_path / "downloads"
    downloads.mkdir()

    async with open_page(executable, tmp_path / "profile", width=1366, height=900) as page:
        BASE[:] = [running.base_url]
        await page.call(
            "Browser.setDownloadBehavior", behavior="allow", downloadPath=str(downloads)
        )

        # 1. sign in through the form; the cookie is invisible to scripts
        await page.call("Page.navigate", url=running.base_url + "/admin/ao-vivo")
        await settle(page, SIGNED_OUT)
        await _phone(page)  # the form at phone width first
        await _no_sideways_scroll(page, "entrar")
        await photograph(page, "entrar-390")
        await page.call("Emulation.clearDeviceMetricsOverride")
        await page.evaluate(
            f'document.getElementById("segredo").value = {json.dumps(ADMIN_SECRET)}'
        )
        await page.click("#entrar button")
        await settle(
            page, 'location.pathname === "/admin/ao-vivo" && document.readyState === "complete"'
        )
        assert await page.evaluate('document.cookie.includes("balto_admin")') is False
        await settle(page, 'document.getElementById("contagem").textContent.includes("Nenhuma")')
        # desktop notifications, once allowed (the browser's own prompt answered yes here); what
        # the page hands the browser is recorded beside it
        await page.call(
            "Browser.grantPermissions", permissions=["notifications"], origin=running.base_url
        )
        await page.evaluate(
            "window.avisos = []; const Nativa = window.Notification;"
            " window.Notification = class extends Nativa { constructor(t, o) { super(t, o);"
            " window.avisos.push([t, o.body]); } };"
        )
        assert await page.shown("avisar-computador")
        await page.click("#avisar-computador")
        await settle(page, 'document.getElementById("avisar-computador").hidden')

        # 2. two live sessions: transcripts, a recommendation with feedback, an alert
        seen_a: list[dict[str, Any]] = []
        seen_b: list[dict[str, Any]] = []
        async with trio.open_nursery() as devices:
            devices.start_soon(_device, running, alfa["api_key"], "Ana Paula", seen_a)
            devices.start_soon(_device, running, beta["api_key"], "Bruno", seen_b)
            await settle(page, 'document.querySelectorAll("section.sessao").length === 2')
            await settle(page, f"{_card_with('recomendacao')}.length === 1", timeout_s=15)
            await settle(page, f"{_card_with('alerta')}.length === 1", timeout_s=15)
            await settle(page, 'document.querySelectorAll("section.sessao li.ev-fala").length >= 2')
            await settle(page, f'{_card_with("recomendacao")}[0].querySelector(".selo.aceita")')
            rec_card = await page.evaluate(_read_card("recomendacao"))
            alert_card = await page.evaluate(_read_card("alerta"))
            assert rec_card["balcao"] != alert_card["balcao"]
            assert "Sugestão: " in rec_card["text"] and "dor de cabeça" in rec_card["text"]
            assert "Alerta: Dor ou aperto no peito" in alert_card["text"]
            assert "SAMU" in alert_card["text"]
            notified = await settle(page, "window.avisos.length && window.avisos")
            [(title, body)] = notified
            assert title.startswith("Alerta no Balcão ") and "Dor ou aperto no peito" in title
            assert "SAMU" in body and body.startswith("Atendente ")
            names = {alfa["balcao_id"]: "Ana Paula", beta["balcao_id"]: "Bruno"}
            assert f"Atendente: {names[rec_card['balcao']]}" in rec_card["text"]

            # operator details one click away, states in Portuguese
            alert_sel = f'section.sessao[data-balcao="{alert_card["balcao"]}"]'
            await page.click(f'{alert_sel} button[data-action="detalhes"]')
            states = await settle(
                page,
                f"Array.from(document.querySelectorAll('{alert_sel} .detalhes tr[data-actor]'))"
                ".map(tr => tr.cells[1].textContent)",
            )
            assert len(states) == 6 and set(states) <= {"em execução", "degradado"}, states
            # what an actor says of itself is no error, and is said in Portuguese
            vad = await page.evaluate(
                f"Array.from(document.querySelector('{alert_sel} .detalhes tr[data-actor=\"vad\"]')"
                ".cells).slice(-2).map(td => td.textContent)"
            )
            assert vad[0] == "—" and vad[1].startswith("CPU por segundo de áudio: ruído "), vad
            await photograph(page, "ao-vivo-1366")

            # restart the other one: the outcome shows, and so do its actors' restarts
            rec_sel = f'section.sessao[data-balcao="{rec_card["balcao"]}"]'
            await page.click(f'{rec_sel} button[data-action="restart"]')
            outcome = f"document.querySelector({json.dumps(rec_sel + ' .resultado')}).textContent"
            await settle(page, f'{outcome}.includes("Reinício pedido")')
            audio = f"document.querySelector({json.dumps(rec_sel + ' .audio')}).textContent"
            await settle(page, f'{audio}.includes("reinícios 6")')

            # disconnect one: a visible outcome, then a trace once it is gone
            await page.click(f'{alert_sel} button[data-action="disconnect"]')
            await settle(
                page, 'document.getElementById("aviso").textContent.includes("desconectada")'
            )
            await settle(page, 'document.querySelectorAll("section.sessao").length === 1')
            await settle(
                page,
                'document.querySelector("#encerradas tbody").textContent'
                '.includes("desconectada pelo operador")',
            )
        assert {"closed": 4005} in seen_a + seen_b
        assert any(f.get("comando") == "alerta" for f in seen_a + seen_b)

        # polls went on all along the sessions' life: the alert was announced once
        assert await page.evaluate("window.avisos.length") == 1

        # 3. history: filter, open a past conversation, download the Excel from the button
        rec_name = names[rec_card["balcao"]]
        await _open(
            page,
            "/admin/historico",
            'document.body.dataset.pronto === "1"'
            ' && document.querySelectorAll("#conversas tbody tr").length === 2',
        )
        await settle(page, 'document.querySelectorAll("#alertas tbody tr").length === 1')
        await page.evaluate(
            f'document.getElementById("f-atendente").value = {json.dumps(rec_name)}'
        )
        await page.click('#filtros button[type="submit"]')
        await settle(page, 'document.querySelectorAll("#conversas tbody tr").length === 1')
        await settle(page, '!document.getElementById("alertas-vazio").hidden')  # not hers
        assert rec_name in await page.evaluate(
            'document.querySelector("#conversas tbody").textContent'
        )
        assert "atendente=" in await page.evaluate("location.search")
        href = await page.evaluate('document.getElementById("excel").getAttribute("href")')
        assert href.startswith("/api/export/xlsx?") and "atendente=" in href
        await page.click("#excel")
        done = await downloaded(downloads, ".xlsx")
        workbook = openpyxl.load_workbook(done[0], read_only=True)
        assert {"Resumo", "Interações", "Alertas"} <= set(workbook.sheetnames)
        # the button carried the page's filter: only that attendant's interactions
        rows = [list(r) for r in workbook["Interações"].iter_rows(values_only=True)]
        header = next(i for i, r in enumerate(rows) if "atendente" in r)
        column = rows[header].index("atendente")
        attendants = {r[column] for r in rows[header + 1 :] if any(v is not None for v in r)}
        assert attendants == {rec_name}, attendants
        workbook.close()
        # search what was said: the words found, any case and accents, marked in what was said
        await page.fill("#f-busca", "CABECA forte")
        await page.click('#busca button[type="submit"]')
        await settle(page, 'document.querySelector("#conversas tr.achado mark")')
        marks = await page.evaluate(
            'Array.from(document.querySelectorAll("#conversas tr.achado mark"),'
            " (m) => m.textContent)"
        )
        assert marks == ["cabeça", "forte"], marks
        assert "q=CABECA+forte" in await page.evaluate("location.search")
        assert "atendente=" in await page.evaluate("location.search")  # the filters kept
        opens = await page.evaluate(
            'document.querySelector("#conversas tbody tr a").getAttribute("href")'
        )
        assert opens.endswith("?q=CABECA%20forte"), opens  # the conversation, words marked
        await photograph(page, "historico-1366")
        await page.fill("#f-busca", "ninguém disse isso")
        await page.click('#busca button[type="submit"]')
        await settle(page, '!document.getElementById("busca-vazio").hidden')
        assert await page.evaluate('document.getElementById("conversas-vazio").hidden')
        await page.fill("#f-busca", "")
        await page.click('#busca button[type="submit"]')
        await settle(page, 'document.querySelectorAll("#conversas tbody tr").length === 1')
        await page.click("#conversas tbody tr a")
        await settle(page, 'location.pathname.startsWith("/admin/historico/")')
        await settle(page, 'document.querySelector("#linha-do-tempo li.ev-recomendacao")')
        timeline = await page.evaluate('document.getElementById("linha-do-tempo").textContent')
        assert "Por quê:" in timeline and "aceita" in timeline and HEADACHE in timeline
        assert "fonte: catálogo (sem LLM)" in timeline, timeline  # in words, not "catalog"
        assert "Sugestões1 (1 aceita)" in await page.text("#sessao")
        # why a segment went untranscribed, in words; a reason not known reads as stored
        reasons = {
            str(ProviderError("elevenlabs", Category.TIMEOUT, "read timed out"))
            + "; "
            + str(ProviderError("assemblyai", Category.SERVER, "HTTP 503")): (
                "os provedores de transcrição falharam: elevenlabs (sem resposta a tempo),"
                " assemblyai (erro do provedor)"
            ),
            "session ended before transcription finished": (
                "a conversa terminou antes da transcrição"
            ),
            "stt_not_configured: no STT provider configured (set ELEVENLABS_API_KEY)": (
                "nenhum provedor de transcrição (STT) configurado"
            ),
            "segments full (4): oldest dropped": (
                "fila cheia: descartada para não atrasar as falas seguintes"
            ),
            "crashed transcriber consumer 3x": "a transcrição falhou repetidamente com esta fala",
            "algo novo: 42": "algo novo: 42",
        }
        said = await page.evaluate(f"Object.keys({json.dumps(reasons)}).map(Balto.motivoFalha)")
        assert said == list(reasons.values())
        conversation_path = await page.evaluate("location.pathname")
        await photograph(page, "conversa-1366")
        # opened from a search: what was said shows the words searched for marked
        await _open(
            page,
            conversation_path + "?q=" + quote("FORTE cabeça"),
            'document.querySelector("#linha-do-tempo mark")',
        )
        marks = await page.evaluate(
            'Array.from(document.querySelectorAll("#linha-do-tempo mark"), (m) => m.textContent)'
        )
        assert marks == ["cabeça", "forte"], marks

        # 4. cadastro: rotate a code, a catalog with a bad row, then a good one
        await _open(
            page,
            f"/admin/cadastro?cliente_id={alfa_cliente}",
            'document.querySelectorAll("#catalogo tbody tr").length > 5',
        )
        row = f'#clientes tr[data-cliente="{alfa_cliente}"]'
        await page.click(f'{row} button[data-action="rotate"]')
        await settle(
            page, 'document.getElementById("resultado").textContent.includes("Novo código")'
        )
        [(codigo,)] = query(database_url, "SELECT codigo FROM clientes WHERE id = %s", alfa_cliente)
        assert codigo != alfa["codigo"]
        shown = f"document.querySelector({json.dumps(row + ' .codigo')}).textContent"
        assert await page.evaluate(shown) == codigo
        link = f"document.querySelector({json.dumps(row + ' .tela-balcao')}).getAttribute('href')"
        assert await page.evaluate(link) == f"/balcao?codigo={codigo}"  # the counter page's

        # the chain's data corrected in place: its phone, as typed, stored as digits
        await page.evaluate(
            'document.getElementById("dados-cliente-bloco").open = true;'
            'document.getElementById("dados-cliente").telefone.value = "(21) 3456-7890";'
        )
        assert (
            await page.evaluate('document.getElementById("dados-cliente").razao_social.value')
            == "Rede Alfa"
        )
        await page.click('#dados-cliente button[type="submit"]')
        await settle(
            page,
            'document.getElementById("resultado").textContent === "Dados de Rede Alfa salvos."'
            ' && document.getElementById("dados-cliente").telefone.value === "2134567890"',
        )
        assert query(database_url, "SELECT telefone FROM clientes WHERE id = %s", alfa_cliente) == [
            ("2134567890",)
        ]

        # the chain's access suspended (a second click confirms), then resumed: the device
        # streams again below with the key it had
        await page.fill('#suspender input[name="motivo"]', "contrato em revisão")
        await page.click('#suspender button[type="submit"]')
        assert query(
            database_url, "SELECT suspenso_em FROM clientes WHERE id = %s", alfa_cliente
        ) == [(None,)]
        await page.click('#suspender button[type="submit"]')
        await settle(
            page,
            'document.getElementById("acesso-situacao").textContent.includes("contrato em revisão")'
            " && document.querySelector(" + json.dumps(row) + ').textContent.includes("(suspenso)")'
            ' && document.querySelector("#balcoes").textContent.includes("suspensa")',
        )
        assert query(
            database_url, "SELECT suspenso_motivo FROM clientes WHERE id = %s", alfa_cliente
        ) == [("contrato em revisão",)]
        await photograph(page, "cadastro-suspenso-1366")
        await page.click("#reativar")
        await settle(
            page, 'document.getElementById("resultado").textContent.endsWith("reativado.")'
        )
        assert query(
            database_url, "SELECT suspenso_em FROM clientes WHERE id = %s", alfa_cliente
        ) == [(None,)]

        # a new cliente and an attendant (with consent) through the forms
        await page.evaluate(
            'document.getElementById("novo-cliente-bloco").open = true;'
            'const f = document.getElementById("novo-cliente");'
            'f.razao_social.value = "Rede Gama"; f.email.value = "gama@rede.com";'
            'f.telefone.value = "11988887777";'
        )
        await page.click('#novo-cliente button[type="submit"]')
        await settle(page, 'document.getElementById("resultado").textContent.includes("Código")')
        await settle(page, 'document.querySelector("#clientes").textContent.includes("Rede Gama")')
        await page.evaluate(
            'const a = document.getElementById("novo-atendente");'
            'a.nome.value = "Carla"; a.consentimento.checked = true;'
        )
        await page.click('#novo-atendente button[type="submit"]')
        await settle(page, 'document.querySelector("#atendentes").textContent.includes("Carla")')
        assert query(database_url, "SELECT nome FROM atendentes") == [("Carla",)]
        # her name completed in its row (her consent, and any voice, stay)
        await page.click('#atendentes [data-action="renomear-atendente"]')
        await page.fill("#atendentes tbody input", "Carla Souza")
        await page.click('#atendentes [data-action="salvar-atendente"]')
        await settle(
            page,
            'document.getElementById("resultado").textContent.startsWith('
            '"“Carla” agora se chama “Carla Souza”")',
        )
        assert query(database_url, "SELECT nome FROM atendentes") == [("Carla Souza",)]

        bad, good = tmp_path / "catalogo-ruim.csv", tmp_path / "catalogo.csv"
        bad.write_text(BAD_CATALOG, encoding="utf-8")
        good.write_text(GOOD_CATALOG, encoding="utf-8")
        await page.set_files("#catalogo-arquivo", bad)
        await page.click('#catalogo-envio button[type="submit"]')
        errors = await settle(page, 'document.getElementById("catalogo-erros").textContent')
        assert "linha 3" in errors and "tarja" in errors
        assert query(database_url, "SELECT count(*) FROM cliente_catalogs") == [(0,)]
        await page.set_files("#catalogo-arquivo", good)
        await page.click('#catalogo-envio button[type="submit"]')
        await settle(
            page, 'document.getElementById("resultado").textContent.includes("Catálogo salvo")'
        )
        await settle(page, 'document.querySelectorAll("#catalogo tbody tr").length === 2')
        assert "Unhafix Creme" in await page.evaluate(
            'document.querySelector("#catalogo").textContent'
        )
        # a chain's words for a condition, shown as the advice reads it
        assert "gravidez" in await page.evaluate(
            'document.querySelector("#catalogo tbody tr").cells[4].textContent'
        )
        await photograph(page, "cadastro-1366")

        # ... and the next recommendation comes from it
        stt.transcripts = [NEW_NEED, BYE]
        seen_new: list[dict[str, Any]] = []
        await _open(
            page,
            "/admin/ao-vivo",
            'document.getElementById("contagem").textContent !== "Carregando…"',
        )
        async with trio.open_nursery() as devices:
            # it lingers, so the operator console below still sees it
            devices.start_soon(_device, running, alfa["api_key"], "Ana Paula", seen_new, 6.0)
            await settle(
                page, 'document.querySelector("section.sessao li.ev-recomendacao")', timeout_s=15
            )
            shown = await page.evaluate(
                'document.querySelector("section.sessao li.ev-recomendacao").textContent'
            )
            assert "Sugestão: Unhafix Creme" in shown
            # a live card at phone width
            await _phone(page)
            await page.click('section.sessao button[data-action="detalhes"]')
            await _no_sideways_scroll(page, "ao-vivo")
            await photograph(page, "ao-vivo-390")
            # the operator console too (it overflowed to 759 px before)
            await _open(page, "/admin", 'document.querySelector("section.sessao tr[data-actor]")')
            await _no_sideways_scroll(page, "operacao")
            await photograph(page, "operacao-390")
            await page.call("Emulation.clearDeviceMetricsOverride")
        assert [f["produto"] for f in seen_new if f.get("comando") == "recomendar"] == [
            "Unhafix Creme"
        ]

        # 5. painel
        await _open(page, "/admin/painel", 'document.body.dataset.carregado === "1"')
        kpis = await page.evaluate('document.getElementById("kpis").textContent')
        assert "3sessões" in kpis and "alertas" in kpis, kpis
        assert await page.evaluate('document.querySelectorAll("canvas").length') == 4
        # who was at the counter when each suggestion and alert came, one row each
        assert await page.shown("por-atendente-bloco")
        people = await page.evaluate(
            'Array.from(document.querySelectorAll("#por-atendente tbody tr"))'
            ".map(tr => tr.cells[0].textContent)"
        )
        assert sorted(people) == ["Ana Paula", "Bruno"], people
        await photograph(page, "painel-1366")

        # the operator console stays one tab away and needs no secret once signed in
        await page.click('nav a[href="/admin"]')
        await settle(page, 'location.pathname === "/admin" && document.readyState === "complete"')
        await settle(page, 'document.querySelectorAll("#totais .kpi").length > 0')
        assert await page.evaluate('document.getElementById("login").hidden') is True

        # 6. phone width: nothing scrolls sideways, every page photographed
        await _phone(page)
        pages = {
            "ao-vivo-encerradas": (
                "/admin/ao-vivo",
                'document.getElementById("contagem").textContent !== "Carregando…"',
            ),
            "historico": (
                "/admin/historico",
                'document.querySelectorAll("#conversas tbody tr").length >= 2',
            ),
            "conversa": (conversation_path, 'document.querySelector("#linha-do-tempo li")'),
            "painel": ("/admin/painel", 'document.body.dataset.carregado === "1"'),
            "cadastro": (
                f"/admin/cadastro?cliente_id={alfa_cliente}",
                'document.querySelectorAll("#catalogo tbody tr").length === 2',
            ),
        }
        for name, (path, ready) in pages.items():
            await _open(page, path, ready)
            await _no_sideways_scroll(page, name)
            await photograph(page, f"{name}-390")
    print(f"\nadmin app screenshots: {ARTIFACTS}")
