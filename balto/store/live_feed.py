"""What live sessions are saying and being told, read back for the Ao vivo page.

Plain sync functions of a connection (run them through `Database.run`). `recent_events` gives,
per session, its newest `PER_SESSION` events (utterances with who spoke them where the voice was
identified and, on the first of each customer after the first, what began it:
`novo_atendimento`; recommendations with their feedback; alerts with their acknowledgement and
whether the attendant gave their guidance), newest last;
`session_facts` the attendant and cliente of each; `recently_ended` the sessions that closed in
the last minutes with their close code and reason, so a disconnect leaves a trace on the page.
Everything is read again on each poll, so feedback, speaker labels and acknowledgements that
arrive later show. `acknowledge_alert` records an admin's "Ciente".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg.rows import dict_row

Row = dict[str, Any]

PER_SESSION = 30  # what fits on a card; the full conversation is in Histórico
ENDED_WINDOW_MIN = 15
ENDED_LIMIT = 10

_EVENTS = """
SELECT * FROM (
  SELECT e.*, row_number() OVER (PARTITION BY e.session_id ORDER BY e.em DESC, e.id DESC) AS n
  FROM (
    SELECT g.session_id, 'fala' AS tipo, g.id::text AS id, g.created_at AS em,
           g.transcript AS texto, g.status, g.error AS erro, NULL::text AS produto,
           NULL::text AS explicacao, NULL::boolean AS aceita, NULL::text AS sinal,
           NULL::text AS orientacao, g.falante, g.atendente, NULL::timestamptz AS ciente_em,
           NULL::text AS ciente_por, NULL::timestamptz AS orientado_em, g.novo_atendimento,
           NULL::timestamptz AS em_falta_em, NULL::text[] AS cuidados,
           NULL::timestamptz AS retirada_em, NULL::text AS retirada_motivo
      FROM segments g WHERE g.session_id = ANY(%(ids)s::uuid[]) AND g.status <> 'pending'
    UNION ALL
    SELECT r.session_id, 'recomendacao', r.id::text, r.created_at, r.transcricao_base, NULL,
           NULL, r.produto, r.explicacao, r.aceita, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
           NULL, r.em_falta_em, r.cuidados, r.retirada_em, r.retirada_motivo
      FROM recommendations r WHERE r.session_id = ANY(%(ids)s::uuid[])
    UNION ALL
    SELECT a.session_id, 'alerta', a.id::text, a.created_at, a.transcricao_base, NULL, NULL,
           NULL, a.motivo, NULL, a.sinal, a.orientacao, NULL, NULL, a.ciente_em, a.ciente_por,
           a.orientado_em, NULL, NULL, NULL, NULL, NULL
      FROM alerts a WHERE a.session_id = ANY(%(ids)s::uuid[])
  ) e
) ranked WHERE n <= %(per)s ORDER BY session_id, em, id
"""


def recent_events(conn: psycopg.Connection, session_ids: Sequence[str]) -> dict[str, list[Row]]:
    """Each session's newest events, oldest first within a session."""
    if not session_ids:
        return {}
    params = {"ids": list(session_ids), "per": PER_SESSION}
    rows = conn.cursor(row_factory=dict_row).execute(_EVENTS.encode(), params).fetchall()
    out: dict[str, list[Row]] = {}
    for row in rows:
        sid = str(row.pop("session_id"))
        row.pop("n")
        out.setdefault(sid, []).append(row)
    return out


def session_facts(conn: psycopg.Connection, session_ids: Sequence[str]) -> dict[str, Row]:
    """Attendant, cliente, store, balcão name (the current one) and start of each session."""
    if not session_ids:
        return {}
    rows = (
        conn.cursor(row_factory=dict_row)
        .execute(
            "SELECT s.id, s.atendente, s.started_at, c.razao_social, c.id AS cliente_id,"
            " b.loja_id, l.nome AS loja, b.nome_balcao"
            " FROM sessions s JOIN balcoes b ON b.id = s.balcao_id"
            " JOIN clientes c ON c.id = b.cliente_id LEFT JOIN lojas l ON l.id = b.loja_id"
            " WHERE s.id = ANY(%s::uuid[])",
            (list(session_ids),),
        )
        .fetchall()
    )
    return {str(row.pop("id")): row for row in rows}


def recently_ended(
    conn: psycopg.Connection, cliente_id: str | None = None, loja_id: str | None = None
) -> list[Row]:
    """Sessions closed in the last `ENDED_WINDOW_MIN` minutes, newest first.

    Only one cliente's, one store's, when given.
    """
    rows: list[Row] = (
        conn.cursor(row_factory=dict_row)
        .execute(
            "SELECT s.id AS session_id, s.balcao_id, b.nome_balcao, c.razao_social, s.atendente,"
            " s.started_at, s.ended_at, s.close_code, s.close_reason, l.nome AS loja"
            " FROM sessions s JOIN balcoes b ON b.id = s.balcao_id"
            " JOIN clientes c ON c.id = b.cliente_id LEFT JOIN lojas l ON l.id = b.loja_id"
            " WHERE s.ended_at > now() - make_interval(mins => %s)"
            " AND (%s::uuid IS NULL OR c.id = %s::uuid)"
            " AND (%s::uuid IS NULL OR b.loja_id = %s::uuid)"
            " ORDER BY s.ended_at DESC LIMIT %s",
            (ENDED_WINDOW_MIN, cliente_id, cliente_id, loja_id, loja_id, ENDED_LIMIT),
        )
        .fetchall()
    )
    return rows


def acknowledge_alert(conn: psycopg.Connection, alert_id: str, por: str) -> Row | None:
    """Mark a red-flag alert seen by admin `por` (the first time, and who, stay).

    Returns its id, session, acknowledgement time and who, or None for an unknown alert.
    """
    with conn.transaction():
        row: Row | None = (
            conn.cursor(row_factory=dict_row)
            .execute(
                # SET reads the row as it was: the name is written only with the first time
                "UPDATE alerts SET ciente_em = coalesce(ciente_em, now()),"
                " ciente_por = CASE WHEN ciente_em IS NULL THEN %s ELSE ciente_por END"
                " WHERE id = %s RETURNING id::text, session_id::text, ciente_em, ciente_por",
                (por, alert_id),
            )
            .fetchone()
        )
    return row
