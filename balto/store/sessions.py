"""Sessions and what they produce: segments, transcripts, recommendations, provider calls.

Plain sync functions of a connection, run through `Database.run` by the actors.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg

from balto.errors import ProviderError


@dataclass(frozen=True, slots=True)
class ProviderCall:
    """One call to a provider, as accounted: latency, outcome and cost."""

    kind: str  # 'stt' | 'llm'
    provider: str
    model: str
    ok: bool
    latency_ms: float
    cost_usd: float = 0.0
    error_category: str | None = None
    error: str | None = None
    audio_seconds: float | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None

    @classmethod
    def failed(
        cls,
        kind: str,
        model: str,
        latency_s: float,
        exc: ProviderError,
        audio_seconds: float | None = None,
    ) -> ProviderCall:
        """The accounting of a call that raised `exc` after `latency_s`."""
        return cls(
            kind=kind,
            provider=exc.provider,
            model=model,
            ok=False,
            latency_ms=latency_s * 1000,
            error_category=exc.category.value,
            error=exc.message,
            audio_seconds=audio_seconds,
        )


def open_session(
    conn: psycopg.Connection,
    session_id: str,
    balcao_id: str,
    instance_id: str | None = None,
    *,
    at: datetime | None = None,
) -> None:
    """Record a new device session served by `instance_id`; idempotent (a spool may replay it).

    `at` is when it started (default: now).
    """
    conn.execute(
        "INSERT INTO sessions (id, balcao_id, instance_id, started_at)"
        " VALUES (%s, %s, %s, coalesce(%s, now())) ON CONFLICT (id) DO NOTHING",
        (session_id, balcao_id, instance_id, at),
    )


def close_session(
    conn: psycopg.Connection,
    session_id: str,
    *,
    audio_format: str | None,
    audio_seconds: float,
    close_code: int | None,
    close_reason: str | None,
    at: datetime | None = None,
) -> None:
    """Record how a session ended (`at`: when; default now)."""
    conn.execute(
        "UPDATE sessions SET ended_at = coalesce(%s, now()), audio_format = %s,"
        " audio_seconds = %s, close_code = %s, close_reason = %s WHERE id = %s",
        (at, audio_format, audio_seconds, close_code, close_reason, session_id),
    )


def add_segment(
    conn: psycopg.Connection,
    segment_id: str,
    session_id: str,
    seq: int,
    start: float,
    end: float,
    *,
    at: datetime | None = None,
) -> None:
    """Record a segment the VAD cut, before it is transcribed (so none is silently lost).

    Idempotent: a segment handed again to a restarted transcriber is recorded once.
    """
    conn.execute(
        "INSERT INTO segments (id, session_id, seq, audio_start, audio_end, status, created_at)"
        " VALUES (%s, %s, %s, %s, %s, 'pending', coalesce(%s, now())) ON CONFLICT (id) DO NOTHING",
        (segment_id, session_id, seq, start, end, at),
    )


def segment_transcribed(
    conn: psycopg.Connection,
    segment_id: str,
    text: str,
    provider: str,
    language: str | None,
    *,
    at: datetime | None = None,
) -> None:
    """Store a segment's transcript (`at`: when it came; default now)."""
    conn.execute(
        "UPDATE segments SET status = 'transcribed', transcript = %s, stt_provider = %s,"
        " language = %s, transcribed_at = coalesce(%s, now()) WHERE id = %s",
        (text, provider, language, at, segment_id),
    )


def segment_failed(conn: psycopg.Connection, segment_id: str, reason: str) -> None:
    """Mark a segment as not transcribed, with the reason."""
    conn.execute(
        "UPDATE segments SET status = 'failed', error = %s WHERE id = %s", (reason, segment_id)
    )


def add_recommendation(
    conn: psycopg.Connection,
    *,
    recommendation_id: str,
    session_id: str,
    segment_id: str | None,
    produto: str,
    explicacao: str,
    transcricao_base: str,
    atendente: str | None,
    source: str,
    at: datetime | None = None,
    cuidados: list[str] | None = None,
) -> None:
    """Store a recommendation before it is sent (`at`: when it was made; default now).

    `cuidados`: what the customer had said that ruled products out (`balto.advice.cautions`).
    """
    conn.execute(
        "INSERT INTO recommendations (id, session_id, segment_id, produto, explicacao,"
        " transcricao_base, atendente, source, created_at, cuidados)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, coalesce(%s, now()), %s)"
        " ON CONFLICT (id) DO NOTHING",
        (
            recommendation_id,
            session_id,
            segment_id,
            produto,
            explicacao,
            transcricao_base,
            atendente,
            source,
            at,
            cuidados or None,
        ),
    )


def withdraw_recommendation(
    conn: psycopg.Connection, recommendation_id: str, motivo: str, *, at: datetime | None = None
) -> None:
    """Record that a suggestion on the screen was ruled out by later words (the first time)."""
    conn.execute(
        "UPDATE recommendations SET retirada_em = coalesce(%s, now()), retirada_motivo = %s"
        " WHERE id = %s AND retirada_em IS NULL",
        (at, motivo, recommendation_id),
    )


def recommendation_sent(
    conn: psycopg.Connection, recommendation_id: str, *, at: datetime | None = None
) -> None:
    """Record when (`at`, default now) the recommendation frame left for the device."""
    conn.execute(
        "UPDATE recommendations SET sent_at = coalesce(%s, now()) WHERE id = %s",
        (at, recommendation_id),
    )


def add_provider_call(
    conn: psycopg.Connection,
    call: ProviderCall,
    *,
    session_id: str | None,
    segment_id: str | None,
    at: datetime | None = None,
    event_id: str | None = None,
) -> None:
    """Account one provider call (`at`: when it was made; default now).

    `event_id` (the recorder's) makes the insert idempotent.
    """
    conn.execute(
        "INSERT INTO provider_calls (session_id, segment_id, kind, provider, model, ok,"
        " error_category, error, latency_ms, audio_seconds, input_tokens, output_tokens,"
        " cost_usd, created_at, event_id)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, coalesce(%s, now()), %s)"
        " ON CONFLICT (event_id) DO NOTHING",
        (
            session_id,
            segment_id,
            call.kind,
            call.provider,
            call.model,
            call.ok,
            call.error_category,
            call.error,
            call.latency_ms,
            call.audio_seconds,
            call.input_tokens,
            call.output_tokens,
            call.cost_usd,
            at,
            event_id,
        ),
    )
