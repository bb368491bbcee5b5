"""Admin reads and writes: clientes and balcões listings, history pages, revocation, the audit log.

Plain sync functions of a connection (run them through `Database.run`). Listings and history are
keyset-paginated newest first on ``(created_at, id)``: a page asks for ``limit`` rows after an
opaque `Cursor` and gets the cursor of its last row when more rows follow, so pages stay stable
while devices keep inserting.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

Row = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where a page ends: the last row's time and id (ids compare as text of their type)."""

    at: datetime
    id: str


@dataclass(frozen=True, slots=True)
class Filters:
    """What admins narrow history and exports by; every field is optional.

    Attributes:
        cliente_id: Only this cliente's balcões.
        loja_id: Only the balcões of this store (`balto.store.lojas`).
        balcao_id: Only this balcão.
        desde: Rows created at or after this instant.
        ate: Rows created before this instant.
    """

    cliente_id: str | None = None
    balcao_id: str | None = None
    desde: datetime | None = None
    ate: datetime | None = None
    loja_id: str | None = None

    def where(self, time_column: str) -> tuple[list[str], list[Any]]:
        """SQL conditions (on aliases ``b`` = balcoes and `time_column`) and their parameters."""
        parts: list[str] = []
        params: list[Any] = []
        for column, value in (
            ("b.cliente_id", self.cliente_id),
            ("b.loja_id", self.loja_id),
            ("b.id", self.balcao_id),
        ):
            if value is not None:
                parts.append(f"{column} = %s")
                params.append(value)
        if self.desde is not None:
            parts.append(f"{time_column} >= %s")
            params.append(self.desde)
        if self.ate is not None:
            parts.append(f"{time_column} < %s")
            params.append(self.ate)
        return parts, params


@dataclass(frozen=True, slots=True)
class Page:
    """One page of rows and the cursor of the next one (None on the last page)."""

    rows: list[Row]
    next_cursor: Cursor | None


def keyset_page(
    conn: psycopg.Connection,
    select: str,
    key: tuple[str, str, str],
    where: tuple[list[str], list[Any]],
    limit: int,
    cursor: Cursor | None,
) -> Page:
    """`limit` rows of `select` after `cursor`, newest first on `key` (time, id column, id type).

    `select` must also select the key as ``_at`` and ``_id``; they are taken out of the rows.
    """
    time_column, id_column, id_type = key
    parts, params = list(where[0]), list(where[1])
    if cursor is not None:
        parts.append(f"({time_column}, {id_column}) < (%s, %s::{id_type})")
        params += [cursor.at, cursor.id]
    clause = f" WHERE {' AND '.join(parts)}" if parts else ""
    sql = f"{select}{clause} ORDER BY {time_column} DESC, {id_column} DESC LIMIT %s"
    rows = conn.cursor(row_factory=dict_row).execute(sql.encode(), [*params, limit + 1]).fetchall()
    more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1] if more else None
    next_cursor = Cursor(last["_at"], str(last["_id"])) if last is not None else None
    for row in rows:
        del row["_at"], row["_id"]
    return Page(rows, next_cursor)


_CLIENTES = (
    "SELECT c.id, c.codigo, c.email, c.razao_social, c.telefone, c.created_at,"
    " c.exige_dois_fatores, c.suspenso_em, c.suspenso_motivo,"
    " (SELECT count(*) FROM balcoes b WHERE b.cliente_id = c.id{}) AS balcoes,"
    " c.created_at AS _at, c.id AS _id FROM clientes c"
)
_BALCOES = (
    "SELECT b.id, b.cliente_id, c.razao_social, b.nome_balcao, b.api_key_hint, b.revoked_at,"
    " b.created_at, b.loja_id, l.nome AS loja, ls.session_id AS live_session_id,"
    " c.suspenso_em IS NOT NULL AS cliente_suspenso, u.em AS ultima_conexao_em,"
    " b.created_at AS _at, b.id AS _id"
    " FROM balcoes b JOIN clientes c ON c.id = b.cliente_id LEFT JOIN lojas l ON l.id = b.loja_id"
    # a session live on any instance of the cluster (its claim, `balto.store.cluster`)
    " LEFT JOIN live_sessions ls ON ls.balcao_id = b.id"
    # when the counter was last connected: its newest session's end, or its start while open
    # (one backward step on the index sessions_balcao per balcão listed)
    " LEFT JOIN LATERAL (SELECT GREATEST(s.started_at, s.ended_at) AS em FROM sessions s"
    " WHERE s.balcao_id = b.id ORDER BY s.started_at DESC LIMIT 1) u ON true"
)
_FROM_SESSION = (
    " JOIN sessions s ON s.id = x.session_id JOIN balcoes b ON b.id = s.balcao_id"
    " JOIN clientes c ON c.id = b.cliente_id"
)
_SEGMENTS = (
    "SELECT x.id, x.session_id, b.id AS balcao_id, b.nome_balcao, c.id AS cliente_id,"
    " c.razao_social, x.seq, x.audio_start, x.audio_end, x.status, x.transcript,"
    " x.stt_provider, x.language, x.error, x.created_at, x.transcribed_at,"
    " x.falante, x.atendente_id, x.atendente, x.falante_score, x.novo_atendimento,"
    f" x.created_at AS _at, x.id AS _id FROM segments x{_FROM_SESSION}"
)
_RECOMMENDATIONS = (
    "SELECT x.id, x.session_id, x.segment_id, b.id AS balcao_id, b.nome_balcao,"
    " c.id AS cliente_id, c.razao_social, x.produto, x.explicacao, x.transcricao_base,"
    " x.atendente, x.source, x.created_at, x.sent_at, x.aceita, x.feedback_at,"
    f" x.created_at AS _at, x.id AS _id FROM recommendations x{_FROM_SESSION}"
)
_ALERTS = (
    "SELECT x.id, x.session_id, x.segment_id, b.id AS balcao_id, b.nome_balcao,"
    " c.id AS cliente_id, c.razao_social, x.sinal, x.sinais, x.motivo, x.orientacao,"
    " x.transcricao_base, x.atendente, x.created_at, x.sent_at, x.orientado_em,"
    f" x.created_at AS _at, x.id AS _id FROM alerts x{_FROM_SESSION}"
)
_REFUSALS = (
    "SELECT x.id, x.session_id, x.segment_id, b.id AS balcao_id, b.nome_balcao,"
    " c.id AS cliente_id, c.razao_social, x.provider, x.model, x.reason, x.said, x.created_at,"
    f" x.created_at AS _at, x.id AS _id FROM advice_refusals x{_FROM_SESSION}"
)
_AUDIT = (
    "SELECT a.id, a.at, a.action, a.balcao_id, a.session_id, a.remote_addr, a.ator, a.detail,"
    " a.at AS _at, a.id AS _id FROM admin_audit a"
)


