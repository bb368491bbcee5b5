"""The Excel report: interactions, costs, STT comparison and a summary, written to a file.

`write_report` is a plain sync function of a connection (run it through `Database.run`, which puts
it on a worker thread). Rows come from server-side cursors `FETCH_ROWS` at a time and go straight
into openpyxl's write-only sheets (which write text as inline strings, with no shared-string
table), so memory stays bounded whatever the period: only the file on disk grows with the rows.

Times are written in the requested time zone without an offset (Excel has no time zones); the
Resumo sheet names the zone. Text that Excel would read as a formula is written as text.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

# openpyxl ships no type information (types-openpyxl is not a dependency)
from openpyxl import Workbook  # type: ignore[import-untyped]
from openpyxl.cell import WriteOnlyCell  # type: ignore[import-untyped]
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE  # type: ignore[import-untyped]
from openpyxl.worksheet._write_only import WriteOnlyWorksheet  # type: ignore[import-untyped]

from balto.store.history import Filters

FETCH_ROWS = 2000  # rows per round trip from the server-side cursor

INTERACOES = (
    "horário",
    "cliente",
    "balcão",
    "atendente",
    "transcrição",
    "produto",
    "explicação",
    "feedback",
    "latência STT (ms)",
    "latência recomendação (ms)",
    "provedor STT",
    "origem da recomendação",
    "sessão",
)
CUSTOS = (
    "dia",
    "provedor",
    "tipo",
    "cliente",
    "balcão",
    "chamadas",
    "falhas",
    "segundos de áudio",
    "tokens de entrada",
    "tokens de saída",
    "custo (USD)",
    "latência média (ms)",
)
COMPARATIVO = (
    "horário",
    "balcão",
    "provedor principal",
    "modelo principal",
    "texto principal",
    "latência principal (ms)",
    "custo principal (USD)",
    "provedor secundário",
    "modelo secundário",
    "texto secundário",
    "erro secundário",
    "latência secundária (ms)",
    "custo secundário (USD)",
    "WER",
)

_JOIN = (
    " JOIN sessions s ON s.id = {t}.session_id JOIN balcoes b ON b.id = s.balcao_id"
    " JOIN clientes c ON c.id = b.cliente_id"
)
_SQL_INTERACOES = (
    "SELECT seg.created_at AT TIME ZONE %s, c.razao_social, b.nome_balcao, r.atendente,"
    " seg.transcript, r.produto, r.explicacao,"
    " CASE r.aceita WHEN true THEN 'aceita' WHEN false THEN 'recusada' END,"
    " round((extract(epoch FROM seg.transcribed_at - seg.created_at) * 1000)::numeric, 1),"
    " round((extract(epoch FROM r.sent_at - seg.created_at) * 1000)::numeric, 1),"
    " seg.stt_provider, r.source, s.id::text"
    " FROM segments seg" + _JOIN.format(t="seg") + " LEFT JOIN recommendations r"
    " ON r.segment_id = seg.id{where} ORDER BY seg.created_at, seg.id"
)
_SQL_CUSTOS = (
    "SELECT (pc.created_at AT TIME ZONE %s)::date AS dia, pc.provider, pc.kind,"
    " c.razao_social, b.nome_balcao, count(*), count(*) FILTER (WHERE NOT pc.ok),"
    " round(coalesce(sum(pc.audio_seconds), 0)::numeric, 3), coalesce(sum(pc.input_tokens), 0),"
    " coalesce(sum(pc.output_tokens), 0), sum(pc.cost_usd), round(avg(pc.latency_ms)::numeric, 1)"
    " FROM provider_calls pc" + _JOIN.format(t="pc") + "{where}"
    " GROUP BY 1, 2, 3, 4, 5, b.id ORDER BY 1, 2, 4, 5"
)
_SQL_COMPARATIVO = (
    "SELECT x.created_at AT TIME ZONE %s, b.nome_balcao, x.primary_provider, x.primary_model,"
    " x.primary_text, round(x.primary_latency_ms::numeric, 1), x.primary_cost_usd,"
    " x.secondary_provider, x.secondary_model, x.secondary_text, x.secondary_error,"
    " round(x.secondary_latency_ms::numeric, 1), x.secondary_cost_usd, x.wer"
    " FROM stt_comparisons x" + _JOIN.format(t="x") + "{where} ORDER BY x.created_at, x.id"
)
_SQL_RESUMO = (
    "SELECT q1.n, q2.n, q3.accepted, q3.refused, q3.n, q3.latency,"
    " q4.n, q4.failed, q4.stt, q4.llm FROM"
    " (SELECT count(*) AS n FROM sessions s JOIN balcoes b ON b.id = s.balcao_id{w_sess}) q1,"
    " (SELECT count(*) AS n FROM segments seg" + _JOIN.format(t="seg") + "{w_seg}) q2,"
    " (SELECT count(*) FILTER (WHERE r.aceita) AS accepted,"
    "  count(*) FILTER (WHERE NOT r.aceita) AS refused, count(*) AS n,"
    "  avg(extract(epoch FROM r.sent_at - seg.created_at) * 1000) AS latency"
    "  FROM recommendations r LEFT JOIN segments seg ON seg.id = r.segment_id"
    + _JOIN.format(t="r")
    + "{w_rec}) q3,"
    " (SELECT count(*) AS n, count(*) FILTER (WHERE NOT pc.ok) AS failed,"
    "  coalesce(sum(pc.cost_usd) FILTER (WHERE pc.kind = 'stt'), 0) AS stt,"
    "  coalesce(sum(pc.cost_usd) FILTER (WHERE pc.kind = 'llm'), 0) AS llm"
    "  FROM provider_calls pc" + _JOIN.format(t="pc") + "{w_pc}) q4"
)


def _where(filters: Filters, column: str) -> tuple[str, list[Any]]:
    parts, params = filters.where(column)
    return (f" WHERE {' AND '.join(parts)}" if parts else ""), params


def _stream(
    conn: psycopg.Connection, name: str, sql: str, params: Sequence[Any]
) -> Iterator[tuple[Any, ...]]:
    """Rows of `sql` from a server-side cursor, `FETCH_ROWS` per round trip."""
    with conn.cursor(name=name) as cursor:
        cursor.itersize = FETCH_ROWS
        cursor.execute(sql.encode(), params)
        yield from cursor


def _cells(sheet: WriteOnlyWorksheet, row: Sequence[Any]) -> list[Any]:
    out: list[Any] = []
    for value in row:
        if isinstance(value, str):
            value = ILLEGAL_CHARACTERS_RE.sub("", value)
            if value.startswith("="):  # openpyxl would store it as a formula
                cell = WriteOnlyCell(sheet, value)
                cell.data_type = "s"
                value = cell
        out.append(value)
    return out


def _fill(sheet: WriteOnlyWorksheet, header: Sequence[str], rows: Iterator[tuple[Any, ...]]) -> int:
    sheet.append(list(header))
    count = 0
    for row in rows:
        sheet.append(_cells(sheet, row))
        count += 1
    return count


def write_report(conn: psycopg.Connection, path: Path, filters: Filters, tz: str) -> dict[str, int]:
    """Write the report for `filters` to `path` (an .xlsx file).

    Args:
        conn: The connection (its transaction holds the server-side cursors).
        path: Where to write the workbook.
        filters: Cliente, balcão and period (on each row's creation time).
        tz: An IANA time zone for the times written (e.g. ``America/Sao_Paulo``).

    Returns:
        Rows written per sheet.
    """
    workbook = Workbook(write_only=True)
    counts: dict[str, int] = {}
    where, params = _where(filters, "seg.created_at")
    sheet = workbook.create_sheet("Interações")
    rows = _stream(conn, "export_interacoes", _SQL_INTERACOES.format(where=where), [tz, *params])
    counts["Interações"] = _fill(sheet, INTERACOES, rows)
    where, params = _where(filters, "pc.created_at")
    sheet = workbook.create_sheet("Custos")
    rows = _stream(conn, "export_custos", _SQL_CUSTOS.format(where=where), [tz, *params])
    counts["Custos"] = _fill(sheet, CUSTOS, rows)
    where, params = _where(filters, "x.created_at")
    rows = _stream(conn, "export_stt", _SQL_COMPARATIVO.format(where=where), [tz, *params])
    first = next(rows, None)
    if first is not None:
        sheet = workbook.create_sheet("Comparativo STT")
        counts["Comparativo STT"] = _fill(sheet, COMPARATIVO, itertools.chain([first], rows))
    _summary(conn, workbook.create_sheet("Resumo"), filters, tz, counts)
    workbook.save(str(path))
    return counts


def _summary(
    conn: psycopg.Connection,
    sheet: WriteOnlyWorksheet,
    filters: Filters,
    tz: str,
    counts: dict[str, int],
) -> None:
    w_sess, p_sess = _where(filters, "s.started_at")
    w_seg, p_seg = _where(filters, "seg.created_at")
    w_rec, p_rec = _where(filters, "r.created_at")
    w_pc, p_pc = _where(filters, "pc.created_at")
    sql = _SQL_RESUMO.format(w_sess=w_sess, w_seg=w_seg, w_rec=w_rec, w_pc=w_pc)
    row = conn.execute(sql.encode(), [*p_sess, *p_seg, *p_rec, *p_pc]).fetchone()
    assert row is not None  # aggregates always return one row
    sessions, segments, accepted, refused, recs, latency, calls, failed, stt_usd, llm_usd = row
    answered = accepted + refused
    facts: list[tuple[str, Any]] = [
        ("gerado em (UTC)", datetime.now(UTC).replace(tzinfo=None, microsecond=0)),
        ("fuso horário", tz),
        ("desde", _naive(filters.desde)),
        ("até (exclusivo)", _naive(filters.ate)),
        ("cliente_id", filters.cliente_id or "todos"),
        ("balcao_id", filters.balcao_id or "todos"),
        ("sessões", sessions),
        ("segmentos", segments),
        ("recomendações", recs),
        ("aceitas", accepted),
        ("recusadas", refused),
        ("sem feedback", recs - answered),
        ("taxa de aceitação", round(accepted / answered, 4) if answered else None),
        ("latência média da recomendação (ms)", round(float(latency), 1) if latency else None),
        ("chamadas a provedores", calls),
        ("chamadas com falha", failed),
        ("custo STT (USD)", float(stt_usd)),
        ("custo LLM (USD)", float(llm_usd)),
        ("custo total (USD)", float(stt_usd) + float(llm_usd)),
        *((f"linhas em {name}", count) for name, count in counts.items()),
    ]
    sheet.append(["indicador", "valor"])
    for name, value in facts:
        sheet.append(_cells(sheet, (name, value)))


def _naive(value: datetime | None) -> datetime | str:
    """Instants in UTC without offset (Excel has none), or "—" for an open end."""
    if value is None:
        return "—"
    return value.astimezone(UTC).replace(tzinfo=None)
