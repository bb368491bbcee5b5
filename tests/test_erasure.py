"""Erasing what was said (LGPD) over real HTTP and PostgreSQL: one ended conversation on request
(counts kept, asked twice, live refused, audited; a write that reaches it later stays blank), and
the retention task erasing everything older than its period, in steps, when a server starts with
``BALTO_RETENTION_DAYS``."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import openpyxl
import pytest
import trio

from balto.config import Settings
from balto.errors import ConfigError
from balto.store import open_database
from balto.store.erasure import BATCH
from balto.store.retention import erase_round
from tests.admin_seed import BASE, SEGMENTS_PER_SESSION, seed
from tests.conftest import ADMIN, query, start_server


def _said_elsewhere(database_url: str, session_id: str) -> None:
    """An alert, an STT comparison and a refused advisor answer quoting what was said."""
    segment = query(
        database_url, "SELECT id FROM segments WHERE session_id = %s LIMIT 1", session_id
    )[0][0]
    query(
        database_url,
        "INSERT INTO alerts (id, session_id, segment_id, sinal, motivo, orientacao,"
        " transcricao_base, created_at) VALUES (%s, %s, %s, 'dor_no_peito', 'Dor no peito',"
        " 'Procure atendimento.', 'meu pai tem dor no peito', %s)",
        str(uuid.uuid4()),
        session_id,
        segment,
        BASE,
    )
    query(
        database_url,
        "INSERT INTO stt_comparisons (session_id, segment_id, primary_provider, primary_model,"
        " primary_text, primary_latency_ms, primary_cost_usd, secondary_provider,"
        " secondary_model, secondary_ok, secondary_text, secondary_latency_ms, created_at)"
        " VALUES (%s, %s, 'elevenlabs', 'scribe_v2', 'meu pai tem dor', 300, 0, 'openai',"
        " 'whisper-1', true, 'meu pai tem dor', 400, %s)",
        session_id,
        segment,
        BASE,
    )
    query(
        database_url,
        "INSERT INTO advice_refusals (session_id, segment_id, provider, model, reason, said,"
        " created_at) VALUES (%s, %s, 'openai', 'gpt', 'off_catalog', 'Tome Rivotril', %s)",
        session_id,
        segment,
        BASE,
    )


def _texts(database_url: str, session_id: str) -> list[object]:
    """Every text said in the session, wherever it is kept."""
    rows = query(
        database_url,
        "SELECT transcript FROM segments WHERE session_id = %s"
        " UNION ALL SELECT transcricao_base FROM recommendations WHERE session_id = %s"
        " UNION ALL SELECT transcricao_base FROM alerts WHERE session_id = %s"
        " UNION ALL SELECT primary_text FROM stt_comparisons WHERE session_id = %s"
        " UNION ALL SELECT secondary_text FROM stt_comparisons WHERE session_id = %s"
        " UNION ALL SELECT said FROM advice_refusals WHERE session_id = %s",
        *[session_id] * 6,
    )
    return [row[0] for row in rows]


async def test_an_ended_conversation_is_erased_on_request_and_stays_erased(
    nursery: trio.Nursery, database_url: str
) -> None:
    running = await start_server(nursery, database_url)
    ids = seed(database_url)
    query(database_url, "UPDATE sessions SET ended_at = %s WHERE id <> %s", BASE, ids["s3"])
    _said_elsewhere(database_url, ids["s1"])
    url = f"/admin/history/conversas/{ids['s1']}"
    async with httpx.AsyncClient(base_url=running.base_url, headers=ADMIN) as http:
        before = (await http.get(url)).json()
        assert before["sessao"]["falas_apagadas_em"] is None

        erased = await http.delete(url)
        assert erased.status_code == 200, erased.text
        body = erased.json()
        assert {k: body[k] for k in ("falas", "recomendacoes", "alertas", "comparacoes")} == {
            "falas": SEGMENTS_PER_SESSION,
            "recomendacoes": SEGMENTS_PER_SESSION,
            "alertas": 1,
            "comparacoes": 1,
        }
        assert body["recusas"] == 1 and body["session_id"] == ids["s1"]
        assert set(_texts(database_url, ids["s1"])) <= {None, ""}
        assert "b2 fala 0" in _texts(database_url, ids["s2"])  # another conversation: kept

        after = (await http.get(url)).json()
        sessao = after["sessao"]
        assert sessao["falas_apagadas_em"] == body["apagado_em"]
        assert (sessao["falas"], sessao["recomendacoes"], sessao["alertas"]) == (5, 5, 1)
        produtos = [i["produto"] for i in after["itens"] if i["tipo"] == "recomendacao"]
        assert len(produtos) == SEGMENTS_PER_SESSION and all(produtos)  # what was suggested stays
        assert [i["texto"] for i in after["itens"] if i["tipo"] == "fala"] == [None] * 5

        report = await http.get("/api/export/xlsx", params={"desde": "2026-03-01"})
        sheet = openpyxl.load_workbook(io.BytesIO(report.content))["Interações"]
        said = {row[5] for row in sheet.iter_rows(values_only=True) if row[-1] == ids["s1"]}
        assert said == {"(fala apagada)"}  # a manager reads why the cell is empty

        again = (await http.delete(url)).json()  # nothing left: zeros, the first time kept
        assert again["apagado_em"] == body["apagado_em"] and again["falas"] == 0

        live = await http.delete(f"/admin/history/conversas/{ids['s3']}")
        assert live.status_code == 409 and live.json()["error"] == "live"
        assert "b3 fala 0" in _texts(database_url, ids["s3"])
        for missing in (str(uuid.uuid4()), "nao-e-uuid"):
            gone = await http.delete(f"/admin/history/conversas/{missing}")
            assert gone.status_code == 404 and gone.json()["error"] == "not_found"
        audit = (await http.get("/admin/audit")).json()["items"]
        erasures = [a for a in audit if a["action"] == "erase_conversation"]
        assert [a["session_id"] for a in erasures] == [ids["s1"]] * 2
        assert erasures[-1]["detail"]["erased"]["falas"] == SEGMENTS_PER_SESSION

    # the recorder replaying a spool after an outage writes into the erased conversation
    late = str(uuid.uuid4())
    query(
        database_url,
        "INSERT INTO segments (id, session_id, seq, audio_start, audio_end, status, transcript)"
        " VALUES (%s, %s, 99, 0, 1, 'transcribed', 'meu CPF é 123')",
        late,
        ids["s1"],
    )
    query(
        database_url, "UPDATE segments SET transcript = 'de novo' WHERE session_id = %s", ids["s1"]
    )
    _said_elsewhere(database_url, ids["s1"])
    assert set(_texts(database_url, ids["s1"])) <= {None, ""}


async def test_the_retention_task_erases_what_is_older_than_its_period(
    nursery: trio.Nursery, database_url: str
) -> None:
    await start_server(nursery, database_url)  # migrates the database
    ids = seed(database_url)  # March 2026: long past 30 days
    _said_elsewhere(database_url, ids["s2"])
    fresh = str(uuid.uuid4())
    query(
        database_url,
        "INSERT INTO segments (id, session_id, seq, audio_start, audio_end, status, transcript)"
        " VALUES (%s, %s, 50, 0, 1, 'transcribed', 'dito hoje')",
        fresh,
        ids["s1"],
    )
    await start_server(nursery, database_url, BALTO_RETENTION_DAYS="30")  # erases at start
    said = "SELECT count(*) FROM segments WHERE transcript IS NOT NULL"
    with trio.fail_after(15):
        while query(database_url, said) != [(1,)]:  # noqa: ASYNC110 - polling the database
            await trio.sleep(0.1)
    assert query(database_url, "SELECT transcript FROM segments WHERE id = %s", fresh) == [
        ("dito hoje",)
    ]
    old = query(database_url, "SELECT count(*) FROM segments WHERE transcript IS NULL AND seq < 50")
    assert old == [(3 * SEGMENTS_PER_SESSION,)]
    assert set(_texts(database_url, ids["s2"])) <= {None, ""}
    # nothing but the texts: products, reasons and feedback stand
    assert query(database_url, "SELECT count(*) FROM recommendations WHERE produto <> ''") == [
        (3 * SEGMENTS_PER_SESSION,)
    ]


async def test_a_retention_round_erases_in_steps_until_nothing_older_is_left(
    database_url: str, nursery: trio.Nursery
) -> None:
    await start_server(nursery, database_url)  # migrates the database
    ids = seed(database_url)
    count = 2 * BATCH + 7
    query(
        database_url,
        "INSERT INTO segments (id, session_id, seq, audio_start, audio_end, status, transcript,"
        " created_at) SELECT gen_random_uuid(), %s, 100 + n, 0, 1, 'transcribed', 'fala ' || n,"
        " %s FROM generate_series(1, %s) AS n",
        ids["s1"],
        datetime.now(UTC) - timedelta(days=3),
        count,
    )
    async with open_database(database_url) as db:
        erased = await erase_round(db, 2)
        assert erased["falas"] == count + 3 * SEGMENTS_PER_SESSION
        assert (await erase_round(db, 2))["falas"] == 0
    assert query(database_url, "SELECT count(*) FROM segments WHERE transcript IS NOT NULL") == [
        (0,)
    ]


@pytest.mark.parametrize("value", ["-1", "1.5", "36501", "um mês"])
def test_a_retention_that_is_not_a_whole_number_of_days_is_refused(value: str) -> None:
    with pytest.raises(ConfigError, match="BALTO_RETENTION_DAYS"):
        Settings.from_env({"BALTO_RETENTION_DAYS": value})
    assert Settings.from_env({"BALTO_RETENTION_DAYS": "365"}).retention_days == 365
