"""Which cliente (and store) a row belongs to: what a gestor's request is checked against.

Each function takes a psycopg connection (run through `Database.run`) and an id already known to
be a UUID, and answers the owner, or None when the row does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

# a row without a store of its own (a key, a chain-wide attendant) reads its loja as NULL; a store
# is its own
_SQL = {
    "session": "SELECT b.cliente_id, b.loja_id FROM sessions s"
    " JOIN balcoes b ON b.id = s.balcao_id WHERE s.id = %s",
    "alert": "SELECT b.cliente_id, b.loja_id FROM alerts a JOIN sessions s ON s.id = a.session_id"
    " JOIN balcoes b ON b.id = s.balcao_id WHERE a.id = %s",
    "balcao": "SELECT cliente_id, loja_id FROM balcoes WHERE id = %s",
    "atendente": "SELECT cliente_id, loja_id FROM atendentes WHERE id = %s",
    "chave": "SELECT cliente_id, loja_id FROM chaves_api WHERE id = %s",
    "loja": "SELECT cliente_id, id FROM lojas WHERE id = %s",
    "gestor": "SELECT cliente_id, loja_id FROM gestores WHERE id = %s",
    "webhook": "SELECT cliente_id, NULL FROM webhooks WHERE id = %s",
}


@dataclass(frozen=True, slots=True)
class Owner:
    """The cliente a row belongs to, and its store (None: the chain as a whole)."""

    cliente_id: str
    loja_id: str | None


def owner_of(conn: psycopg.Connection, kind: str, row_id: str) -> Owner | None:
    """Whose a row is, or None when there is no such row.

    `kind` is ``session``, ``alert``, ``balcao``, ``atendente``, ``chave`` (an API key),
    ``loja``, ``gestor`` or ``webhook``.
    """
    found = conn.execute(_SQL[kind].encode(), (row_id,)).fetchone()
    if found is None:
        return None
    return Owner(str(found[0]), None if found[1] is None else str(found[1]))
