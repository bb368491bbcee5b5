"""Comparison mode, feedback, per-cliente catalogs and cost totals against real PostgreSQL."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
import trio

from actors.advisor import run_advisor
from actors.context import ActorContext, ActorHealth, SessionInfo
from actors.feedback import handle_command
from actors.transcriber import run_transcriber
from balto.catalog import Catalog
from balto.catalog.csv_import import catalog_from_csv
from balto.messages import Recommendation, Segment, Transcript
from balto.pricing import DEFAULT_PRICING
from balto.providers.assemblyai import AssemblyAITranscriber
from balto.providers.breaker import Breaker, BreakerPolicy
from balto.providers.catalog_advisor import CatalogAdvisor
from balto.providers.elevenlabs import ElevenLabsScribe
from balto.providers.guard import GuardedStt, RetryPolicy
from balto.recorder import DirectRecorder
from balto.store import Database, open_database
from balto.store.advice import add_alert, save_cliente_catalog
from balto.store.cadastro import create_balcao, create_cliente
from balto.store.catalogs import ClienteCatalogs
from balto.store.costs import balcao_costs, cliente_costs, session_costs
from balto.store.sessions import (
    ProviderCall,
    add_provider_call,
    add_recommendation,
    add_segment,
    open_session,
)
from tests.conftest import query
from tests.fakes.assemblyai import FakeAssemblyAI
from tests.fakes.elevenlabs import FakeElevenLabs
from tests.fakes.server import serve_app
from tests.painel_sums import sums_mismatch_at


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    async with open_database(database_url) as database:
        yield database


@dataclass
class Where:
    cliente_id: str
    balcao_id: str
    session_id: str

    def ctx(self, actor: str) -> ActorContext:
        info = SessionInfo(self.session_id, self.balcao_id, self.cliente_id, "Balcão 1")
        return ActorContext(info, ActorHealth(actor))


async def new_session(db: Database, database_url: str, cliente_codigo: str | None = None) -> Where:
    codigo = cliente_codigo or await db.run(create_cliente, "a@b.com", "Rede", "1133334444")
    created = await db.run(create_balcao, codigo, "Balcão 1")
    assert created is not None
    _, balcao_id = created
    session_id = str(uuid.uuid4())
    await db.run(open_session, session_id, balcao_id)
    [(cliente_id,)] = query(
        database_url, "SELECT cliente_id::text FROM balcoes WHERE id = %s", balcao_id
    )
    return Where(cliente_id, balcao_id, session_id)


def segment(seq: int) -> Segment:
    return Segment(
        str(uuid.uuid4()), seq, b"\x01\x00" * 16_000, 16_000, seq * 2.0, seq * 2.0 + 1, 0.0
    )


async def test_comparison_stores_both_transcripts_latency_cost_and_wer(
    nursery: trio.Nursery, db: Database, database_url: str
) -> None:
    eleven = FakeElevenLabs(transcripts=["dor de cabeça muito forte", "nariz entupido"])
    aai = FakeAssemblyAI(transcripts=["flor de cabeça muito", "nariz entupido"])
    where = await new_session(db, database_url)
    policy = RetryPolicy(budget_s=2.0)
    async with httpx.AsyncClient() as http:
        common = {"pricing": DEFAULT_PRICING, "http": http, "timeout_s": 2.0}
        primary = ElevenLabsScribe(
            api_key=eleven.api_key,
            base_url=await serve_app(nursery, eleven.app),
            model="scribe_v2",
            **common,  # type: ignore[arg-type]
        )
        secondary = AssemblyAITranscriber(
            api_key=aai.api_key,
            base_url=await serve_app(nursery, aai.app),
            poll_interval_s=0.01,
            **common,  # type: ignore[arg-type]
        )
        chain = [
            GuardedStt(p, Breaker(p.name, BreakerPolicy()), policy) for p in (primary, secondary)
        ]
        seg_tx, seg_rx = trio.open_memory_channel[Segment](4)
        text_tx, text_rx = trio.open_memory_channel[Transcript](4)
        async with seg_tx:
            for seq in range(2):
                await seg_tx.send(segment(seq))
        await run_transcriber(
            seg_rx,
            text_tx,
            where.ctx("transcriber"),
            stt=chain,
            recorder=DirectRecorder(db),
            compare_share=1.0,
        )
    texts = [t.text async for t in text_rx]
    assert texts == ["dor de cabeça muito forte", "nariz entupido"]  # the primary's, at once
    rows = query(
        database_url,
        "SELECT primary_provider, primary_text, secondary_provider, secondary_model,"
        " secondary_text, secondary_ok, wer, secondary_cost_usd::float8,"
        " primary_cost_usd::float8, primary_latency_ms > 0, secondary_latency_ms > 0"
        " FROM stt_comparisons ORDER BY id",
    )
    assert sorted(rows, key=lambda r: r[1]) == [
        (
            "elevenlabs", "dor de cabeça muito forte", "assemblyai", "universal-3-5-pro",
            "flor de cabeça muito", True, 2 / 5, pytest.approx(0.21 / 3600, abs=1e-8),
            pytest.approx(0.22 / 3600, abs=1e-8), True, True,
        ),
        (
            "elevenlabs", "nariz entupido", "assemblyai", "universal-3-5-pro",
            "nariz entupido", True, 0.0, pytest.approx(0.21 / 3600, abs=1e-8),
            pytest.approx(0.22 / 3600, abs=1e-8), True, True,
        ),
    ]  # fmt: skip
    assert aai.jobs and all(j.request["language_code"] == "pt" for j in aai.jobs.values())
    assert all(
        j.request["speech_models"] == ["universal-3-5-pro", "universal-2"]
        for j in aai.jobs.values()
    )
    totals = await db.run(session_costs, where.session_id)
    assert totals.calls == 4
    assert totals.stt_usd == pytest.approx(2 * (0.22 + 0.21) / 3600, abs=4e-8)


async def test_feedback_is_stored_against_this_balcaos_recommendation(
    db: Database, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    where = await new_session(db, database_url)
    other = await new_session(db, database_url)
    rec_id = str(uuid.uuid4())
    await db.run(
        add_recommendation,
        recommendation_id=rec_id,
        session_id=where.session_id,
        segment_id=None,
        produto="Dorflex",
        explicacao="x",
        transcricao_base="y",
        atendente=None,
        source="catalog",
    )
    ctx = where.ctx("receiver")
    for bad in (
        {"comando": "feedback", "id": rec_id, "aceita": "sim"},
        {"comando": "feedback", "id": 42, "aceita": True},
        {"comando": "feedback", "id": "not-a-uuid", "aceita": True},
        {"comando": "feedback", "id": str(uuid.uuid4()), "aceita": True},
        {"comando": "outra_coisa"},
        # the device's text in the log, quoted: no forged line
        {"comando": "feedback", "id": "x\n2026-12-06 ERROR forjado", "aceita": True},
    ):
        await handle_command(bad, ctx, DirectRecorder(db))
    await handle_command(
        {"comando": "feedback", "id": rec_id, "aceita": True}, other.ctx("r"), DirectRecorder(db)
    )
    assert query(database_url, "SELECT aceita FROM recommendations") == [(None,)]

    await handle_command(
        {"comando": "feedback", "id": rec_id, "aceita": False}, ctx, DirectRecorder(db)
    )

    assert query(database_url, "SELECT aceita, feedback_at IS NOT NULL FROM recommendations") == [
        (False, True)
    ]

    assert not [r for r in caplog.records if "\n" in r.getMessage()]
    # Python reads other spellings of a UUID than PostgreSQL does: the id is stored canonical
    await handle_command(
        {"comando": "feedback", "id": f"urn:uuid:{rec_id.upper()}", "aceita": True},
        ctx,
        DirectRecorder(db),
    )
    assert query(database_url, "SELECT aceita FROM recommendations") == [(True,)]
    assert sums_mismatch_at(database_url) == 0  # the Painel's acceptance followed each change


async def test_an_alerts_guidance_given_is_stored_once_for_this_balcao(
    db: Database, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    where = await new_session(db, database_url)
    other = await new_session(db, database_url)
    alert_id = str(uuid.uuid4())
    await db.run(
        add_alert,
        alert_id=alert_id,
        session_id=where.session_id,
        segment_id=None,
        sinal="dor_no_peito",
        motivo="Dor ou aperto no peito",
        orientacao="Procure atendimento médico agora.",
        transcricao_base="meu pai está com dor no peito",
    )
    ctx = where.ctx("receiver")
    for bad in (
        {"comando": "orientado"},
        {"comando": "orientado", "id": 42},
        {"comando": "orientado", "id": ""},
        {"comando": "orientado", "id": "not-a-uuid"},
        {"comando": "orientado", "id": str(uuid.uuid4())},
        {"comando": "orientado", "id": "x\n2026-12-07 ERROR forjado"},
    ):
        await handle_command(bad, ctx, DirectRecorder(db))
    # another balcão cannot say it for this one's alert
    await handle_command(
        {"comando": "orientado", "id": alert_id}, other.ctx("r"), DirectRecorder(db)
    )
    assert query(database_url, "SELECT orientado_em FROM alerts") == [(None,)]

    await handle_command(
        {"comando": "orientado", "id": f"urn:uuid:{alert_id.upper()}"}, ctx, DirectRecorder(db)
    )
    [(first,)] = query(database_url, "SELECT orientado_em FROM alerts")
    assert first is not None
    await trio.sleep(0.01)
    await handle_command({"comando": "orientado", "id": alert_id}, ctx, DirectRecorder(db))
    assert query(database_url, "SELECT orientado_em FROM alerts") == [(first,)]  # the first stays
    assert not [r for r in caplog.records if "\n" in r.getMessage()]
    assert sums_mismatch_at(database_url) == 0


async def test_the_advisor_uses_the_clientes_imported_catalog(
    db: Database, database_url: str
) -> None:
    where = await new_session(db, database_url)
    csv = (
        "nome,categoria,indicacoes,explicacao\n"
        "Cefaliv Genérico,analgésico,dor de cabeça,Genérico da casa.\n"
    )
    await db.run(save_cliente_catalog, where.cliente_id, catalog_from_csv(csv), "test.csv")
    text_tx, text_rx = trio.open_memory_channel[Transcript](4)
    rec_tx, rec_rx = trio.open_memory_channel[Recommendation](4)
    segment_id = str(uuid.uuid4())
    await db.run(add_segment, segment_id, where.session_id, 0, 0.0, 1.0)
    async with text_tx:
        await text_tx.send(Transcript(segment_id, "Estou com dor de cabeça", "x", 0, 1))
    await run_advisor(
        text_rx,
        rec_tx,
        where.ctx("advisor"),
        advisors=[CatalogAdvisor()],
        catalog=Catalog.load(),
        recorder=DirectRecorder(db),
        catalogs=ClienteCatalogs(db),
    )
    assert [r.produto async for r in rec_rx] == ["Cefaliv Genérico"]


async def test_cost_totals_per_session_balcao_and_cliente(db: Database, database_url: str) -> None:
    a1 = await new_session(db, database_url)
    codigo = query(database_url, "SELECT codigo FROM clientes WHERE id = %s", a1.cliente_id)[0][0]
    a2 = await new_session(db, database_url, codigo)  # same cliente, another balcão
    b1 = await new_session(db, database_url)  # another cliente
    stt = ProviderCall("stt", "elevenlabs", "scribe_v2", True, 300.0, 0.00011, audio_seconds=1.8)
    llm = ProviderCall(
        "llm", "xai", "grok", True, 500.0, 0.000225, input_tokens=1000, output_tokens=50
    )
    failed = ProviderCall("stt", "assemblyai", "u", False, 100.0, 0.0, "server", "HTTP 500")
    for where, calls in ((a1, [stt, llm, failed]), (a2, [stt, stt]), (b1, [llm])):
        for call in calls:
            await db.run(add_provider_call, call, session_id=where.session_id, segment_id=None)

    s1 = await db.run(session_costs, a1.session_id)
    assert (s1.calls, s1.failed_calls) == (3, 1)
    assert s1.stt_usd == pytest.approx(0.00011) and s1.llm_usd == pytest.approx(0.000225)
    assert s1.total_usd == pytest.approx(0.000335)
    assert s1.audio_seconds == pytest.approx(1.8) and (s1.input_tokens, s1.output_tokens) == (
        1000,
        50,
    )
    assert (await db.run(balcao_costs, a2.balcao_id)).total_usd == pytest.approx(0.00022)
    cliente_a = await db.run(cliente_costs, a1.cliente_id)
    assert cliente_a.calls == 5 and cliente_a.total_usd == pytest.approx(0.000335 + 0.00022)
    assert (await db.run(cliente_costs, b1.cliente_id)).total_usd == pytest.approx(0.000225)