def list_clientes(
    conn: psycopg.Connection, limit: int, cursor: Cursor | None, filters: Filters
) -> Page:
    """Clientes, newest first, with how many balcões each has (by period, and one cliente).

    With a store filter, the balcões counted are that store's.
    """
    parts, params = Filters(desde=filters.desde, ate=filters.ate).where("c.created_at")
    if filters.cliente_id is not None:
        parts.append("c.id = %s")
        params.append(filters.cliente_id)
    select = _CLIENTES.format("")
    if filters.loja_id is not None:
        # inline, as a literal: `keyset_page` binds parameters for its WHERE only, and a UUID
        # made canonical here cannot carry anything else
        select = _CLIENTES.format(f" AND b.loja_id = '{uuid.UUID(filters.loja_id)}'::uuid")
    return keyset_page(
        conn, select, ("c.created_at", "c.id", "uuid"), (parts, params), limit, cursor
    )


def list_balcoes(
    conn: psycopg.Connection, limit: int, cursor: Cursor | None, filters: Filters
) -> Page:
    """Balcões, newest first, with their cliente, store, revocation and live session if any."""
    where = filters.where("b.created_at")
    return keyset_page(conn, _BALCOES, ("b.created_at", "b.id", "uuid"), where, limit, cursor)


def segments_page(
    conn: psycopg.Connection, limit: int, cursor: Cursor | None, filters: Filters
) -> Page:
    """Transcribed (or failed) segments, newest first."""
    where = filters.where("x.created_at")
    return keyset_page(conn, _SEGMENTS, ("x.created_at", "x.id", "uuid"), where, limit, cursor)


def recommendations_page(
    conn: psycopg.Connection,
    limit: int,
    cursor: Cursor | None,
    filters: Filters,
    aceita: bool | None = None,
    sem_feedback: bool = False,
) -> Page:
    """Recommendations with their feedback, newest first.

    Args:
        conn: The connection.
        limit: Rows per page.
        cursor: Where the previous page ended.
        filters: Cliente, balcão and period.
        aceita: Only accepted (True) or refused (False) ones.
        sem_feedback: Only those nobody gave feedback on.

    Returns:
        The page.
    """
    parts, params = filters.where("x.created_at")
    if aceita is not None:
        parts.append("x.aceita = %s")
        params.append(aceita)
    if sem_feedback:
        parts.append("x.aceita IS NULL")
    key = ("x.created_at", "x.id", "uuid")
    return keyset_page(conn, _RECOMMENDATIONS, key, (parts, params), limit, cursor)


def alerts_page(
    conn: psycopg.Connection,
    limit: int,
    cursor: Cursor | None,
    filters: Filters,
    sinal: str | None = None,
) -> Page:
    """Referral alerts, newest first; `sinal` keeps those naming that sign."""
    parts, params = filters.where("x.created_at")
    if sinal is not None:
        parts.append("%s = ANY(x.sinais)")
        params.append(sinal)
    key = ("x.created_at", "x.id", "uuid")
    return keyset_page(conn, _ALERTS, key, (parts, params), limit, cursor)


