"""Rows for admin tests, inserted straight into the database (the server must have migrated it).

Two clientes; three balcões (two for the first cliente); one session each; per session
`SEGMENTS_PER_SESSION` segments a minute apart from `BASE`, each with a recommendation whose
feedback cycles accepted / refused / none.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from tests.conftest import query

BASE = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
SEGMENTS_PER_SESSION = 5
FEEDBACK = (True, False, None)


def seed(database_url: str) -> dict[str, str]:
    """Insert the rows; answer their ids by name (``c1``, ``c2``, ``b1``-``b3``, ``s1``-``s3``)."""
    ids = {name: str(uuid.uuid4()) for name in ("c1", "c2", "b1", "b2", "b3", "s1", "s2", "s3")}
    for n, cliente in enumerate(("c1", "c2")):
        query(
            database_url,
            "INSERT INTO clientes (id, codigo, email, razao_social, telefone, created_at)"
            " VALUES (%s, %s, 'a@b.com', %s, '11999998888', %s)",
            ids[cliente],
            f"90000{n}",
            f"Rede {cliente}",
            BASE + timedelta(seconds=n),
        )
    for n, (balcao, cliente, session) in enumerate(
        (("b1", "c1", "s1"), ("b2", "c1", "s2"), ("b3", "c2", "s3"))
    ):
        query(
            database_url,
            "INSERT INTO balcoes (id, cliente_id, nome_balcao, api_key_hash, api_key_hint,"
            " created_at) VALUES (%s, %s, %s, %s, 'bk_xxxx', %s)",
            ids[balcao],
            ids[cliente],
            f"Balcão {balcao}",
            uuid.uuid4().bytes,
            BASE + timedelta(seconds=n),
        )
        query(
            database_url,
            "INSERT INTO sessions (id, balcao_id, started_at) VALUES (%s, %s, %s)",
            ids[session],
            ids[balcao],
            BASE,
        )
        for seq in range(SEGMENTS_PER_SESSION):
            at = BASE + timedelta(minutes=seq, seconds=n)
            segment = str(uuid.uuid4())
            query(
                database_url,
                "INSERT INTO segments (id, session_id, seq, audio_start, audio_end, status,"
                " transcript, created_at, transcribed_at)"
                " VALUES (%s, %s, %s, 0, 1, 'transcribed', %s, %s, %s)",
                segment,
                ids[session],
                seq,
                f"{balcao} fala {seq}",
                at,
                at + timedelta(milliseconds=300),
            )
            query(
                database_url,
                "INSERT INTO recommendations (id, session_id, segment_id, produto, explicacao,"
                " transcricao_base, source, created_at, sent_at, aceita)"
                " VALUES (%s, %s, %s, %s, 'porque sim', %s, 'catalog', %s, %s, %s)",
                str(uuid.uuid4()),
                ids[session],
                segment,
                f"Produto {balcao}-{seq}",
                f"{balcao} fala {seq}",
                at + timedelta(milliseconds=400),
                at + timedelta(milliseconds=500),
                FEEDBACK[seq % 3],
            )
    return ids
