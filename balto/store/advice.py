"""Alerts, refused advice, the attendant, feedback, per-cliente catalogs and STT comparisons.

Plain sync functions of a connection (run them through `Database.run`).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import psycopg

from balto.catalog import Catalog


def add_alert(
    conn: psycopg.Connection,
    *,
    alert_id: str,
    session_id: str,
    segment_id: str | None,
    sinal: str,
    motivo: str,
    orientacao: str,
    transcricao_base: str,
    sinais: Sequence[str] = (),
    atendente: str | None = None,
    at: datetime | None = None,
) -> None:
    """Store a referral alert before it is sent (`sinais`: every sign it names, `sinal` first).

    `at` is when it was made (default now).
    """
    conn.execute(
        "INSERT INTO alerts (id, session_id, segment_id, sinal, motivo, orientacao,"
        " transcricao_base, sinais, atendente, created_at)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, coalesce(%s, now()))"
        " ON CONFLICT (id) DO NOTHING",
        (
            alert_id,
            session_id,
            segment_id,
            sinal,
            motivo,
            orientacao,
            transcricao_base,
            list(sinais) or [sinal],
            atendente,
            at,
        ),
    )


def add_refusal(
    conn: psycopg.Connection,
    *,
    session_id: str,
    segment_id: str | None,
    provider: str,
    model: str,
    reason: str,
    said: str,
    at: datetime | None = None,
    event_id: str | None = None,
) -> None:
    """Store one advisor answer that was refused, and why (`at`: when; default now).

    `event_id` (the recorder's) makes the insert idempotent.
    """
    conn.execute(
        "INSERT INTO advice_refusals (session_id, segment_id, provider, model, reason, said,"
        " created_at, event_id) VALUES (%s, %s, %s, %s, %s, %s, coalesce(%s, now()), %s)"
        " ON CONFLICT (event_id) DO NOTHING",
        (session_id, segment_id, provider, model, reason, said, at, event_id),
    )


def set_session_attendant(conn: psycopg.Connection, session_id: str, nome: str | None) -> None:
    """Record the attendant the device declared for this session (None: signed out)."""
    conn.execute("UPDATE sessions SET atendente = %s WHERE id = %s", (nome, session_id))


def alert_sent(conn: psycopg.Connection, alert_id: str, *, at: datetime | None = None) -> None:
    """Record when (`at`, default now) the alert frame left for the device."""
    conn.execute("UPDATE alerts SET sent_at = coalesce(%s, now()) WHERE id = %s", (at, alert_id))


def record_feedback(
    conn: psycopg.Connection,
    recommendation_id: str,
    balcao_id: str,
    aceita: bool,
    *,
    at: datetime | None = None,
) -> bool:
    """Store the attendant's verdict on a recommendation made at this balcão.

    Args:
        conn: The connection.
        recommendation_id: The ``id`` the device got in the ``recomendar`` frame.
        balcao_id: The balcão giving feedback; only its own recommendations are accepted.
        aceita: Whether the attendant accepted the suggestion.
        at: When the verdict was given (default now).

    Returns:
        False when no recommendation of this balcão has that id.
    """
    try:
        # canonical: Python also reads "urn:uuid:…" and other forms PostgreSQL refuses
        recommendation_id = str(uuid.UUID(recommendation_id))
    except ValueError:
        return False
    cursor = conn.execute(
        "UPDATE recommendations r SET aceita = %s, feedback_at = coalesce(%s, now())"
        " FROM sessions s WHERE r.id = %s AND s.id = r.session_id AND s.balcao_id = %s",
        (aceita, at, recommendation_id, balcao_id),
    )
    return cursor.rowcount == 1


def record_orientation(
    conn: psycopg.Connection, alert_id: str, balcao_id: str, *, at: datetime | None = None
) -> bool:
    """Store that the attendant gave an alert of this balcão its guidance (the first time stays).

    Args:
        conn: The connection.
        alert_id: The ``id`` the device got in the ``alerta`` frame.
        balcao_id: The balcão saying so; only its own alerts are accepted.
        at: When she said so (default now).

    Returns:
        False when no alert of this balcão has that id.
    """
    try:
        alert_id = str(uuid.UUID(alert_id))  # canonical, as in `record_feedback`
    except ValueError:
        return False
    cursor = conn.execute(
        "UPDATE alerts SET orientado_em = coalesce(orientado_em, %s, now())"
        " WHERE id = %s AND balcao_id = %s",
        (at, alert_id, balcao_id),
    )
    return cursor.rowcount == 1


def mark_new_atendimento(conn: psycopg.Connection, segment_id: str, origem: str) -> None:
    """Mark a segment as the first of a new customer's service (idempotent: an update).

    `origem` is ``balcao`` (the device said the next customer is served) or ``pausa`` (nothing
    was said for the advice's pause before it).
    """
    conn.execute("UPDATE segments SET novo_atendimento = %s WHERE id = %s", (origem, segment_id))


def save_cliente_catalog(
    conn: psycopg.Connection, cliente_id: str, catalog: Catalog, source: str | None = None
) -> None:
    """Store (or replace) a cliente's own catalog."""
    from balto.catalog.csv_import import catalog_to_json

    conn.execute(
        "INSERT INTO cliente_catalogs (cliente_id, products, source) VALUES (%s, %s, %s)"
        " ON CONFLICT (cliente_id) DO UPDATE SET products = EXCLUDED.products,"
        " source = EXCLUDED.source, imported_at = now()",
        (cliente_id, catalog_to_json(catalog), source),
    )


def load_cliente_catalog(conn: psycopg.Connection, cliente_id: str) -> Catalog | None:
    """A cliente's own catalog, or None when it has not imported one."""
    row = conn.execute(
        "SELECT products FROM cliente_catalogs WHERE cliente_id = %s", (cliente_id,)
    ).fetchone()
    if row is None:
        return None
    products = row[0]
    return Catalog.from_json(products if isinstance(products, str) else json.dumps(products))


def cliente_catalog_version(conn: psycopg.Connection, cliente_id: str) -> str | None:
    """When the cliente's catalog was last imported (its version), or None without one."""
    row = conn.execute(
        "SELECT imported_at FROM cliente_catalogs WHERE cliente_id = %s", (cliente_id,)
    ).fetchone()
    return None if row is None else str(row[0].isoformat())


@dataclass(frozen=True, slots=True)
class SttOutcome:
    """One side of a comparison: who transcribed, what, how fast, at what cost (or why not)."""

    provider: str
    model: str
    text: str | None
    latency_ms: float
    cost_usd: float
    error: str | None = None


def add_comparison(
    conn: psycopg.Connection,
    *,
    session_id: str,
    segment_id: str,
    primary: SttOutcome,
    secondary: SttOutcome,
    wer: float | None,
    at: datetime | None = None,
    event_id: str | None = None,
) -> None:
    """Store one comparison of two providers' transcripts of the same segment (`at`: when).

    `event_id` (the recorder's) makes the insert idempotent.
    """
    conn.execute(
        "INSERT INTO stt_comparisons (session_id, segment_id, primary_provider, primary_model,"
        " primary_text, primary_latency_ms, primary_cost_usd, secondary_provider,"
        " secondary_model, secondary_ok, secondary_text, secondary_error,"
        " secondary_latency_ms, secondary_cost_usd, wer, created_at, event_id)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s,"
        " coalesce(%s, now()), %s) ON CONFLICT (event_id) DO NOTHING",
        (
            session_id,
            segment_id,
            primary.provider,
            primary.model,
            primary.text or "",
            primary.latency_ms,
            primary.cost_usd,
            secondary.provider,
            secondary.model,
            secondary.error is None,
            secondary.text,
            secondary.error,
            secondary.latency_ms,
            secondary.cost_usd,
            wer,
            at,
            event_id,
        ),
    )
