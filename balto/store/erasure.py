"""Erasing what was said at the counter: one conversation on request, or everything past retention.

What a customer says at a pharmacy counter is personal data, often about health (LGPD art. 11).
Erased: segment transcripts (NULL), the utterances quoted by suggestions and alerts and by
refused advisor answers (''), and STT comparisons' texts. Kept: the rows themselves with their
times, roles, products, reasons, signs and feedback, so counts and reports still add up.
Migration 0012 makes a conversation's erasure stick against writes that reach it later (the
recorder replaying a spool). Plain sync functions of a connection (run them through
`Database.run`, one transaction each).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg

BATCH = 500  # rows per table per retention step: short transactions beside the live traffic
_RETENTION_LOCK = 0x0BA174  # one instance erases at a time (the others find the lock taken)

# (key, table, what erases, what still holds text): the same for both kinds of erasure
_TEXTS = (
    ("falas", "segments", "transcript = NULL", "transcript IS NOT NULL"),
    ("recomendacoes", "recommendations", "transcricao_base = ''", "transcricao_base <> ''"),
    ("alertas", "alerts", "transcricao_base = ''", "transcricao_base <> ''"),
    (
        "comparacoes",
        "stt_comparisons",
        "primary_text = '', secondary_text = NULL",
        "(primary_text <> '' OR secondary_text IS NOT NULL)",
    ),
    ("recusas", "advice_refusals", "said = ''", "said <> ''"),
)


@dataclass(frozen=True, slots=True)
class Erased:
    """What one erasure did: rows whose text was erased, per kind, and when."""

    at: datetime
    counts: dict[str, int]


class StillLive(Exception):
    """The conversation has not ended: what it says next would not be erased."""


def erase_conversation(conn: psycopg.Connection, session_id: str) -> Erased | None:
    """Erase everything said in one ended conversation; None when there is no such session.

    Raises:
        StillLive: The session has not ended.
    """
    row = conn.execute(
        "SELECT ended_at IS NULL, coalesce(said_erased_at, now()) FROM sessions"
        " WHERE id = %s FOR UPDATE",
        (session_id,),
    ).fetchone()
    if row is None:
        return None
    live, at = row
    if live:
        raise StillLive(session_id)
    conn.execute(
        "UPDATE sessions SET said_erased_at = %s WHERE id = %s AND said_erased_at IS NULL",
        (at, session_id),
    )
    counts = {}
    for key, table, erase, holds in _TEXTS:
        cursor = conn.execute(
            f"UPDATE {table} SET {erase} WHERE session_id = %s AND {holds}".encode(),
            (session_id,),
        )
        counts[key] = cursor.rowcount
    return Erased(at, counts)


def erase_older_than(conn: psycopg.Connection, days: int) -> dict[str, int] | None:
    """One retention step: erase up to `BATCH` rows per table older than `days` days.

    Returns the rows erased per kind (all zero: nothing older is left), or None when another
    instance holds the retention lock (it is doing this work).
    """
    taken = conn.execute("SELECT pg_try_advisory_xact_lock(%s)", (_RETENTION_LOCK,)).fetchone()
    if not (taken and taken[0]):
        return None
    counts = {}
    for key, table, erase, holds in _TEXTS:
        cursor = conn.execute(
            f"UPDATE {table} SET {erase} WHERE id IN (SELECT id FROM {table}"
            f" WHERE created_at < now() - make_interval(days => %s) AND {holds}"
            " ORDER BY created_at LIMIT %s)".encode(),
            (days, BATCH),
        )
        counts[key] = cursor.rowcount
    return counts
