"""Storage for what supervision decides: segments that never reach the STT, session totals."""

from __future__ import annotations

import psycopg


def store_failed_segment(
    conn: psycopg.Connection,
    segment_id: str,
    session_id: str,
    seq: int,
    start: float,
    end: float,
    reason: str,
) -> None:
    """Record a segment as failed with `reason`, whether or not it was stored before.

    A segment already transcribed or failed keeps its first outcome.
    """
    conn.execute(
        "INSERT INTO segments (id, session_id, seq, audio_start, audio_end, status, error)"
        " VALUES (%s, %s, %s, %s, %s, 'failed', %s)"
        " ON CONFLICT (id) DO UPDATE SET status = 'failed', error = EXCLUDED.error"
        " WHERE segments.status = 'pending'",
        (segment_id, session_id, seq, start, end, reason),
    )


def fail_pending_segments(conn: psycopg.Connection, session_id: str, reason: str) -> int:
    """Mark every still-pending segment of the session as failed; how many there were."""
    cursor = conn.execute(
        "UPDATE segments SET status = 'failed', error = %s"
        " WHERE session_id = %s AND status = 'pending'",
        (reason, session_id),
    )
    return cursor.rowcount


def record_supervision(
    conn: psycopg.Connection,
    session_id: str,
    *,
    segments_emitted: int,
    segments_dropped: int,
    restarts: int,
) -> None:
    """Store the session's supervision totals when it ends."""
    conn.execute(
        "UPDATE sessions SET segments_emitted = %s, segments_dropped = %s, restarts = %s"
        " WHERE id = %s",
        (segments_emitted, segments_dropped, restarts, session_id),
    )
