"""Attendants' voiceprints and the speaker of each segment (migration 0010).

Functions take a psycopg connection and run in the store's worker threads (`Database.run`).
Only voiceprints (a few hundred bytes of voice statistics) are stored, never enrollment audio.
Every change of a cliente's voiceprints, of its attendants' names, or of where its attendants and
balcões stand, bumps its row in ``voiceprint_epochs`` (triggers: migrations 0010, 0023, 0026,
0029), and removing an attendant deletes the voiceprint (a trigger), so sessions see any of it at
once.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg


@dataclass(frozen=True, slots=True)
class StoredVoiceprint:
    """One attendant's stored voiceprint."""

    atendente_id: str
    nome: str
    model: str
    data: bytes
    loja_id: str | None = None  # the attendant's store (None: the whole chain)


def save_voiceprint(
    conn: psycopg.Connection,
    atendente_id: str,
    model: str,
    data: bytes,
    speech_s: float,
    verdict: str,
) -> bool:
    """Store (or replace) a live attendant's voiceprint; False when there is no such attendant."""
    with conn.transaction():
        row = conn.execute(
            "SELECT cliente_id FROM atendentes WHERE id = %s AND removed_at IS NULL FOR UPDATE",
            (atendente_id,),
        ).fetchone()
        if row is None:
            return False
        conn.execute(
            "INSERT INTO voiceprints (atendente_id, cliente_id, model, print, speech_s, verdict)"
            " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (atendente_id) DO UPDATE SET"
            " model = EXCLUDED.model, print = EXCLUDED.print, speech_s = EXCLUDED.speech_s,"
            " verdict = EXCLUDED.verdict, created_at = now()",
            (atendente_id, row[0], model, data, speech_s, verdict),
        )
    return True


def delete_voiceprint(conn: psycopg.Connection, atendente_id: str) -> bool:
    """Erase an attendant's voiceprint; False when there was none."""
    with conn.transaction():
        cur = conn.execute("DELETE FROM voiceprints WHERE atendente_id = %s", (atendente_id,))
    return cur.rowcount == 1


def voiceprint_epoch(conn: psycopg.Connection, cliente_id: str) -> int:
    """The cliente's voiceprint epoch: changes whenever any of its voiceprints does (0: never)."""
    row = conn.execute(
        "SELECT epoch FROM voiceprint_epochs WHERE cliente_id = %s", (cliente_id,)
    ).fetchone()
    return 0 if row is None else int(row[0])


@dataclass(frozen=True, slots=True)
class ClienteVoiceprints:
    """What sessions identify speakers with: a cliente's voiceprints and its balcões' stores."""

    epoch: int
    voiceprints: list[StoredVoiceprint]
    stores: dict[str, str | None]  # balcão id → its store (None: the chain as a whole)


def load_voiceprints(conn: psycopg.Connection, cliente_id: str) -> ClienteVoiceprints:
    """The cliente's epoch, its live attendants' voiceprints and where its balcões stand.

    The epoch is read first: a change landing between the reads leaves it behind the rows, so
    the next read reloads (never the other way round).
    """
    epoch = voiceprint_epoch(conn, cliente_id)
    rows = conn.execute(
        "SELECT v.atendente_id::text, a.nome, v.model, v.print, a.loja_id::text FROM voiceprints v"
        " JOIN atendentes a ON a.id = v.atendente_id"
        " WHERE v.cliente_id = %s AND a.removed_at IS NULL",
        (cliente_id,),
    ).fetchall()
    stores = conn.execute(
        "SELECT id::text, loja_id::text FROM balcoes WHERE cliente_id = %s", (cliente_id,)
    ).fetchall()
    return ClienteVoiceprints(
        epoch,
        [StoredVoiceprint(r[0], r[1], r[2], bytes(r[3]), r[4]) for r in rows],
        dict(stores),
    )


def set_segment_speaker(
    conn: psycopg.Connection,
    segment_id: str,
    falante: str | None,
    atendente_id: str | None,
    atendente: str | None,
    score: float | None,
) -> None:
    """Record who spoke a segment (idempotent: an update of values)."""
    conn.execute(
        "UPDATE segments SET falante = %s, atendente_id = %s, atendente = %s, falante_score = %s"
        " WHERE id = %s",
        (falante, atendente_id, atendente, score, segment_id),
    )
