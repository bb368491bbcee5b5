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

# One row per (thing, period, balcão): each table's contribution, summed by the callers' GROUP BY.
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
)
SELECT {key}, sum(sessoes)::int AS sessoes, sum(recomendacoes)::int AS recomendacoes,
       sum(aceitas)::int AS aceitas, sum(com_feedback)::int AS com_feedback,
       sum(alertas)::int AS alertas, sum(custo_usd)::float AS custo_usd
  FROM f x JOIN balcoes b ON b.id = x.balcao_id JOIN clientes c ON c.id = b.cliente_id
  LEFT JOIN lojas l ON l.id = b.loja_id
  {where}
 GROUP BY {group} ORDER BY {order}
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


def _query(
    conn: psycopg.Connection,
    filters: Filters,
    key: str,
    group: str,
    order: str,
    extra: list[Any],
    facts: str = _FACTS,
) -> list[Row]:
    parts, params = filters.where("x.at")
    where = f"WHERE {' AND '.join(parts)}" if parts else ""
    sql = facts.format(key=key, where=where, group=group, order=order)
    rows: list[Row] = (
        conn.cursor(row_factory=dict_row).execute(sql.encode(), [*extra, *params]).fetchall()
    )
    return rows


def series(conn: psycopg.Connection, filters: Filters, grain: str, zone: str) -> list[Row]:
    """Totals per `grain` (``day`` or ``week``) in time zone `zone`, oldest first."""
    if grain not in GRAINS:
        raise ValueError(grain)
    key = f"to_char(date_trunc('{grain}', x.at AT TIME ZONE %s), 'YYYY-MM-DD') AS periodo"
    return _query(conn, filters, key, "1", "1", [zone])


def per_balcao(conn: psycopg.Connection, filters: Filters) -> list[Row]:
    """Totals per balcão, busiest first."""
    key = "b.id AS balcao_id, b.nome_balcao, c.razao_social"
    return _query(conn, filters, key, "b.id, b.nome_balcao, c.razao_social", "sessoes DESC, 2", [])


def per_loja(conn: psycopg.Connection, filters: Filters) -> list[Row]:
    """Totals per store (``loja`` null: the balcões in none), busiest first."""
    key = "b.cliente_id, c.razao_social, b.loja_id, l.nome AS loja"
    group = "b.cliente_id, c.razao_social, b.loja_id, l.nome"
    return _query(conn, filters, key, group, "sessoes DESC, 2, 4", [])


def per_cliente(conn: psycopg.Connection, filters: Filters) -> list[Row]:
    """Totals per cliente, busiest first."""
    key = "c.id AS cliente_id, c.razao_social"
    return _query(conn, filters, key, "c.id, c.razao_social", "sessoes DESC, 2", [])


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
    return _query(conn, filters, key, group, order, [], _SAID_BY)


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
