"""The invariant of the Painel's hourly sums (migration 0027): ``painel_horas`` holds exactly the
rows' sums per balcão and UTC hour, however the rows were written."""

from __future__ import annotations

import psycopg

_MISMATCH = (
    "WITH x AS (SELECT balcao_id, date_trunc('hour', started_at, 'UTC') AS hora,"
    " 1 AS s, 0 AS r, 0 AS a, 0 AS f, 0 AS al, 0::numeric AS c FROM sessions"
    " UNION ALL SELECT balcao_id, date_trunc('hour', created_at, 'UTC'), 0, 1,"
    " (aceita IS TRUE)::int, (aceita IS NOT NULL)::int, 0, 0 FROM recommendations"
    " UNION ALL SELECT balcao_id, date_trunc('hour', created_at, 'UTC'), 0, 0, 0, 0, 1, 0"
    " FROM alerts"
    " UNION ALL SELECT s.balcao_id, date_trunc('hour', p.created_at, 'UTC'), 0, 0, 0, 0, 0,"
    " p.cost_usd FROM provider_calls p JOIN sessions s ON s.id = p.session_id),"
    " want AS (SELECT balcao_id, hora, sum(s) AS s, sum(r) AS r, sum(a) AS a, sum(f) AS f,"
    " sum(al) AS al, sum(c) AS c FROM x GROUP BY 1, 2),"
    " have AS (SELECT balcao_id, hora, sessoes AS s, recomendacoes AS r, aceitas AS a,"
    " com_feedback AS f, alertas AS al, custo_usd AS c FROM painel_horas"
    " WHERE (sessoes, recomendacoes, aceitas, com_feedback, alertas, custo_usd)"
    " <> (0, 0, 0, 0, 0, 0))"
    " SELECT count(*) FROM ((SELECT * FROM want EXCEPT SELECT * FROM have)"
    " UNION ALL (SELECT * FROM have EXCEPT SELECT * FROM want)) AS d"
)


def sums_mismatch(conn: psycopg.Connection) -> int:
    """How many (balcão, hour) rows differ between ``painel_horas`` and the rows' own sums."""
    row = conn.execute(_MISMATCH).fetchone()
    assert row is not None
    return int(row[0])


def sums_mismatch_at(database_url: str) -> int:
    """`sums_mismatch` on a fresh connection to `database_url`."""
    with psycopg.connect(database_url) as conn:
        return sums_mismatch(conn)
