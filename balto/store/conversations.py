"""Conversations (sessions) for the admin app: a filtered, paged list and one conversation in full.

Plain sync functions of a connection (run them through `Database.run`). The list is keyset-paged
newest first on ``(started_at, id)`` like `balto.store.history`, with the same `Filters` plus the
attendant's name (case-insensitive); so are the Histórico page's alerts. One conversation is its
session row and a timeline of what was said (segments), suggested (with the reason and the
feedback), alerted and refused.
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from psycopg.rows import dict_row

from balto.store.history import Cursor, Filters, Page, keyset_page
from balto.store.text_search import has_words

Row = dict[str, Any]

_COUNTS = (
    " (SELECT count(*) FROM segments g WHERE g.session_id = s.id AND g.status = 'transcribed')"
    " AS falas,"
    " (SELECT count(*) FROM recommendations r WHERE r.session_id = s.id) AS recomendacoes,"
    " (SELECT count(*) FROM recommendations r WHERE r.session_id = s.id AND r.aceita)"
    " AS aceitas,"
    " (SELECT count(*) FROM alerts a WHERE a.session_id = s.id) AS alertas,"
    # the customers served: the first, and each one a segment marks as new (migration 0036)
    " 1 + (SELECT count(*) FROM segments g WHERE g.session_id = s.id"
    " AND g.novo_atendimento IS NOT NULL) AS atendimentos"
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
    " a.atendente, a.created_at, a.sent_at, a.ciente_em, a.ciente_por, a.orientado_em,"
    " a.created_at AS _at, a.id AS _id"
    f" FROM alerts a JOIN sessions s ON s.id = a.session_id{_JOIN}"
)


def sessions_page(
    conn: psycopg.Connection,
    limit: int,
    cursor: Cursor | None,
    filters: Filters,
    atendente: str | None,
    busca: str | None = None,
) -> Page:
    """Conversations newest first (`filters` on the session's start; `atendente` by name).

    `busca`: only conversations where one utterance, or one suggested product, holds every word
    of it (any order, case and accents; `balto.store.text_search`); each row then carries
    ``trecho``, the first utterance holding them (null when only a product did).
    """
    parts, params = filters.where("s.started_at")
    if atendente is not None:
        parts.append("lower(s.atendente) = lower(%s)")
        params.append(atendente)
    key = ("s.started_at", "s.id", "uuid")
    if busca is None:
        return keyset_page(conn, _SESSIONS, key, (parts, params), limit, cursor)
    busca = unicodedata.normalize("NFC", busca)  # "a" + U+0301 as "á", which folding knows
    # Newest first, so look back over widening windows and stop at the first that fills the
    # page: a word said in a third of the conversations is found among last week's, without
    # reading the index's every match; a rare one costs a few index reads more.
    anchor = cursor.at if cursor is not None else (filters.ate or datetime.now(UTC))
    for days in _SEARCH_WINDOWS_DAYS:
        since = None if days is None else anchor - timedelta(days=days)
        if since is not None and filters.desde is not None and since <= filters.desde:
            since = None  # the period filter bounds it already: this is the last window
        where = _found(parts, params, busca, since or filters.desde)
        if since is not None:
            where[0].append("s.started_at >= %s")
            where[1].append(since)
        page = keyset_page(conn, _SESSIONS, key, where, limit, cursor)
        if since is None or page.next_cursor is not None:
            break
    _add_excerpts(conn, page.rows, busca)
    return page


_SEARCH_WINDOWS_DAYS = (1, 7, 30, 120, 365, None)
_CLOCKS_APART = timedelta(hours=1)


def _found(
    parts: list[str], params: list[Any], busca: str, since: datetime | None
) -> tuple[list[str], list[Any]]:
    """`parts` and `params` plus: something said or suggested holds `busca` (since `since`).

    IN rather than EXISTS ... OR EXISTS: a semi-join the planner can feed from the word
    indexes. An utterance or suggestion is never older than its session, so `since` bounds them
    as it bounds the sessions, less `_CLOCKS_APART`: their times and the session's may come
    from different clocks (the instance's, the database's).
    """
    recent = "" if since is None else " AND {}.created_at >= %s"
    bound = [] if since is None else [since - _CLOCKS_APART]
    clause = (
        "s.id IN (SELECT g.session_id FROM segments g"
        f" WHERE {has_words('g')}{recent.format('g')}"
        " UNION ALL SELECT r.session_id FROM recommendations r"
        f" WHERE {has_words('r')}{recent.format('r')})"
    )
    return [*parts, clause], [*params, busca, *bound, busca, *bound]


def _add_excerpts(conn: psycopg.Connection, rows: list[Row], busca: str) -> None:
    """Set each row's ``trecho``: its first utterance holding `busca` (one query per page)."""
    found: dict[Any, str] = {}
    if rows:
        found = dict(
            conn.execute(
                "SELECT DISTINCT ON (g.session_id) g.session_id, g.transcript FROM segments g"
                f" WHERE g.session_id = ANY(%s) AND {has_words('g')}"
                " ORDER BY g.session_id, g.seq",
                ([row["id"] for row in rows], busca),
            ).fetchall()
        )
    for row in rows:
        row["trecho"] = found.get(row["id"])


def alerts_page(
    conn: psycopg.Connection,
    limit: int,
    cursor: Cursor | None,
    filters: Filters,
    atendente: str | None,
    sinal: str | None,
    sem_ciente: bool = False,
) -> Page:
    """Referral alerts newest first, filtered like conversations (`atendente`: the alert's).

    `sem_ciente`: only those no admin has acknowledged yet.
    """
    parts, params = filters.where("a.created_at")
    if atendente is not None:
        parts.append("lower(a.atendente) = lower(%s)")
        params.append(atendente)
    if sinal is not None:
        parts.append("%s = ANY(a.sinais)")
        params.append(sinal)
    if sem_ciente:
        parts.append("a.ciente_em IS NULL")
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
       g.falante, NULL::timestamptz AS ciente_em, NULL::text AS ciente_por,
       NULL::timestamptz AS orientado_em, g.novo_atendimento, NULL::timestamptz AS em_falta_em,
       NULL::text[] AS cuidados, NULL::timestamptz AS retirada_em, NULL::text AS retirada_motivo
  FROM segments g WHERE g.session_id = %(sid)s
UNION ALL
SELECT 'recomendacao', r.id::text, r.created_at, NULL, r.transcricao_base, NULL, NULL, r.produto,
       r.explicacao, r.aceita, r.feedback_at, r.source, NULL, NULL, r.atendente, NULL, NULL, NULL,
       NULL, NULL, r.em_falta_em, r.cuidados, r.retirada_em, r.retirada_motivo
  FROM recommendations r WHERE r.session_id = %(sid)s
UNION ALL
SELECT 'alerta', a.id::text, a.created_at, NULL, a.transcricao_base, NULL, NULL, NULL, a.motivo,
       NULL, NULL, 'red_flags', a.sinal, a.orientacao, a.atendente, NULL, a.ciente_em,
       a.ciente_por, a.orientado_em, NULL, NULL, NULL, NULL, NULL
  FROM alerts a WHERE a.session_id = %(sid)s
UNION ALL
SELECT 'recusa', f.id::text, f.created_at, NULL, f.said, NULL, f.reason, NULL, NULL, NULL, NULL,
       f.provider || ':' || f.model, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       NULL, NULL
  FROM advice_refusals f WHERE f.session_id = %(sid)s
"""
# A counter session can last a shift (thousands of utterances): the timeline is read in pages,
# on (em, id) as it is ordered.
_TIMELINE_PAGE = (
    f"SELECT * FROM ({_TIMELINE}) t"
    " WHERE %(at)s::timestamptz IS NULL OR (t.em, t.id) > (%(at)s::timestamptz, %(key)s)"
    " ORDER BY t.em, t.id LIMIT %(n)s"
)
TIMELINE_MAX = 2000  # items in one answer


def timeline(
    conn: psycopg.Connection,
    session_id: str,
    limit: int = TIMELINE_MAX,
    after: Cursor | None = None,
) -> Page:
    """What happened in the conversation, oldest first: `limit` items after `after`.

    The page's `next_cursor` is set when more items follow.
    """
    params = {
        "sid": session_id,
        "at": None if after is None else after.at,
        "key": None if after is None else after.id,
        "n": limit + 1,
    }
    rows: list[Row] = (
        conn.cursor(row_factory=dict_row).execute(_TIMELINE_PAGE.encode(), params).fetchall()
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, Cursor(rows[-1]["em"], rows[-1]["id"]) if more else None)
