"""How connected each chain's counters are, for the operator's view of the whole network.

Plain sync function of a connection (run it through `Database.run`). One aggregate over the
balcões not revoked, the cluster's live claims (`live_sessions`) and, per balcão, whether it ever
had a session (one step on the index ``sessions_balcao``): no per-session scan, so it stays cheap
for thousands of balcões read every 30 s.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.rows import dict_row

Row = dict[str, Any]

_BY_CLIENTE = """
SELECT c.id AS cliente_id, c.razao_social, c.suspenso_em IS NOT NULL AS suspenso,
       count(b.id) AS balcoes, count(ls.balcao_id) AS conectados,
       count(b.id) FILTER (
           WHERE NOT EXISTS (SELECT 1 FROM sessions s WHERE s.balcao_id = b.id)
       ) AS nunca_conectaram
  FROM clientes c
  JOIN balcoes b ON b.cliente_id = c.id AND b.revoked_at IS NULL
  LEFT JOIN live_sessions ls ON ls.balcao_id = b.id
 GROUP BY c.id
 ORDER BY count(b.id) - count(ls.balcao_id) DESC, c.razao_social, c.id
"""


def connections_by_cliente(conn: psycopg.Connection) -> list[Row]:
    """Per chain with a balcão not revoked: how many it has, are connected, never connected.

    The chains with the most counters off first.
    """
    rows: list[Row] = conn.cursor(row_factory=dict_row).execute(_BY_CLIENTE).fetchall()
    return rows
