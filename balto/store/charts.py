"""Aggregates for the Painel: per period, balcão, store, cliente and attendant; top products.

Plain sync functions of a connection (run them through `Database.run`). Periods are cut in the
chain's time zone (``date_trunc`` on local time), so a day is the pharmacy's day. Every figure
is keyed by when its row was made: sessions by start, recommendations and alerts by creation,
costs by the provider call. Acceptance has its sample: ``aceitas`` out of ``com_feedback``.
Costs are in USD as stored; the caller converts to BRL.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import psycopg
from psycopg.rows import dict_row

from balto.store import rollup
from balto.store.history import Filters

Row = dict[str, Any]

GRAINS = ("day", "week")
TOP_PRODUCTS = 10


class _Table(NamedTuple):
    """A table as a read takes its rows (`_branches`)."""

    name: str
    time: str  # its time column
    balcao: str  # where its balcão is
    joins: str  # what finding it needs
    contribution: str  # what each row adds to the read's sums


# Each fact table as the summaries read it: its time column, where its balcão is (suggestions and
# alerts carry their own since migration 0027; a provider call only through its session), the
# join that needs, and its contribution to (sessoes, recomendacoes, aceitas, com_feedback,
# alertas, custo_usd). These are read at a period's edges only; its whole hours come from the
# database's hourly sums (`balto.store.rollup`).
_FACT_TABLES = (
    _Table("sessions", "started_at", "x.balcao_id", "", "1, 0, 0, 0, 0, 0::numeric"),
    _Table(
        "recommendations",
        "created_at",
        "x.balcao_id",
        "",
        "0, 1, CASE WHEN x.aceita THEN 1 ELSE 0 END, CASE WHEN x.aceita IS NOT NULL THEN 1 ELSE 0"
        " END, 0, 0",
    ),
    _Table("alerts", "created_at", "x.balcao_id", "", "0, 0, 0, 0, 1, 0"),
    _Table(
        "provider_calls",
        "created_at",
        "s.balcao_id",
        " JOIN sessions s ON s.id = x.session_id",
        "0, 0, 0, 0, 0, x.cost_usd",
    ),
)
_HOURS_TABLE = _Table(
    "painel_horas",
    "hora",
    "x.balcao_id",
    "",
    "x.sessoes, x.recomendacoes, x.aceitas, x.com_feedback, x.alertas, x.custo_usd",
)

# Summed per period and balcão first (narrow rows, at most periods × balcões of them), then over
# the summaries' grouping sets.
_SUMMARIES_SQL = """
WITH t AS (
  SELECT date_trunc({grain}, f.at AT TIME ZONE %s) AS periodo, f.balcao_id,
         sum(f.sessoes) AS sessoes, sum(f.recomendacoes) AS recomendacoes,
         sum(f.aceitas) AS aceitas, sum(f.com_feedback) AS com_feedback,
         sum(f.alertas) AS alertas, sum(f.custo_usd) AS custo_usd
    FROM ({facts}) AS f (at, balcao_id, sessoes, recomendacoes, aceitas, com_feedback, alertas,
                         custo_usd)
   GROUP BY 1, 2
)
SELECT to_char(t.periodo, 'YYYY-MM-DD') AS periodo, b.id AS balcao_id, b.nome_balcao,
       b.cliente_id, c.razao_social, b.loja_id, l.nome AS loja,
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
# the Excel report reads them; `orientadas`: alerts whose guidance the counter said was given.
# Sessions and provider calls have no single attendant: not counted.
# The session is read only for a row whose own attendant is unknown.
_SAID_BY_TABLES = (
    _Table(
        "recommendations",
        "created_at",
        "x.balcao_id",
        " LEFT JOIN sessions s ON x.atendente IS NULL AND s.id = x.session_id",
        "coalesce(x.atendente, s.atendente), 1, CASE WHEN x.aceita THEN 1 ELSE 0 END,"
        " CASE WHEN x.aceita IS NOT NULL THEN 1 ELSE 0 END, 0, 0",
    ),
    _Table(
        "alerts",
        "created_at",
        "x.balcao_id",
        " LEFT JOIN sessions s ON x.atendente IS NULL AND s.id = x.session_id",
        "coalesce(x.atendente, s.atendente), 0, 0, 0, 1,"
        " CASE WHEN x.orientado_em IS NOT NULL THEN 1 ELSE 0 END",
    ),
)
_SAID_BY = """
SELECT {key}, sum(f.recomendacoes)::int AS recomendacoes, sum(f.aceitas)::int AS aceitas,
       sum(f.com_feedback)::int AS com_feedback, sum(f.alertas)::int AS alertas,
       sum(f.orientadas)::int AS orientadas
  FROM ({facts}) AS f (balcao_id, atendente, recomendacoes, aceitas, com_feedback, alertas,
                       orientadas)
  JOIN balcoes b ON b.id = f.balcao_id JOIN clientes c ON c.id = b.cliente_id
 GROUP BY {group} ORDER BY {order}
"""


