"""Advice end to end over real sockets (Hypercorn, PostgreSQL, ffmpeg, trio-websocket device) with
loopback LLM fakes that misbehave: near-miss names, off-catalog answers, two red flags, and the
attendant declared by the device."""

from __future__ import annotations

import json
from typing import Any

import httpx
import trio
from trio_websocket import open_websocket_url

from balto.device import DeviceRun, plan_chunks, stream_file
from supervisors.root import Running
from tests.conftest import ADMIN, FIXTURES, query, register_balcao, start_server, ws_url
from tests.fakes.elevenlabs import FakeElevenLabs
from tests.fakes.openai_compat import FakeOpenAICompat
from tests.fakes.wiring import provider_env

WEBM = FIXTURES / "two_utterances.webm"
ALLERGY = [
    "Bom dia, eu tô espirrando o dia inteiro, acho que é rinite.",
    "E o olho coçando também, o que a senhora tem?",
]


def frames(run: DeviceRun, comando: str) -> list[dict[str, Any]]:
    return [frame for _, frame in run.frames if frame.get("comando") == comando]


def says(produto: str) -> Any:
    return lambda body: {"recomendar": True, "produto": produto, "explicacao": "Para a rinite."}


async def serve(
    nursery: trio.Nursery,
    database_url: str,
    transcripts: list[str],
    *llms: FakeOpenAICompat,
    **settings: str,
) -> tuple[Running, str]:
    stt = FakeElevenLabs(transcripts=transcripts)
    env = await provider_env(nursery, stt=stt, llms=llms)
    running = await start_server(nursery, database_url, **env, **settings)
    api_key, _ = await register_balcao(running.base_url)
    return running, api_key


async def settled(database_url: str, sql: str, count: int) -> list[tuple[Any, ...]]:
    """Rows of `sql` once there are `count` of them (the session drains after the socket)."""
    rows: list[tuple[Any, ...]] = []
    for _ in range(100):
        rows = query(database_url, sql)
        if len(rows) >= count:
            break
        await trio.sleep(0.1)
    return rows


