"""The report's Resumo sheet: what it covers (period, filters, zone) and its totals.

Totals: sessions, transcribed segments, recommendations with their feedback, the acceptance rate
beside its sample size (recommendations that got feedback), alerts, provider calls, and cost in
USD and in R$ at the configured rate.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import psycopg

from balto.store.xlsx import Column, Kind, Sheet

if TYPE_CHECKING:
    from balto.store.export import ReportOptions

RESUMO = (Column("indicador", 42), Column("valor", 40))

# From a row with a session_id (table alias {t}) to its session, balcão and cliente.
JOIN = (
    " JOIN sessions s ON s.id = {t}.session_id JOIN balcoes b ON b.id = s.balcao_id"
    " JOIN clientes c ON c.id = b.cliente_id"
)
_SQL = (
    "SELECT q1.n, q2.n, q3.accepted, q3.refused, q3.n, q3.latency,"
    " q4.n, q4.failed, q4.stt, q4.llm, q5.n FROM"
    " (SELECT count(*) AS n FROM sessions s JOIN balcoes b ON b.id = s.balcao_id{w_sess}) q1,"
    " (SELECT count(*) AS n FROM segments seg" + JOIN.format(t="seg") + "{w_seg}) q2,"
    " (SELECT count(*) FILTER (WHERE r.aceita) AS accepted,"
    "  count(*) FILTER (WHERE NOT r.aceita) AS refused, count(*) AS n,"
    "  avg(extract(epoch FROM r.sent_at - seg.created_at) * 1000) AS latency"
    "  FROM recommendations r LEFT JOIN segments seg ON seg.id = r.segment_id"
    + JOIN.format(t="r")
    + "{w_rec}) q3,"
    " (SELECT count(*) AS n, count(*) FILTER (WHERE NOT pc.ok) AS failed,"
    "  coalesce(sum(pc.cost_usd) FILTER (WHERE pc.kind = 'stt'), 0) AS stt,"
    "  coalesce(sum(pc.cost_usd) FILTER (WHERE pc.kind = 'llm'), 0) AS llm"
    "  FROM provider_calls pc" + JOIN.format(t="pc") + "{w_pc}) q4,"
    " (SELECT count(*) AS n FROM alerts a" + JOIN.format(t="a") + "{w_alert}) q5"
)


def _name(conn: psycopg.Connection, sql: str, key: str | None) -> str:
    """The name of the filtered cliente, store or balcão, "todos" without a filter."""
    if key is None:
        return "todos"
    row = conn.execute(sql.encode(), (key,)).fetchone()
    return str(row[0]) if row else "(não encontrado)"


def write_resumo(
    conn: psycopg.Connection, sheet: Sheet, options: ReportOptions, counts: dict[str, int]
) -> None:
    """Fill `sheet` (already headed) with the report's scope and totals, then close it."""
    filters = options.filters
    w_sess, p_sess = options.where("s.started_at", "s.atendente")
    w_seg, p_seg = options.where("seg.created_at", "s.atendente")
    w_rec, p_rec = options.where("r.created_at", "coalesce(r.atendente, s.atendente)")
    w_pc, p_pc = options.where("pc.created_at", "s.atendente")
    w_alert, p_alert = options.where("a.created_at", "coalesce(a.atendente, s.atendente)")
    sql = _SQL.format(w_sess=w_sess, w_seg=w_seg, w_rec=w_rec, w_pc=w_pc, w_alert=w_alert)
    row = conn.execute(sql.encode(), [*p_sess, *p_seg, *p_rec, *p_pc, *p_alert]).fetchone()
    assert row is not None  # aggregates always return one row
    sessions, segments, accepted, refused, recs, latency, calls, failed, stt, llm, alerts = row
    answered = accepted + refused
    total_usd = float(stt) + float(llm)
    cliente = _name(conn, "SELECT razao_social FROM clientes WHERE id = %s", filters.cliente_id)
    balcao = _name(conn, "SELECT nome_balcao FROM balcoes WHERE id = %s", filters.balcao_id)
    loja = _name(conn, "SELECT nome FROM lojas WHERE id = %s", filters.loja_id)
    facts: list[tuple[str, Any, Kind]] = []
    if options.demo:
        facts.append(("ATENÇÃO", "DADOS DE DEMONSTRAÇÃO (balto demo)", "text"))
    facts += [
        ("gerado em", options.now(), "datetime"),
        ("fuso horário", options.tz, "text"),
        ("desde", options.local(filters.desde) or "início", "datetime"),
        ("até (exclusivo)", options.local(filters.ate) or "agora", "datetime"),
        ("cliente", cliente, "text"),
        ("cliente_id", filters.cliente_id or "todos", "text"),
        ("loja", loja, "text"),
        ("balcão", balcao, "text"),
        ("balcao_id", filters.balcao_id or "todos", "text"),
        ("atendente", options.atendente or "todos", "text"),
        ("sessões", sessions, "int"),
        ("segmentos", segments, "int"),
        ("recomendações", recs, "int"),
        ("aceitas", accepted, "int"),
        ("recusadas", refused, "int"),
        ("sem feedback", recs - answered, "int"),
        ("taxa de aceitação", accepted / answered if answered else None, "pct"),
        ("amostra da taxa de aceitação (com feedback)", answered, "int"),
        ("alertas de encaminhamento", alerts, "int"),
        ("latência média da recomendação (ms)", float(latency) if latency else None, "ms"),
        ("chamadas a provedores", calls, "int"),
        ("chamadas com falha", failed, "int"),
        ("custo STT (USD)", float(stt), "usd"),
        ("custo LLM (USD)", float(llm), "usd"),
        ("custo total (USD)", total_usd, "usd"),
        ("cotação (R$ por US$)", options.brl_per_usd, "decimal"),
        ("custo total (R$)", total_usd * options.brl_per_usd, "brl"),
        *((f"linhas em {name}", count, "int") for name, count in counts.items()),
    ]
    for name, value, kind in facts:
        sheet.append((name, value), ("text", kind))
    sheet.close()
