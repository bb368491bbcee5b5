"""Which cliente a row belongs to: what a gestor's request is checked against (its own only).

Each function takes a psycopg connection (run through `Database.run`) and an id already known to
be a UUID, and answers the owning cliente's id, or None when the row does not exist.
"""

from __future__ import annotations

import psycopg

_SQL = {
    "session": "SELECT b.cliente_id FROM sessions s JOIN balcoes b ON b.id = s.balcao_id"
    " WHERE s.id = %s",
    "alert": "SELECT b.cliente_id FROM alerts a JOIN sessions s ON s.id = a.session_id"
    " JOIN balcoes b ON b.id = s.balcao_id WHERE a.id = %s",
    "balcao": "SELECT cliente_id FROM balcoes WHERE id = %s",
    "atendente": "SELECT cliente_id FROM atendentes WHERE id = %s",
    "chave": "SELECT cliente_id FROM chaves_api WHERE id = %s",
}


def cliente_of(conn: psycopg.Connection, kind: str, row_id: str) -> str | None:
    """The cliente owning a row, or None when there is no such row.

    `kind` is ``session``, ``alert``, ``balcao``, ``atendente`` or ``chave`` (an API key).
    """
    found = conn.execute(_SQL[kind].encode(), (row_id,)).fetchone()
    return None if found is None else str(found[0])