async def admin_get(running: Running, path: str, **params: str) -> Any:
    async with httpx.AsyncClient(base_url=running.base_url) as http:
        response = await http.get(path, headers=ADMIN, params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def stream_between(
    running: Running, api_key: str, before: list[dict[str, Any]], between: dict[str, Any]
) -> list[dict[str, Any]]:
    """Stream the two-utterance recording in real time, the command `between` sent between its
    utterances (`before` right after the handshake); the frames the device got."""
    chunks = plan_chunks(WEBM.read_bytes())
    received: list[dict[str, Any]] = []
    async with open_websocket_url(ws_url(running)) as ws:
        await ws.send_message(json.dumps({"api_key": api_key}))
        for command in before:
            await ws.send_message(json.dumps(command))
        t0 = trio.current_time()

        async def read() -> None:
            while True:
                received.append(json.loads(await ws.get_message()))

        async with trio.open_nursery() as inner:
            inner.start_soon(read)
            sent = False
            for end_at, chunk in chunks:
                if end_at > 4.0 and not sent:  # between the two utterances
                    await ws.send_message(json.dumps(between))
                    sent = True
                await trio.sleep_until(t0 + end_at)
                await ws.send_message(chunk)
            await trio.sleep(2.0)
            inner.cancel_scope.cancel()
    return received


async def test_a_near_miss_name_from_the_first_llm_yields_the_catalog_product(
    nursery: trio.Nursery, database_url: str
) -> None:
    xai, openai = FakeOpenAICompat("xai"), FakeOpenAICompat("openai")
    xai.respond = says("loratadina 10mg")
    running, api_key = await serve(nursery, database_url, ALLERGY, xai, openai)

    run = await stream_file(ws_url(running), api_key, WEBM, linger_s=2.0, atendente="Ana Paula")

    [rec] = frames(run, "recomendar")
    assert (rec["produto"], rec["atendente"]) == ("Loratadina 10 mg", "Ana Paula")
    assert openai.requests == []
    rows = await settled(database_url, "SELECT produto, source, atendente FROM recommendations", 1)
    assert rows == [("Loratadina 10 mg", "xai", "Ana Paula")]
    assert query(database_url, "SELECT atendente FROM sessions") == [("Ana Paula",)]
    assert query(database_url, "SELECT count(*) FROM advice_refusals") == [(0,)]


async def test_off_catalog_answers_from_every_llm_yield_the_catalog_advisors_product(
    nursery: trio.Nursery, database_url: str
) -> None:
    xai, openai = FakeOpenAICompat("xai"), FakeOpenAICompat("openai")
    xai.respond = says("Allegra 180 mg")
    openai.respond = says("Claritin D")
    running, api_key = await serve(nursery, database_url, ALLERGY, xai, openai)

    run = await stream_file(ws_url(running), api_key, WEBM, linger_s=2.0)

    [rec] = frames(run, "recomendar")
    assert rec["produto"] == "Loratadina 10 mg" and rec["atendente"] is None
    rows = await settled(database_url, "SELECT source FROM recommendations", 1)
    assert rows == [("catalog",)]
    refused = await settled(
        database_url, "SELECT provider, model, reason, said FROM advice_refusals ORDER BY id", 2
    )
    assert refused[:2] == [
        ("xai", "grok-4-1-fast-non-reasoning", "produto_desconhecido", "Allegra 180 mg"),
        ("openai", "gpt-4o-mini", "produto_desconhecido", "Claritin D"),
    ]
    listed = await admin_get(running, "/admin/history/refusals", provider="xai")
    assert [item["said"] for item in listed["items"]] == ["Allegra 180 mg"] * len(listed["items"])
    assert listed["items"][0]["reason"] == "produto_desconhecido"
    summary = await admin_get(running, "/admin/history/refusals/summary")
    by_provider = {item["provider"]: item for item in summary["items"]}
    assert by_provider["xai"]["reason"] == "produto_desconhecido"
    assert by_provider["xai"]["recusas"] >= 1 and by_provider["xai"]["respostas"] >= 1
    async with httpx.AsyncClient(base_url=running.base_url) as http:
        scraped = (await http.get("/metrics", headers=ADMIN)).text
    assert (
        'balto_advice_refusals_total{model="grok-4-1-fast-non-reasoning",provider="xai",'
        'reason="produto_desconhecido"}'
    ) in scraped


async def test_two_distinct_red_flags_yield_two_alerts(
    nursery: trio.Nursery, database_url: str
) -> None:
    xai = FakeOpenAICompat("xai")
    xai.respond = says("Sal de Frutas Eno")
    transcripts = [
        "Moça, me dá um antiácido, meu pai está com um aperto no peito.",
        "E agora ele ficou com falta de ar, tá ofegante.",
    ]
    running, api_key = await serve(nursery, database_url, transcripts, xai)

    run = await stream_file(ws_url(running), api_key, WEBM, linger_s=2.0, atendente="Rui")

    alerts = frames(run, "alerta")
    assert [a["sinal"] for a in alerts] == ["dor_no_peito", "falta_de_ar"]
    assert all(a["atendente"] == "Rui" for a in alerts)
    assert frames(run, "recomendar") == [] and xai.requests == []
    rows = await settled(database_url, "SELECT sinal, sinais, atendente FROM alerts", 2)
    assert sorted(rows) == [
        ("dor_no_peito", ["dor_no_peito"], "Rui"),
        ("falta_de_ar", ["falta_de_ar"], "Rui"),
    ]
    listed = await admin_get(running, "/admin/history/alerts")
    assert [item["sinal"] for item in listed["items"]] == ["falta_de_ar", "dor_no_peito"]
    only = await admin_get(running, "/admin/history/alerts", sinal="dor_no_peito")
    assert [item["id"] for item in only["items"]] == [alerts[0]["id"]]
    async with httpx.AsyncClient(base_url=running.base_url) as http:
        scraped = (await http.get("/metrics", headers=ADMIN)).text
    assert 'balto_alerts_total{sinal="falta_de_ar"} 1.0' in scraped


async def test_the_atendente_frame_signs_in_and_out(
    nursery: trio.Nursery, database_url: str
) -> None:
    transcripts = ["Tô com uma dor de cabeça forte.", "E o meu nariz está entupido."]
    running, api_key = await serve(nursery, database_url, transcripts)
    received = await stream_between(
        running,
        api_key,
        [{"comando": "atendente", "nome": "  Ana   Paula "}, {"comando": "atendente", "nome": 42}],
        {"comando": "atendente", "nome": None},
    )

    recs = [f for f in received if f.get("comando") == "recomendar"]
    assert [(r["produto"], r["atendente"]) for r in recs] == [
        ("Neosaldina", "Ana Paula"),
        ("Soro Fisiológico Nasal 0,9%", None),
    ]
    rows = await settled(
        database_url, "SELECT atendente FROM recommendations ORDER BY created_at", 2
    )
    assert rows == [("Ana Paula",), (None,)]
    assert query(database_url, "SELECT atendente FROM sessions") == [(None,)]


async def test_a_suggestion_is_credited_to_who_was_at_the_counter_when_it_was_said(
    nursery: trio.Nursery, database_url: str
) -> None:
    # the LLM answers the first utterance 2.5 s late, when Ana has signed out and Bia in: the
    # suggestion is still Ana's (it was credited by its advice's time, and went to Bia, before)
    xai = FakeOpenAICompat("xai")
    xai.respond = says("Neosaldina")
    xai.hang_next(2.5)
    running, api_key = await serve(nursery, database_url, ["Tô com uma dor de cabeça forte."], xai)
    chunks = plan_chunks(WEBM.read_bytes())
    received: list[dict[str, Any]] = []
    suggested = trio.Event()
    async with open_websocket_url(ws_url(running)) as ws:
        await ws.send_message(json.dumps({"api_key": api_key}))
        await ws.send_message(json.dumps({"comando": "atendente", "nome": "Ana Paula"}))
        t0 = trio.current_time()

        async def read() -> None:
            while True:
                received.append(frame := json.loads(await ws.get_message()))
                if frame.get("comando") == "recomendar":
                    suggested.set()

        async with trio.open_nursery() as inner:
            inner.start_soon(read)
            handed_over = False
            for end_at, chunk in chunks:
                if not handed_over and xai.requests:  # the first utterance is being advised
                    await ws.send_message(json.dumps({"comando": "atendente", "nome": "Bia"}))
                    handed_over = True
                await trio.sleep_until(t0 + end_at)
                await ws.send_message(chunk)
            with trio.fail_after(10):
                await suggested.wait()
            inner.cancel_scope.cancel()
    assert handed_over
    recs = [f for f in received if f.get("comando") == "recomendar"]
    assert [(r["produto"], r["atendente"]) for r in recs][:1] == [("Neosaldina", "Ana Paula")]
    rows = await settled(database_url, "SELECT atendente FROM recommendations", 1)
    assert rows[0] == ("Ana Paula",)
    assert query(database_url, "SELECT atendente FROM sessions") == [("Bia",)]


async def test_the_next_customer_is_alerted_on_the_sign_the_last_one_was_alerted_on(
    nursery: trio.Nursery, database_url: str
) -> None:
    # a counter session lasts a shift: the device's novo_atendimento between two customers with
    # chest pain gets the second one her own alert (once per connection before atendimentos)
    transcripts = [
        "Moço, tô com uma dor no peito forte que vai pro braço.",
        "Bom dia, eu tô com uma dor no peito desde cedo.",
    ]
    running, api_key = await serve(nursery, database_url, transcripts)
    received = await stream_between(running, api_key, [], {"comando": "novo_atendimento"})

    alerts = [f for f in received if f.get("comando") == "alerta"]
    assert [a["sinal"] for a in alerts] == ["dor_no_peito", "dor_no_peito"]
    rows = await settled(
        database_url, "SELECT novo_atendimento FROM segments ORDER BY audio_start", 2
    )
    assert rows == [(None,), ("balcao",)]
    [session_id] = [row[0] for row in query(database_url, "SELECT id::text FROM sessions")]
    timeline = await admin_get(running, f"/admin/history/conversas/{session_id}")
    said = [item for item in timeline["itens"] if item["tipo"] == "fala"]
    assert [item["novo_atendimento"] for item in said] == [None, "balcao"]
    segments = await admin_get(running, "/admin/history/segments")
    assert sorted(item["novo_atendimento"] or "" for item in segments["items"]) == ["", "balcao"]
