"""Aggregates for the Painel: per period, balcão, store, cliente and attendant; top products.

Plain sync functions of a connection (run them through `Database.run`). Periods are cut in the
chain's time zone (``date_trunc`` on local time), so a day is the pharmacy's day. Every figure
is keyed by when its row was made: sessions by start, recommendations and alerts by creation,
costs by the provider call. Acceptance has its sample: ``aceitas`` out of ``com_feedback``.
Costs are in USD as stored; the caller converts to BRL.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.rows import dict_row

from balto.store.history import Filters

Row = dict[str, Any]

GRAINS = ("day", "week")
TOP_PRODUCTS = 10

# One row per (thing, balcão): each table's contribution, summed per period and balcão first
# (narrow rows, at most periods × balcões of them), then over the summaries' grouping sets.
_FACTS = """
WITH f AS (
  SELECT s.started_at AS at, s.balcao_id, 1 AS sessoes, 0 AS recomendacoes, 0 AS aceitas,
         0 AS com_feedback, 0 AS alertas, 0::numeric AS custo_usd
    FROM sessions s
  UNION ALL
  SELECT r.created_at, s.balcao_id, 0, 1, CASE WHEN r.aceita THEN 1 ELSE 0 END,
         CASE WHEN r.aceita IS NOT NULL THEN 1 ELSE 0 END, 0, 0
    FROM recommendations r JOIN sessions s ON s.id = r.session_id
  UNION ALL
  SELECT a.created_at, s.balcao_id, 0, 0, 0, 0, 1, 0
    FROM alerts a JOIN sessions s ON s.id = a.session_id
  UNION ALL
  SELECT p.created_at, s.balcao_id, 0, 0, 0, 0, 0, p.cost_usd
    FROM provider_calls p JOIN sessions s ON s.id = p.session_id
), t AS (
  SELECT to_char(date_trunc({grain}, x.at AT TIME ZONE %s), 'YYYY-MM-DD') AS periodo,
         x.balcao_id, sum(sessoes) AS sessoes, sum(recomendacoes) AS recomendacoes,
         sum(aceitas) AS aceitas, sum(com_feedback) AS com_feedback, sum(alertas) AS alertas,
         sum(custo_usd) AS custo_usd
    FROM f x JOIN balcoes b ON b.id = x.balcao_id
    {where}
   GROUP BY 1, 2
)
SELECT t.periodo, b.id AS balcao_id, b.nome_balcao, b.cliente_id, c.razao_social, b.loja_id,
       l.nome AS loja,
       -- which summary a row belongs to: the bits of what it was not grouped by
       GROUPING(t.periodo, b.id, b.loja_id, b.cliente_id) AS grupo,
       sum(t.sessoes)::int AS sessoes, sum(t.recomendacoes)::int AS recomendacoes,
       sum(t.aceitas)::int AS aceitas, sum(t.com_feedback)::int AS com_feedback,
       sum(t.alertas)::int AS alertas, sum(t.custo_usd)::float AS custo_usd
  FROM t JOIN balcoes b ON b.id = t.balcao_id JOIN clientes c ON c.id = b.cliente_id
  LEFT JOIN lojas l ON l.id = b.loja_id
 GROUP BY GROUPING SETS ((t.periodo), (b.id, b.nome_balcao, c.razao_social),
                         (b.cliente_id, c.razao_social, b.loja_id, l.nome),
                         (b.cliente_id, c.razao_social))
 -- per summary: the period (series), else busiest first, then by name, as each was read
 ORDER BY grupo, t.periodo, sessoes DESC,
          CASE WHEN b.id IS NULL THEN c.razao_social ELSE b.nome_balcao END, loja,
          c.razao_social, b.id
"""


# Per attendant: suggestions and alerts under their own attendant (the name the device declared,
# else the one the voice identified, at that moment), else the session's last declared one, as
# the Excel report reads them. Sessions and provider calls have no single attendant: not counted.
_SAID_BY = """
WITH f AS (
  SELECT r.created_at AS at, s.balcao_id, coalesce(r.atendente, s.atendente) AS atendente,
         1 AS recomendacoes,
         CASE WHEN r.aceita THEN 1 ELSE 0 END AS aceitas,
         CASE WHEN r.aceita IS NOT NULL THEN 1 ELSE 0 END AS com_feedback, 0 AS alertas
    FROM recommendations r JOIN sessions s ON s.id = r.session_id
  UNION ALL
  SELECT a.created_at, s.balcao_id, coalesce(a.atendente, s.atendente), 0, 0, 0, 1
    FROM alerts a JOIN sessions s ON s.id = a.session_id
)
SELECT {key}, sum(recomendacoes)::int AS recomendacoes, sum(aceitas)::int AS aceitas,
       sum(com_feedback)::int AS com_feedback, sum(alertas)::int AS alertas
  FROM f x JOIN balcoes b ON b.id = x.balcao_id JOIN clientes c ON c.id = b.cliente_id
  {where}
 GROUP BY {group} ORDER BY {order}
