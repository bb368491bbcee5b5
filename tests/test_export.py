"""``GET /api/export/xlsx`` after a scripted run: sheets, headers and rows read back with openpyxl;
filters; text that looks like a formula stays text; bad parameters are 400."""

from __future__ import annotations

import io
from typing import Any

import httpx
import openpyxl
import trio

from balto.device import stream_file
from balto.store.export import COMPARATIVO, CUSTOS, INTERACOES
from tests.conftest import ADMIN, FIXTURES, query, register_balcao, start_server, ws_url
from tests.fakes.assemblyai import FakeAssemblyAI
from tests.fakes.elevenlabs import FakeElevenLabs
from tests.fakes.wiring import provider_env

WAV = FIXTURES / "two_utterances.wav"
TEXTS = [
    "Bom dia, eu estou com uma dor de cabeça muito forte desde ontem.",
    "E o meu filho está com o nariz entupido, o que a senhora tem?",
]


async def _until(database_url: str, sql: str, expected: int) -> None:
    with trio.fail_after(10):
        for _ in range(100):  # the server writes as the session drains: poll the database
            if query(database_url, sql)[0][0] >= expected:
                break
            await trio.sleep(0.1)
    await trio.sleep(0.3)


async def _export(base_url: str, **params: str) -> openpyxl.Workbook:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        response = await http.get("/api/export/xlsx", headers=ADMIN, params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert response.headers["content-disposition"].startswith("attachment; filename=")
    assert int(response.headers["content-length"]) == len(response.content)
    return openpyxl.load_workbook(io.BytesIO(response.content))


def _rows(workbook: openpyxl.Workbook, sheet: str) -> list[tuple[Any, ...]]:
    return list(workbook[sheet].iter_rows(values_only=True))


async def test_export_of_a_scripted_run(nursery: trio.Nursery, database_url: str) -> None:
    stt = FakeElevenLabs(transcripts=list(TEXTS))
    aai = FakeAssemblyAI(default_text="bom dia eu estou com dor de cabeça")
    env = await provider_env(nursery, stt=stt, assemblyai=aai)
    running = await start_server(nursery, database_url, BALTO_STT_COMPARE_SHARE="1", **env)
    api_key, balcao_id = await register_balcao(running.base_url)
    run = await stream_file(ws_url(running), api_key, WAV, linger_s=1.0)
    assert run.close_code == 1000
    await _until(database_url, "SELECT count(*) FROM stt_comparisons", 2)
    query(database_url, "UPDATE recommendations SET aceita = true, feedback_at = now()")
    recs = query(database_url, "SELECT count(*) FROM recommendations")[0][0]
    assert recs >= 1

    book = await _export(running.base_url)
    assert book.sheetnames == ["Resumo", "Interações", "Alertas", "Custos", "Comparativo STT"]
    interacoes = _rows(book, "Interações")
    assert interacoes[0] == INTERACOES
    assert [row[5] for row in interacoes[1:]] == TEXTS
    at = {title: i for i, title in enumerate(INTERACOES)}
    stt_ms, rec_ms = at["latência STT (ms)"], at["latência recomendação (ms)"]
    for row in interacoes[1:]:
        assert row[1:4] == ("Rede Pharma LTDA", None, "Balcão Entrada 01")  # no store
        assert row[0].year >= 2026 and row[stt_ms] > 0 and row[at["provedor STT"]] == "elevenlabs"
        assert row[at["cuidados"]] is None  # nothing said rules a product out
    with_product = [row for row in interacoes[1:] if row[6]]
    assert len(with_product) == recs
    assert all(row[8] == "aceita" and row[7] and row[rec_ms] > 0 for row in with_product)

    custos = _rows(book, "Custos")
    assert custos[0] == CUSTOS
    by_provider = {row[1]: row for row in custos[1:]}
    assert set(by_provider) == {"elevenlabs", "assemblyai", "catalog"}  # catalog: the advisor
    for name in ("elevenlabs", "assemblyai"):
        row = by_provider[name]
        assert row[2] == "stt" and row[5] == "Balcão Entrada 01" and row[6] == 2 and row[8] > 0
        assert row[11] > 0  # USD from the pricing table
    assert by_provider["catalog"][2] == "llm" and by_provider["catalog"][11] == 0
    calls = query(database_url, "SELECT count(*) FROM provider_calls")[0][0]
    assert sum(row[6] for row in custos[1:]) == calls

    comparativo = _rows(book, "Comparativo STT")
    assert comparativo[0] == COMPARATIVO and len(comparativo) == 3
    assert {row[2] for row in comparativo[1:]} == {"elevenlabs"}
    assert all(row[13] is not None for row in comparativo[1:])

    resumo = dict(_rows(book, "Resumo")[1:])
    assert resumo["sessões"] == 1 and resumo["segmentos"] == 2
    assert resumo["recomendações"] == recs and resumo["aceitas"] == recs
    assert resumo["taxa de aceitação"] == 1
    assert resumo["chamadas a provedores"] == calls and resumo["custo total (USD)"] > 0
    assert resumo["balcao_id"] == "todos" and resumo["fuso horário"] == "America/Sao_Paulo"
    assert resumo["linhas em Interações"] == 2 and resumo["linhas em Comparativo STT"] == 2

    # another balcão's export is empty, and has no comparison sheet
    other = await _export(running.base_url, balcao_id="5f0c3c1e-0000-4000-8000-000000000000")
    assert other.sheetnames == ["Resumo", "Interações", "Alertas", "Custos"]
    assert _rows(other, "Interações") == [INTERACOES]
    mine = await _export(running.base_url, balcao_id=balcao_id, desde="2020-01-01", tz="UTC")
    assert len(_rows(mine, "Interações")) == 3
    assert query(database_url, "SELECT action FROM admin_audit") == [("export_xlsx",)] * 3


async def test_formula_like_text_stays_text_and_bad_params_are_400(
    nursery: trio.Nursery, database_url: str
) -> None:
    running = await start_server(nursery, database_url)
    from tests.admin_seed import seed

    seed(database_url)
    query(database_url, "UPDATE segments SET transcript = '=HYPERLINK(\"http://x\")' WHERE seq = 0")
    book = await _export(running.base_url)
    cells = [row[5] for row in book["Interações"].iter_rows(min_row=2)]
    assert len(cells) == 15
    hostile = [c for c in cells if str(c.value).startswith("=")]
    assert len(hostile) == 3 and all(c.data_type == "s" for c in hostile)
    async with httpx.AsyncClient(base_url=running.base_url) as http:
        for params, field in (
            ({"tz": "Marte/Base"}, "tz"),
            ({"desde": "x"}, "desde"),
            ({"desde": "9999-12-31T23:59:59-05:00"}, "desde"),  # year 10000 in UTC
            ({"ate": "0001-01-01"}, "ate"),
        ):
            response = await http.get("/api/export/xlsx", headers=ADMIN, params=params)
            assert response.status_code == 400 and response.json()["field"] == field
