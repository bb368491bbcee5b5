"""A cliente's access suspended and resumed by the operator (sync, run via `Database.run`).

Suspension is one column, ``clientes.suspenso_em``: every door of the chain reads it where it
already reads the cliente (the device handshake in `balto.store.cadastro.authenticate`, a
gestor's cookie and sign-in in `balto.store.gestores`, an API key in `balto.store.chaves_api`,
linking in `balto.store.cadastro_guard`), so nothing is deleted or rotated and resuming is
clearing it: the same keys, accounts and codes work again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg


@dataclass(frozen=True, slots=True)
class Standing:
    """A cliente's suspension as stored (``suspenso_em`` None: not suspended)."""

    suspenso_em: datetime | None
    motivo: str | None
    changed: bool  # False when the call found it so already (asked twice)


def suspend(conn: psycopg.Connection, cliente_id: str, motivo: str | None) -> Standing | None:
    """Suspend the cliente (asked again: the first time and reason kept); None for unknown."""
    with conn.transaction():
        row = conn.execute(
            "SELECT suspenso_em, suspenso_motivo FROM clientes WHERE id = %s FOR UPDATE",
            (cliente_id,),
        ).fetchone()
        if row is None:
            return None
        if row[0] is not None:
            return Standing(row[0], row[1], changed=False)
        done = conn.execute(
            "UPDATE clientes SET suspenso_em = now(), suspenso_motivo = %s WHERE id = %s"
            " RETURNING suspenso_em",
            (motivo, cliente_id),
        ).fetchone()
    assert done is not None  # the row is locked: it cannot have gone
    return Standing(done[0], motivo, changed=True)


def resume(conn: psycopg.Connection, cliente_id: str) -> Standing | None:
    """Lift the cliente's suspension (not suspended: nothing changes); None for unknown."""
    with conn.transaction():
        row = conn.execute(
            "SELECT suspenso_em FROM clientes WHERE id = %s FOR UPDATE", (cliente_id,)
        ).fetchone()
        if row is None:
            return None
        if row[0] is not None:
            conn.execute(
                "UPDATE clientes SET suspenso_em = NULL, suspenso_motivo = NULL WHERE id = %s",
                (cliente_id,),
            )
    return Standing(None, None, changed=row[0] is not None)
