"""Conversations (sessions) for the admin app: a filtered, paged list and one conversation in full.

Plain sync functions of a connection (run them through `Database.run`). The list is keyset-paged
newest first on ``(started_at, id)`` like `balto.store.history`, with the same `Filters` plus the
attendant's name (case-insensitive); so are the Histórico page's alerts. One conversation is its
session row and a timeline of what was said (segments), suggested (with the reason and the
feedback), alerted and refused.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.rows import dict_row

from balto.store.history import Cursor, Filters, Page, keyset_page

Row = dict[str, Any]

_COUNTS = (
    " (SELECT count(*) FROM segments g WHERE g.session_id = s.id AND g.status = 'transcribed')"
    " AS falas,"
    " (SELECT count(*) FROM recommendations r WHERE r.session_id = s.id) AS recomendacoes,"
    " (SELECT count(*) FROM recommendations r WHERE r.session_id = s.id AND r.aceita)"
    " AS aceitas,"
    " (SELECT count(*) FROM alerts a WHERE a.session_id = s.id) AS alertas"
)
_JOIN = (
    " JOIN balcoes b ON b.id = s.balcao_id JOIN clientes c ON c.id = b.cliente_id"
    " LEFT JOIN lojas l ON l.id = b.loja_id"
)
_SESSIONS = (
    "SELECT s.id, s.balcao_id, b.nome_balcao, b.cliente_id, c.razao_social, b.loja_id,"
    " l.nome AS loja, s.atendente,"
    " s.started_at, s.ended_at, s.audio_seconds, s.close_code, s.close_reason, s.instance_id,"
    " s.said_erased_at AS falas_apagadas_em,"
    f"{_COUNTS}, s.started_at AS _at, s.id AS _id FROM sessions s{_JOIN}"
)
_ALERTS = (
    "SELECT a.id, a.session_id, b.id AS balcao_id, b.nome_balcao, c.id AS cliente_id,"
    " c.razao_social, b.loja_id, l.nome AS loja, a.sinal, a.sinais, a.motivo, a.orientacao,"
    " a.transcricao_base,"
    " a.atendente, a.created_at, a.sent_at, a.ciente_em, a.ciente_por,"
    " a.created_at AS _at, a.id AS _id"
    f" FROM alerts a JOIN sessions s ON s.id = a.session_id{_JOIN}"
)


def sessions_page(
    conn: psycopg.Connection,
    limit: int,
    cursor: Cursor | None,
    filters: Filters,
    atendente: str | None,
) -> Page:
    """Conversations newest first (`filters` on the session's start; `atendente` by name)."""
    parts, params = filters.where("s.started_at")
    if atendente is not None:
        parts.append("lower(s.atendente) = lower(%s)")
        params.append(atendente)
    return keyset_page(
        conn, _SESSIONS, ("s.started_at", "s.id", "uuid"), (parts, params), limit, cursor
    )


def alerts_page(
    conn: psycopg.Connection,
    limit: int,
    cursor: Cursor | None,
    filters: Filters,
    atendente: str | None,
    sinal: str | None,
) -> Page:
    """Referral alerts newest first, filtered like conversations (`atendente`: the alert's)."""
    parts, params = filters.where("a.created_at")
    if atendente is not None:
        parts.append("lower(a.atendente) = lower(%s)")
        params.append(atendente)
    if sinal is not None:
        parts.append("%s = ANY(a.sinais)")
        params.append(sinal)
    return keyset_page(
        conn, _ALERTS, ("a.created_at", "a.id", "uuid"), (parts, params), limit, cursor
    )


def session_row(conn: psycopg.Connection, session_id: str) -> Row | None:
    """One conversation's session row with its counts, or None."""
    sql = f"{_SESSIONS} WHERE s.id = %s"
    row: Row | None = (
        conn.cursor(row_factory=dict_row).execute(sql.encode(), (session_id,)).fetchone()
    )
    if row is not None:
        del row["_at"], row["_id"]
    return row


_TIMELINE = """
SELECT 'fala' AS tipo, g.id::text AS id, g.created_at AS em, g.audio_start AS audio_s,
       g.transcript AS texto, g.status, g.error AS erro, NULL::text AS produto,
       NULL::text AS explicacao, NULL::boolean AS aceita, NULL::timestamptz AS feedback_em,
       NULL::text AS fonte, NULL::text AS sinal, NULL::text AS orientacao, g.atendente,
       g.falante, NULL::timestamptz AS ciente_em, NULL::text AS ciente_por
  FROM segments g WHERE g.session_id = %(sid)s
UNION ALL
SELECT 'recomendacao', r.id::text, r.created_at, NULL, r.transcricao_base, NULL, NULL, r.produto,
       r.explicacao, r.aceita, r.feedback_at, r.source, NULL, NULL, r.atendente, NULL, NULL, NULL
  FROM recommendations r WHERE r.session_id = %(sid)s
UNION ALL
SELECT 'alerta', a.id::text, a.created_at, NULL, a.transcricao_base, NULL, NULL, NULL, a.motivo,
       NULL, NULL, 'red_flags', a.sinal, a.orientacao, a.atendente, NULL, a.ciente_em,
       a.ciente_por
  FROM alerts a WHERE a.session_id = %(sid)s
UNION ALL
SELECT 'recusa', f.id::text, f.created_at, NULL, f.said, NULL, f.reason, NULL, NULL, NULL, NULL,
       f.provider || ':' || f.model, NULL, NULL, NULL, NULL, NULL, NULL
  FROM advice_refusals f WHERE f.session_id = %(sid)s
ORDER BY em, id
LIMIT 2000
"""


def timeline(conn: psycopg.Connection, session_id: str) -> list[Row]:
    """What happened in the conversation, oldest first (at most 2,000 items)."""
    rows: list[Row] = (
        conn.cursor(row_factory=dict_row)
        .execute(_TIMELINE.encode(), {"sid": session_id})
        .fetchall()
    )
    return rows
