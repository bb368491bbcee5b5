"""The Excel report: Resumo, Interações, Alertas, Atendentes, Custos and Comparativo STT.

`write_report` is a plain sync function of a connection (run it through `Database.run`, which puts
it on a worker thread). Rows come from server-side cursors `FETCH_ROWS` at a time and go straight
into openpyxl's write-only sheets (which write text as inline strings, with no shared-string
table), so memory stays bounded whatever the period: only the file on disk grows with the rows.

Times are written in the report's time zone without an offset (Excel has no time zones); the
Resumo sheet names the zone. Cells are typed and text never becomes a formula (`balto.store.xlsx`).
The attendant filter matches a recommendation's or alert's own attendant and, for everything
else, the attendant the session declared last. Atendentes (the Painel's table per attendant,
`balto.store.charts.per_atendente`) is written when anyone is named, as Comparativo STT is when
there were comparisons.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg

# openpyxl ships no type information (types-openpyxl is not a dependency)
from openpyxl import Workbook  # type: ignore[import-untyped]

from balto.store.charts import per_atendente
from balto.store.history import Filters
from balto.store.resumo import JOIN, RESUMO, write_resumo
from balto.store.xlsx import Column, Sheet

_JOIN = JOIN + " LEFT JOIN lojas l ON l.id = b.loja_id"  # a balcão's store, when it has one

FETCH_ROWS = 2000  # rows per round trip from the server-side cursor
DEMO_BANNER = "DADOS DE DEMONSTRAÇÃO — gerados por balto demo, não são atendimentos reais"

_INTERACOES = (
    Column("horário", 20, "datetime"),
    Column("cliente", 24),
    Column("loja", 20),
    Column("balcão", 20),
    Column("atendente", 18),
    Column("transcrição", 60),
    Column("produto", 30),
    Column("explicação", 50),
    Column("feedback", 11),
    # what the customer had said that ruled products out (balto.advice.cautions)
    Column("cuidados", 22),
    Column("latência STT (ms)", 12, "ms"),
    Column("latência recomendação (ms)", 14, "ms"),
    Column("provedor STT", 13),
    Column("origem da recomendação", 14),
    # the first utterance of each customer after a session's first (segments.novo_atendimento)
    Column("novo atendimento", 22),
    Column("sessão", 38),
)
_ALERTAS = (
    Column("horário", 20, "datetime"),
    Column("cliente", 24),
    Column("loja", 20),
    Column("balcão", 20),
    Column("atendente", 18),
    Column("sinal", 22),
    Column("sinais", 30),
    Column("motivo", 40),
    Column("orientação", 60),
    Column("transcrição", 60),
    Column("enviado em", 20, "datetime"),
    Column("ciente em", 20, "datetime"),
    Column("ciente por", 24),
    Column("orientação dada em", 20, "datetime"),
    Column("sessão", 38),
)
_CUSTOS = (
    Column("dia", 12, "date"),
    Column("provedor", 13),
    Column("tipo", 6),
    Column("cliente", 24),
    Column("loja", 20),
    Column("balcão", 20),
    Column("chamadas", 10, "int"),
    Column("falhas", 8, "int"),
    Column("segundos de áudio", 12, "decimal"),
    Column("tokens de entrada", 11, "int"),
    Column("tokens de saída", 11, "int"),
    Column("custo (USD)", 13, "usd"),
    Column("latência média (ms)", 12, "ms"),
    Column("custo (R$)", 13, "brl"),
)
_COMPARATIVO = (
    Column("horário", 20, "datetime"),
    Column("balcão", 20),
    Column("provedor principal", 13),
    Column("modelo principal", 18),
    Column("texto principal", 50),
    Column("latência principal (ms)", 12, "ms"),
    Column("custo principal (USD)", 13, "usd"),
    Column("provedor secundário", 13),
    Column("modelo secundário", 18),
    Column("texto secundário", 50),
    Column("erro secundário", 30),
    Column("latência secundária (ms)", 12, "ms"),
    Column("custo secundário (USD)", 13, "usd"),
    Column("WER", 8, "pct"),
)
_ATENDENTES = (
    Column("cliente", 24),
    Column("atendente", 24),
    Column("sugestões", 10, "int"),
    Column("aceitas", 9, "int"),
    Column("com retorno", 11, "int"),
    Column("taxa de aceitação", 12, "pct"),
    Column("alertas", 9, "int"),
    Column("orientação dada", 12, "int"),
)
INTERACOES = tuple(column.title for column in _INTERACOES)
ATENDENTES = tuple(column.title for column in _ATENDENTES)
ALERTAS = tuple(column.title for column in _ALERTAS)
CUSTOS = tuple(column.title for column in _CUSTOS)
COMPARATIVO = tuple(column.title for column in _COMPARATIVO)

ERASED = "(fala apagada)"  # what an erased utterance reads as (balto.store.erasure)
_SQL_INTERACOES = (
    "SELECT seg.created_at AT TIME ZONE %s, c.razao_social, l.nome, b.nome_balcao,"
    " coalesce(r.atendente, s.atendente),"
    f" CASE WHEN seg.status = 'transcribed' AND seg.transcript IS NULL THEN '{ERASED}'"
    " ELSE seg.transcript END, r.produto, r.explicacao,"
    # the attendant's verdict, and that the product was not on the shelf (the em_falta frame)
    " nullif(concat_ws('; ', CASE r.aceita WHEN true THEN 'aceita' WHEN false THEN 'recusada' END,"
    " CASE WHEN r.em_falta_em IS NOT NULL THEN 'em falta no balcão' END,"
    # later words ruled it out (the retirar frame)
    " CASE WHEN r.retirada_em IS NOT NULL THEN 'retirada: ' || r.retirada_motivo END), ''),"
    " array_to_string(r.cuidados, ', '),"
    " round((extract(epoch FROM seg.transcribed_at - seg.created_at) * 1000)::numeric, 1),"
    " round((extract(epoch FROM r.sent_at - seg.created_at) * 1000)::numeric, 1),"
    " seg.stt_provider, r.source,"
    " CASE seg.novo_atendimento WHEN 'balcao' THEN 'próximo cliente (balcão)'"
    " WHEN 'pausa' THEN 'após uma pausa' END, s.id::text"
    " FROM segments seg" + _JOIN.format(t="seg") + " LEFT JOIN recommendations r"
    " ON r.segment_id = seg.id{where} ORDER BY seg.created_at, seg.id"
)
_SQL_ALERTAS = (
    "SELECT a.created_at AT TIME ZONE %s, c.razao_social, l.nome, b.nome_balcao,"
    " coalesce(a.atendente, s.atendente), a.sinal, array_to_string(a.sinais, '; '), a.motivo,"
    f" a.orientacao, CASE a.transcricao_base WHEN '' THEN '{ERASED}' ELSE a.transcricao_base END,"
    " a.sent_at AT TIME ZONE %s, a.ciente_em AT TIME ZONE %s, a.ciente_por,"
    " a.orientado_em AT TIME ZONE %s, s.id::text"
    " FROM alerts a" + _JOIN.format(t="a") + "{where} ORDER BY a.created_at, a.id"
)
_SQL_CUSTOS = (
    "SELECT (pc.created_at AT TIME ZONE %s)::date AS dia, pc.provider, pc.kind,"
    " c.razao_social, l.nome, b.nome_balcao, count(*), count(*) FILTER (WHERE NOT pc.ok),"
    " round(coalesce(sum(pc.audio_seconds), 0)::numeric, 3), coalesce(sum(pc.input_tokens), 0),"
    " coalesce(sum(pc.output_tokens), 0), sum(pc.cost_usd), round(avg(pc.latency_ms)::numeric, 1),"
    " sum(pc.cost_usd) * %s"
    " FROM provider_calls pc" + _JOIN.format(t="pc") + "{where}"
    " GROUP BY 1, 2, 3, 4, 5, 6, b.id ORDER BY 1, 2, 4, 5, 6"
)
_SQL_COMPARATIVO = (
    "SELECT x.created_at AT TIME ZONE %s, b.nome_balcao, x.primary_provider, x.primary_model,"
    " x.primary_text, round(x.primary_latency_ms::numeric, 1), x.primary_cost_usd,"
    " x.secondary_provider, x.secondary_model, x.secondary_text, x.secondary_error,"
    " round(x.secondary_latency_ms::numeric, 1), x.secondary_cost_usd, x.wer"
    " FROM stt_comparisons x" + _JOIN.format(t="x") + "{where} ORDER BY x.created_at, x.id"
)


@dataclass(frozen=True, slots=True)
class ReportOptions:
    """What a report covers and how it is written.

    Attributes:
        filters: Cliente, store, balcão and period (on each row's creation time).
        atendente: Only this attendant's rows (case-insensitive), or everyone's.
        tz: An IANA time zone for the times written (e.g. ``America/Sao_Paulo``).
        brl_per_usd: Reais per dollar for the costs in R$.
        demo: The data comes from ``balto demo``: every sheet says so.
    """

    filters: Filters = field(default_factory=Filters)
    atendente: str | None = None
    tz: str = "America/Sao_Paulo"
    brl_per_usd: float = 5.0
    demo: bool = False

    def where(self, time_column: str, atendente_column: str) -> tuple[str, list[Any]]:
        """A ``WHERE`` clause (or "") over the filters, the period on `time_column`."""
        parts, params = self.filters.where(time_column)
        if self.atendente is not None:
            parts.append(f"lower({atendente_column}) = lower(%s)")
            params.append(self.atendente)
        return (f" WHERE {' AND '.join(parts)}" if parts else ""), params

    def local(self, value: datetime | None) -> datetime | None:
        """An instant as the report's local time without offset (None stays None)."""
        if value is None:
            return None
        return value.astimezone(ZoneInfo(self.tz)).replace(tzinfo=None, microsecond=0)

    def now(self) -> datetime:
        """This instant in the report's local time."""
        local = self.local(datetime.now(UTC))
        assert local is not None
        return local


def _stream(
    conn: psycopg.Connection, name: str, sql: str, params: Sequence[Any]
) -> Iterator[tuple[Any, ...]]:
    """Rows of `sql` from a server-side cursor, `FETCH_ROWS` per round trip."""
    with conn.cursor(name=name) as cursor:
        cursor.itersize = FETCH_ROWS
        cursor.execute(sql.encode(), params)
        yield from cursor


def write_report(conn: psycopg.Connection, path: Path, options: ReportOptions) -> dict[str, int]:
    """Write the report for `options` to `path` (an .xlsx file).

    Args:
        conn: The connection (its transaction holds the server-side cursors).
        path: Where to write the workbook.
        options: Filters, time zone, exchange rate and the demo mark.

    Returns:
        Rows written per sheet (Comparativo STT only when there were comparisons).
    """
    workbook = Workbook(write_only=True)
    banner = DEMO_BANNER if options.demo else None
    tz = options.tz
    # Resumo comes first in the workbook but is written last, once the other sheets are counted
    # (each write-only sheet streams into its own temporary file, so the order of writes is free).
    resumo = Sheet(workbook, "Resumo", RESUMO, banner)
    counts: dict[str, int] = {}
    where, params = options.where("seg.created_at", "coalesce(r.atendente, s.atendente)")
    sql = _SQL_INTERACOES.format(where=where)
    counts["Interações"] = _fill(
        Sheet(workbook, "Interações", _INTERACOES, banner),
        _stream(conn, "export_interacoes", sql, [tz, *params]),
    )
    where, params = options.where("a.created_at", "coalesce(a.atendente, s.atendente)")
    sql = _SQL_ALERTAS.format(where=where)
    counts["Alertas"] = _fill(
        Sheet(workbook, "Alertas", _ALERTAS, banner),
        _stream(conn, "export_alertas", sql, [tz, tz, tz, tz, *params]),
    )
    if people := _people(conn, options):
        sheet = Sheet(workbook, "Atendentes", _ATENDENTES, banner)
        counts["Atendentes"] = _fill(sheet, iter(people))
    where, params = options.where("pc.created_at", "s.atendente")
    sql = _SQL_CUSTOS.format(where=where)
    counts["Custos"] = _fill(
        Sheet(workbook, "Custos", _CUSTOS, banner),
        _stream(conn, "export_custos", sql, [tz, options.brl_per_usd, *params]),
    )
    where, params = options.where("x.created_at", "s.atendente")
    rows = _stream(conn, "export_stt", _SQL_COMPARATIVO.format(where=where), [tz, *params])
    first = next(rows, None)
    if first is not None:
        sheet = Sheet(workbook, "Comparativo STT", _COMPARATIVO, banner)
        sheet.append(first)
        counts["Comparativo STT"] = _fill(sheet, rows)  # the first row included
    write_resumo(conn, resumo, options, counts)
    workbook.save(str(path))
    return counts


def _people(conn: psycopg.Connection, options: ReportOptions) -> list[tuple[Any, ...]]:
    """The Atendentes rows, per attendant (one when the report is one attendant's).

    None when nobody is named: a sheet of one "não identificado" row would say nothing.
    """
    rows = per_atendente(conn, options.filters)
    if options.atendente is not None:
        wanted = options.atendente.lower()
        rows = [r for r in rows if (r["atendente"] or "").lower() == wanted]
    if all(r["atendente"] is None for r in rows):
        return []
    return [
        (
            r["razao_social"],
            r["atendente"] or "não identificado",
            r["recomendacoes"],
            r["aceitas"],
            r["com_feedback"],
            r["aceitas"] / r["com_feedback"] if r["com_feedback"] else None,
            r["alertas"],
            r["orientadas"],
        )
        for r in rows
    ]


def _fill(sheet: Sheet, rows: Iterator[tuple[Any, ...]]) -> int:
    sheet.extend(rows)
    sheet.close()
    return sheet.rows