def _branches(parts: list[tuple[Filters, _Table]], with_time: bool) -> tuple[str, list[Any]]:
    """A UNION ALL of one SELECT per (filters, table), and its parameters.

    Each: the table (alias ``x``) joined to its balcão (``b``), filtered on its own time column,
    selecting its time (when `with_time`), its balcão and its contribution. The filters go into
    every branch because PostgreSQL does not carry a join to balcões into a UNION's branches; so
    each reads only the filtered balcões' rows of its period (the (balcão, time) indexes).
    """
    selects: list[str] = []
    params: list[Any] = []
    for filters, table in parts:
        conditions, values = filters.where(f"x.{table.time}")
        where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        time = f"x.{table.time}, " if with_time else ""
        selects.append(
            f"SELECT {time}{table.balcao}, {table.contribution} FROM {table.name} x{table.joins}"
            f" JOIN balcoes b ON b.id = {table.balcao}{where}"
        )
        params += values
    return "\n  UNION ALL\n".join(selects), params


_TOTALS_SQL = """
SELECT coalesce(sum(f.sessoes), 0)::int AS sessoes,
       coalesce(sum(f.recomendacoes), 0)::int AS recomendacoes,
       coalesce(sum(f.aceitas), 0)::int AS aceitas,
       coalesce(sum(f.com_feedback), 0)::int AS com_feedback,
       coalesce(sum(f.custo_usd), 0) AS custo_usd
  FROM ({facts}) AS f (at, balcao_id, sessoes, recomendacoes, aceitas, com_feedback, alertas,
                       custo_usd)
"""


def _period(filters: Filters, zone: str) -> list[tuple[Filters, _Table]]:
    """The reads of `filters`' period: its whole hours' sums, the rows at its edges."""
    period = rollup.split(filters, zone)
    parts = [(edge, table) for edge in period.rows for table in _FACT_TABLES]
    if period.hours is not None:
        parts.append((period.hours, _HOURS_TABLE))
    return parts


def totals(conn: psycopg.Connection, filters: Filters, zone: str) -> Row:
    """Sessions, suggestions, feedback and cost (USD) in `filters`' period, with the acceptance.

    `zone`: the one the period was cut in (``GET /admin/totals``' day).
    """
    facts, params = _branches(_period(filters, zone), with_time=True)
    row = conn.cursor(row_factory=dict_row).execute(
        _TOTALS_SQL.format(facts=facts).encode(), params
    )
    out: Row | None = row.fetchone()
    assert out is not None  # aggregates always return one row
    out["taxa_aceitacao"] = out["aceitas"] / out["com_feedback"] if out["com_feedback"] else None
    return out


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
    busiest first. The period's whole hours are read from the database's hourly sums, its edges
    from the rows (`balto.store.rollup`); docs/BENCHMARKS.md, *History at scale*.
    """
    if grain not in GRAINS:
        raise ValueError(grain)
    facts, params = _branches(_period(filters, zone), with_time=True)
    query = _SUMMARIES_SQL.format(grain=f"'{grain}'", facts=facts)
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
    """Per attendant: suggestions, acceptance, alerts and guidance given; most suggestions first.

    Names alike in any case are one; a null name: nobody declared or identified.
    """
    # the spelling most used stands for the name
    key = (
        "c.id AS cliente_id, c.razao_social,"
        " mode() WITHIN GROUP (ORDER BY f.atendente) AS atendente"
    )
    group = "c.id, c.razao_social, lower(f.atendente)"
    order = "recomendacoes DESC, alertas DESC, 2, 3"
    facts, params = _branches([(filters, table) for table in _SAID_BY_TABLES], with_time=False)
    sql = _SAID_BY.format(key=key, facts=facts, group=group, order=order)
    rows: list[Row] = conn.cursor(row_factory=dict_row).execute(sql.encode(), params).fetchall()
    return rows


def top_products(conn: psycopg.Connection, filters: Filters) -> list[Row]:
    """The most suggested products: how often each was accepted, and found missing.

    Accepted out of its feedback; found missing at the counter: the attendant's *Em falta*.
    """
    parts, params = filters.where("r.created_at")
    where = f"WHERE {' AND '.join(parts)}" if parts else ""
    sql = (
        "SELECT r.produto, count(*)::int AS vezes,"
        " count(*) FILTER (WHERE r.aceita)::int AS aceitas,"
        " count(r.aceita)::int AS com_feedback, count(r.em_falta_em)::int AS em_falta"
        " FROM recommendations r JOIN balcoes b ON b.id = r.balcao_id"
        f" {where} GROUP BY r.produto ORDER BY vezes DESC, r.produto LIMIT %s"
    )
    rows: list[Row] = (
        conn.cursor(row_factory=dict_row).execute(sql.encode(), [*params, TOP_PRODUCTS]).fetchall()
    )
    return rows
