"""Acceptance through the whole server: both STT down, every LLM down, red flags, prescription
products, personal data, and costs that add up (real server, PostgreSQL, ffmpeg, loopback fakes)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import trio

from balto.device import DeviceRun, stream_file
from balto.store import open_database
from balto.store.costs import balcao_costs, cliente_costs, session_costs
from tests.conftest import FIXTURES, query, register_balcao, start_server, ws_url
from tests.fakes.assemblyai import FakeAssemblyAI
from tests.fakes.elevenlabs import FakeElevenLabs
from tests.fakes.openai_compat import FakeOpenAICompat
from tests.fakes.wiring import provider_env

WEBM = FIXTURES / "two_utterances.webm"


def frames(run: DeviceRun, comando: str) -> list[dict[str, Any]]:
    return [frame for _, frame in run.frames if frame.get("comando") == comando]


async def settle(database_url: str, segments: int = 2) -> None:
    """Wait until every segment has left `pending` (the drain ends after the socket closes)."""
    for _ in range(100):
        rows = query(database_url, "SELECT status FROM segments")
        if len(rows) == segments and all(status != "pending" for (status,) in rows):
            break
        await trio.sleep(0.1)
    await trio.sleep(0.3)


async def test_both_stt_down_every_segment_failed_with_reason_and_the_session_lives_on(
    nursery: trio.Nursery, database_url: str
) -> None:
    eleven, aai = FakeElevenLabs(), FakeAssemblyAI()
    eleven.fail_next(503, times=50)
    aai.fail_next(500, times=50)
    env = await provider_env(nursery, stt=eleven, assemblyai=aai)
    running = await start_server(nursery, database_url, **env)
    api_key, _ = await register_balcao(running.base_url)

    run = await stream_file(ws_url(running), api_key, WEBM, linger_s=1.0)

    assert run.close_code == 1000
    await settle(database_url)
    rows = query(database_url, "SELECT status, error FROM segments ORDER BY seq")
    assert len(rows) == 2
    for status, error in rows:
        assert status == "failed"
        assert "elevenlabs: server: HTTP 503" in error and "assemblyai: server: HTTP 500" in error
    async with httpx.AsyncClient(base_url=running.base_url) as http:
        assert (await http.get("/readyz")).status_code == 200


async def test_every_llm_down_the_catalog_still_answers(
    nursery: trio.Nursery, database_url: str
) -> None:
    stt = FakeElevenLabs(
        transcripts=[
            "Bom dia, eu estou com uma dor de cabeça muito forte desde ontem.",
            "E o meu filho está com o nariz entupido, o que a senhora tem?",
        ]
    )
    xai, openai = FakeOpenAICompat("xai"), FakeOpenAICompat("openai")
    xai.fail_next(500, times=50)
    openai.hang_next(60.0, times=50)
    env = await provider_env(nursery, stt=stt, llms=[xai, openai])
    running = await start_server(nursery, database_url, BALTO_LLM_TIMEOUT="0.5", **env)
    api_key, _ = await register_balcao(running.base_url)

    run = await stream_file(ws_url(running), api_key, WEBM, linger_s=2.5)

    assert [f["produto"] for f in frames(run, "recomendar")] == [
        "Dipirona Monoidratada 500 mg",
        "Soro Fisiológico Nasal 0,9%",
    ]
    assert query(database_url, "SELECT DISTINCT source FROM recommendations") == [("catalog",)]


async def test_red_flag_dialogue_yields_an_alert_and_no_product(
    nursery: trio.Nursery, database_url: str
) -> None:
    stt = FakeElevenLabs(
        transcripts=[
            "Bom dia, o meu pai está com uma dor no peito muito forte e falta de ar.",
            "Ele também está com dor de cabeça, o que a senhora tem?",
        ]
    )
    llm = FakeOpenAICompat("xai")
    llm.respond = lambda body: {
        "recomendar": True,
        "produto": "Dipirona Monoidratada 500 mg",
        "explicacao": "Dor.",
    }
    env = await provider_env(nursery, stt=stt, llm=llm)
    running = await start_server(nursery, database_url, **env)
    api_key, _ = await register_balcao(running.base_url)

    run = await stream_file(ws_url(running), api_key, WEBM, linger_s=2.0)

    assert frames(run, "recomendar") == []
    [alert] = frames(run, "alerta")
    assert alert["sinal"] == "dor_no_peito" and alert["tipo"] == "encaminhamento"
    assert "SAMU 192" in alert["orientacao"] and "dor no peito" in alert["transcricao_base"]
    assert set(alert) == {
        "comando",
        "id",
        "tipo",
        "sinal",
        "motivo",
        "orientacao",
        "transcricao_base",
        "atendente",
    }
    assert llm.requests == []  # no product was even asked for
    await settle(database_url)
    rows = query(database_url, "SELECT id::text, sinal, sent_at IS NOT NULL FROM alerts")
    assert rows == [(alert["id"], "dor_no_peito", True)]
    assert query(database_url, "SELECT count(*) FROM recommendations") == [(0,)]


async def test_an_antibiotic_request_never_yields_a_prescription_product(
    nursery: trio.Nursery, database_url: str
) -> None:
    stt = FakeElevenLabs(
        transcripts=[
            "Bom dia, eu preciso de um antibiótico, amoxicilina, para uma infecção.",
            "E um calmante forte, um rivotril, a senhora tem?",
        ]
    )
    llm = FakeOpenAICompat("openai")
    picks = iter(["Amoxicilina 500 mg", "Clonazepam 2 mg"])
    llm.respond = lambda body: {"recomendar": True, "produto": next(picks), "explicacao": "x"}
    env = await provider_env(nursery, stt=stt, llm=llm)
    running = await start_server(nursery, database_url, **env)
    api_key, _ = await register_balcao(running.base_url)

    run = await stream_file(ws_url(running), api_key, WEBM, linger_s=2.0)

    assert frames(run, "recomendar") == []
    assert len(llm.requests) == 2
    for request in llm.requests:  # the model is not even offered them
        offered = request.body["messages"][0]["content"]
        assert "Amoxicilina" not in offered and "Clonazepam" not in offered
    assert query(database_url, "SELECT count(*) FROM recommendations") == [(0,)]


PLANTED = [
    "123.456.789-09",
    "12345678909",
    "(11) 98765-4321",
    "98765-4321",
    "987654321",
    "joao.silva@gmail.com",
    "joao.silva",
]


async def test_cpf_phone_and_email_never_reach_the_llm_nor_the_database(
    nursery: trio.Nursery, database_url: str
) -> None:
    stt = FakeElevenLabs(
        transcripts=[
            "Meu CPF é 123.456.789-09, telefone (11) 98765-4321, estou com dor de cabeça.",
            "O e-mail é joao.silva@gmail.com e meu filho está com o nariz entupido.",
        ]
    )
    aai = FakeAssemblyAI(default_text="Meu CPF é 123 456 789 09, dor de cabeça.")
    llm = FakeOpenAICompat("xai")
    llm.respond = lambda body: {"recomendar": False, "produto": "", "explicacao": ""}
    env = await provider_env(nursery, stt=stt, assemblyai=aai, llm=llm)
    running = await start_server(nursery, database_url, **env)
    api_key, _ = await register_balcao(running.base_url)

    run = await stream_file(ws_url(running), api_key, WEBM, linger_s=2.0)
    await settle(database_url)

    sent = json.dumps([r.body for r in llm.requests], ensure_ascii=False)
    assert len(llm.requests) == 2 and "[CPF]" in sent and "[EMAIL]" in sent
    for item in PLANTED:
        assert item not in sent
    dump = json.dumps(
        [
            query(database_url, f"SELECT to_jsonb(t)::text FROM {table} t")
            for table in ("segments", "recommendations", "alerts", "stt_comparisons")
        ],
        ensure_ascii=False,
    )
    assert "[TELEFONE]" in dump
    for item in PLANTED:
        assert item not in dump
    for _, frame in run.frames:
        for item in PLANTED:
            assert item not in json.dumps(frame, ensure_ascii=False)


async def test_costs_per_call_match_hand_computed_values_and_add_up(
    nursery: trio.Nursery, database_url: str
) -> None:
    stt = FakeElevenLabs(
        transcripts=[
            "Bom dia, eu estou com uma dor de cabeça muito forte desde ontem.",
            "E o meu filho está com o nariz entupido, o que a senhora tem?",
        ]
    )
    llm = FakeOpenAICompat("xai")
    llm.usage = (1000, 50)
    env = await provider_env(nursery, stt=stt, llm=llm)
    running = await start_server(nursery, database_url, **env)
    api_key, balcao_id = await register_balcao(running.base_url)

    await stream_file(ws_url(running), api_key, WEBM, linger_s=2.0)
    await settle(database_url)

    calls = query(
        database_url,
        "SELECT kind, provider, audio_seconds, input_tokens, output_tokens, cost_usd::float8"
        " FROM provider_calls ORDER BY id",
    )
    expected_total = 0.0
    for kind, provider, audio_s, tokens_in, tokens_out, cost in calls:
        if kind == "stt":
            # ElevenLabs scribe_v2: $0.22 per audio hour
            expected = 0.22 * audio_s / 3600
        else:
            # xAI grok-4-1-fast-non-reasoning: $0.20 / 1M in, $0.50 / 1M out
            assert (tokens_in, tokens_out) == (1000, 50)
            expected = (1000 * 0.20 + 50 * 0.50) / 1_000_000  # = 0.000225
        assert cost == pytest.approx(expected, abs=1e-8), (provider, cost, expected)
        expected_total += expected
    assert [(k, p) for k, p, *_ in calls] == [("stt", "elevenlabs"), ("llm", "xai")] * 2
    ((session_id, cliente_id),) = query(
        database_url,
        "SELECT s.id::text, b.cliente_id::text"
        " FROM sessions s JOIN balcoes b ON b.id = s.balcao_id",
    )
    async with open_database(database_url) as db:
        per_session = await db.run(session_costs, session_id)
        per_balcao = await db.run(balcao_costs, balcao_id)
        per_cliente = await db.run(cliente_costs, cliente_id)
    assert per_session == per_balcao == per_cliente
    assert per_session.calls == 4 and per_session.input_tokens == 2000
    assert per_session.llm_usd == pytest.approx(2 * 0.000225, abs=1e-8)
    assert per_session.total_usd == pytest.approx(expected_total, abs=4e-8)