def refusals_page(
    conn: psycopg.Connection,
    limit: int,
    cursor: Cursor | None,
    filters: Filters,
    provider: str | None = None,
    reason: str | None = None,
) -> Page:
    """Advisor answers that were refused, with why and what was said, newest first."""
    parts, params = filters.where("x.created_at")
    for column, value in (("x.provider", provider), ("x.reason", reason)):
        if value is not None:
            parts.append(f"{column} = %s")
            params.append(value)
    key = ("x.created_at", "x.id", "bigint")
    return keyset_page(conn, _REFUSALS, key, (parts, params), limit, cursor)


def refusal_counts(conn: psycopg.Connection, filters: Filters) -> list[Row]:
    """How often each provider/model's answers were refused, by reason, and how often it answered.

    ``answers`` counts the model's successful calls in the same period and scope, so a rate can
    be read next to each count.
    """
    parts, params = filters.where("x.created_at")
    clause = f" WHERE {' AND '.join(parts)}" if parts else ""
    sql = (
        "WITH r AS (SELECT x.provider, x.model, x.reason, count(*) AS recusas"
        f" FROM advice_refusals x{_FROM_SESSION}{clause} GROUP BY 1, 2, 3),"
        " a AS (SELECT x.provider, x.model, count(*) AS respostas"
        f" FROM provider_calls x{_FROM_SESSION}{clause}"
        f"{' AND' if clause else ' WHERE'} x.kind = 'llm' AND x.ok GROUP BY 1, 2)"
        " SELECT r.provider, r.model, r.reason, r.recusas, coalesce(a.respostas, 0) AS respostas"
        " FROM r LEFT JOIN a USING (provider, model) ORDER BY r.recusas DESC, 1, 2, 3"
    )
    cursor = conn.cursor(row_factory=dict_row)
    return cursor.execute(sql.encode(), [*params, *params]).fetchall()


@dataclass(frozen=True, slots=True)
class AuditFilters:
    """What the audit log is narrowed to (None: anything)."""

    cliente_id: str | None = None  # one chain's actions (its gestores')
    acao: str | None = None  # one action, by its code name
    ator: str | None = None  # part of who did it ("operador", a gestor's e-mail), any case
    desde: datetime | None = None
    ate: datetime | None = None  # exclusive


def audit_page(
    conn: psycopg.Connection,
    limit: int,
    cursor: Cursor | None,
    filters: AuditFilters = AuditFilters(),
) -> Page:
    """Admin actions, newest first."""
    parts: list[str] = []
    params: list[Any] = []
    if filters.cliente_id is not None:
        parts.append("a.cliente_id = %s")
        params.append(filters.cliente_id)
    if filters.acao is not None:
        parts.append("a.action = %s")
        params.append(filters.acao)
    if filters.ator is not None:
        # the person typed a piece of a name: their % and _ are letters, not patterns
        escaped = filters.ator.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        parts.append("a.ator ILIKE %s")
        params.append(f"%{escaped}%")
    if filters.desde is not None:
        parts.append("a.at >= %s")
        params.append(filters.desde)
    if filters.ate is not None:
        parts.append("a.at < %s")
        params.append(filters.ate)
    where = (parts, params)
    return keyset_page(conn, _AUDIT, ("a.at", "a.id", "bigint"), where, limit, cursor)


def revoke_balcao(conn: psycopg.Connection, balcao_id: str) -> datetime | None:
    """Revoke the balcão's key (idempotent: the first revocation time stays); None if unknown."""
    row = conn.execute(
        "UPDATE balcoes SET revoked_at = coalesce(revoked_at, now()) WHERE id = %s"
        " RETURNING revoked_at",
        (balcao_id,),
    ).fetchone()
    return None if row is None else row[0]


def record_action(
    conn: psycopg.Connection,
    action: str,
    *,
    balcao_id: str | None,
    session_id: str | None,
    remote_addr: str | None,
    detail: dict[str, Any],
    ator: str | None = None,
    cliente_id: str | None = None,
) -> None:
    """Append one admin action to the audit log (`ator`: operador, gestor:<e-mail>, or unknown).

    `cliente_id` is the chain it belongs to; without it, a ``gestor:<e-mail>`` row (a sign-in,
    where nobody is signed in yet) takes the chain of the active account with that e-mail.
    """
    conn.execute(
        "INSERT INTO admin_audit (action, balcao_id, session_id, remote_addr, ator, detail,"
        " cliente_id) VALUES (%s, %s, %s, %s, %s, %s, coalesce(%s::uuid, (SELECT g.cliente_id"
        " FROM gestores g WHERE lower(g.email) = lower(%s) AND g.desativado_em IS NULL)))",
        (
            action,
            uuid_or_none(balcao_id),
            session_id,
            remote_addr,
            ator,
            json.dumps(detail),
            cliente_id,
            # the e-mail of a ``gestor:`` row, matched as the sign-in's unique index reads it
            ator.removeprefix("gestor:") if ator and ator.startswith("gestor:") else None,
        ),
    )


def uuid_or_none(value: str | None) -> str | None:
    """Ids from URLs are not always UUIDs (a 404 is audited too); keep only real ones."""
    if value is None:
        return None
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None