"""


# Each summary: its name and the columns its rows carry besides the sums.
_SUMMARIES = (
    ("series", ("periodo",)),
    ("por_balcao", ("balcao_id", "nome_balcao", "razao_social")),
    ("por_loja", ("cliente_id", "razao_social", "loja_id", "loja")),
    ("por_cliente", ("cliente_id", "razao_social")),
)
_SUMS = ("sessoes", "recomendacoes", "aceitas", "com_feedback", "alertas", "custo_usd")


def summaries(
    conn: psycopg.Connection, filters: Filters, grain: str, zone: str
) -> dict[str, list[Row]]:
    """The Painel's totals in one read of the facts (one query, grouping sets).

    ``series``: per `grain` (``day`` or ``week``) in time zone `zone`, oldest first;
    ``por_balcao``, ``por_loja`` (``loja`` null: the balcões in none) and ``por_cliente``:
    busiest first. One query per summary read the same facts four times (docs/BENCHMARKS.md,
    *History at scale*).
    """
    if grain not in GRAINS:
        raise ValueError(grain)
    parts, params = filters.where("x.at")
    where = f"WHERE {' AND '.join(parts)}" if parts else ""
    query = _FACTS.format(grain=f"'{grain}'", where=where)
    rows = conn.cursor(row_factory=dict_row).execute(query.encode(), [zone, *params]).fetchall()
    kinds = {_grupo(columns): (name, columns) for name, columns in _SUMMARIES}
    out: dict[str, list[Row]] = {name: [] for name, _ in _SUMMARIES}
    for row in rows:
        name, columns = kinds[row["grupo"]]
        out[name].append({c: row[c] for c in (*columns, *_SUMS)})
    return out


def _grupo(columns: tuple[str, ...]) -> int:
    """GROUPING(periodo, b.id, b.loja_id, b.cliente_id) of a summary grouped by `columns`."""
    bits = [
        "periodo" in columns,
        "balcao_id" in columns,
        "loja_id" in columns,
        "cliente_id" in columns,
    ]
    return sum((0 if grouped else 1) << (len(bits) - 1 - i) for i, grouped in enumerate(bits))


def per_atendente(conn: psycopg.Connection, filters: Filters) -> list[Row]:
    """Suggestions, acceptance and alerts per attendant, most suggestions first.

    Names alike in any case are one; a null name: nobody declared or identified.
    """
    # the spelling most used stands for the name
    key = (
        "c.id AS cliente_id, c.razao_social,"
        " mode() WITHIN GROUP (ORDER BY x.atendente) AS atendente"
    )
    group = "c.id, c.razao_social, lower(x.atendente)"
    order = "recomendacoes DESC, alertas DESC, 2, 3"
    parts, params = filters.where("x.at")
    where = f"WHERE {' AND '.join(parts)}" if parts else ""
    sql = _SAID_BY.format(key=key, where=where, group=group, order=order)
    rows: list[Row] = conn.cursor(row_factory=dict_row).execute(sql.encode(), params).fetchall()
    return rows


def top_products(conn: psycopg.Connection, filters: Filters) -> list[Row]:
    """The most suggested products, with how often each was accepted out of its feedback."""
    parts, params = filters.where("r.created_at")
    where = f"WHERE {' AND '.join(parts)}" if parts else ""
    sql = (
        "SELECT r.produto, count(*)::int AS vezes,"
        " count(*) FILTER (WHERE r.aceita)::int AS aceitas,"
        " count(r.aceita)::int AS com_feedback"
        " FROM recommendations r JOIN sessions s ON s.id = r.session_id"
        " JOIN balcoes b ON b.id = s.balcao_id"
        f" {where} GROUP BY r.produto ORDER BY vezes DESC, r.produto LIMIT %s"
    )
    rows: list[Row] = (
        conn.cursor(row_factory=dict_row).execute(sql.encode(), [*params, TOP_PRODUCTS]).fetchall()
    )
    return rows
