"""Products out of stock (*em falta*), per store or for the whole chain (migration 0039).

In: catalog products said to be missing — by the chain's system or an admin through the API
(`balto.web.admin_em_falta`), or by the attendant's *Em falta* on a suggestion (the device's
``{"comando": "em_falta", "id": …}``, through the recorder). Out: the list per place, and for a
balcão the normalized names the advisor must not suggest there (its store's and the chain's).

A row with no ``loja_id`` holds for every balcão of the chain. An attendant's mark lasts
`horas` (``BALTO_EM_FALTA_HORAS``, 24 by default; 0: until someone says it is back): shelves are
restocked, and nobody tells the counter; a mark made through the API (the stock system, an admin)
lasts until it is taken back. Every change stamps
``clientes.em_falta_em``, which live sessions read with their catalog's version before each
utterance (`advice_version`), so a change reaches every instance's sessions at their next
utterance without a notification protocol.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import psycopg

from balto.catalog import normalize
from balto.store.history import uuid_or_none

_NO_STORE = "'00000000-0000-0000-0000-000000000000'::uuid"  # the whole chain, in the index
_PLACE = f"coalesce(loja_id, {_NO_STORE})"
_AT_PLACE = f"{_PLACE} = coalesce(%s::uuid, {_NO_STORE})"  # the place given as a parameter
_STAMP = "UPDATE clientes SET em_falta_em = clock_timestamp() WHERE id = %s"
# a mark still in force, `horas` being the query's parameter (an attendant's lasts that long)
_LIVE = (
    "(f.origem = 'api' OR %(horas)s = 0"
    " OR f.desde > now() - make_interval(secs => %(horas)s * 3600))"
)
DEFAULT_HORAS = 24.0


@dataclass(frozen=True, slots=True)
class EmFalta:
    """One product missing at one place.

    Attributes:
        produto: The catalog's spelling of the product.
        loja_id: The store, or None for every balcão of the chain.
        origem: ``api`` (the chain's system or an admin) or ``balcao`` (an attendant).
        por: Who said so (the audit log's spelling, or the balcão's name).
        desde: Since when.
        ate: Until when (an attendant's mark), or None (until taken back).
    """

    produto: str
    loja_id: str | None
    origem: str
    por: str | None
    desde: datetime
    ate: datetime | None


def listed(
    conn: psycopg.Connection, cliente_id: str, loja_id: str | None, horas: float = DEFAULT_HORAS
) -> list[EmFalta]:
    """The chain's marks in force by name; with `loja_id`, that store's and the chain's."""
    place = "" if loja_id is None else " AND (f.loja_id = %(loja)s OR f.loja_id IS NULL)"
    until = (
        "CASE WHEN f.origem = 'balcao' AND %(horas)s > 0"
        " THEN f.desde + make_interval(secs => %(horas)s * 3600) END"
    )
    rows = conn.execute(
        f"SELECT f.produto, f.loja_id, f.origem, f.por, f.desde, {until}"
        f" FROM produtos_em_falta f WHERE f.cliente_id = %(cliente)s{place} AND {_LIVE}"
        " ORDER BY f.chave, f.loja_id NULLS FIRST",
        {"cliente": cliente_id, "loja": loja_id, "horas": horas},
    ).fetchall()
    return [
        EmFalta(r[0], None if r[1] is None else str(r[1]), r[2], r[3], r[4], r[5]) for r in rows
    ]


def replace(
    conn: psycopg.Connection,
    cliente_id: str,
    loja_id: str | None,
    produtos: Sequence[str],
    por: str | None,
) -> None:
    """Make `produtos` (catalog spellings) the whole list of one place, whoever marked the rest."""
    with conn.transaction():
        conn.execute(
            f"DELETE FROM produtos_em_falta WHERE cliente_id = %s AND {_AT_PLACE}",
            (cliente_id, loja_id),
        )
        for produto in produtos:
            _insert(conn, cliente_id, loja_id, produto, "api", por)
        conn.execute(_STAMP, (cliente_id,))


def add(
    conn: psycopg.Connection,
    cliente_id: str,
    loja_id: str | None,
    produto: str,
    origem: str,
    por: str | None,
    at: datetime | None = None,
) -> bool:
    """Mark one product missing at one place; False when it already was (the first mark stays)."""
    with conn.transaction():
        added = _insert(conn, cliente_id, loja_id, produto, origem, por, at)
        if added:
            conn.execute(_STAMP, (cliente_id,))
    return added


def remove(
    conn: psycopg.Connection, cliente_id: str, loja_id: str | None, produto: str
) -> str | None:
    """The product is back in stock at that place: its name as marked, or None if not marked.

    Any spelling of the name finds it (its normalized form is the key).
    """
    with conn.transaction():
        row = conn.execute(
            f"DELETE FROM produtos_em_falta WHERE cliente_id = %s AND {_AT_PLACE} AND chave = %s"
            " RETURNING produto",
            (cliente_id, loja_id, normalize(produto)),
        ).fetchone()
        if row is not None:
            conn.execute(_STAMP, (cliente_id,))
    return None if row is None else str(row[0])


def missing_at(
    conn: psycopg.Connection, cliente_id: str, balcao_id: str | None, horas: float = DEFAULT_HORAS
) -> frozenset[str]:
    """Normalized names not to suggest at `balcao_id`: its store's and the whole chain's."""
    rows = conn.execute(
        "SELECT f.chave FROM produtos_em_falta f WHERE f.cliente_id = %(cliente)s AND"
        " (f.loja_id IS NULL OR f.loja_id = (SELECT b.loja_id FROM balcoes b"
        f" WHERE b.id = %(balcao)s AND b.cliente_id = %(cliente)s)) AND {_LIVE}",
        {"cliente": cliente_id, "balcao": uuid_or_none(balcao_id), "horas": horas},
    ).fetchall()
    return frozenset(row[0] for row in rows)


@dataclass(frozen=True, slots=True)
class AdviceVersion:
    """What a balcão's advice is made from, to compare with what a session read.

    Attributes:
        catalog: The cliente's catalog import time (None: the default catalog).
        stock: When the chain's out-of-stock list last changed, the balcão's store (a
            balcão moved to another store reads another list) and the oldest attendant's mark
            in force (it changes when that mark runs out).
    """

    catalog: str | None
    stock: str


def advice_version(
    conn: psycopg.Connection,
    cliente_id: str,
    balcao_id: str | None,
    horas: float = DEFAULT_HORAS,
) -> AdviceVersion | None:
    """The `AdviceVersion` of a balcão (None: no such cliente): indexed reads of a few rows."""
    row = conn.execute(
        "SELECT cc.imported_at, c.em_falta_em,"
        " (SELECT b.loja_id FROM balcoes b WHERE b.id = %(balcao)s AND b.cliente_id = c.id),"
        " (SELECT min(f.desde) FROM produtos_em_falta f WHERE f.cliente_id = c.id"
        f" AND f.origem = 'balcao' AND {_LIVE})"
        " FROM clientes c LEFT JOIN cliente_catalogs cc ON cc.cliente_id = c.id"
        " WHERE c.id = %(cliente)s",
        {"balcao": uuid_or_none(balcao_id), "cliente": cliente_id, "horas": horas},
    ).fetchone()
    if row is None:
        return None
    imported, stamped, loja, oldest = row
    catalog = None if imported is None else str(imported.isoformat())
    return AdviceVersion(catalog, f"{stamped}|{loja}|{oldest}")


def mark_from_recommendation(
    conn: psycopg.Connection, recommendation_id: str, balcao_id: str, *, at: datetime | None = None
) -> bool:
    """The attendant said a suggestion's product is missing: mark it at her balcão's store.

    Only a recommendation made at this balcão counts; a balcão with no store marks it for the
    whole chain (such a chain has no stores to tell apart). The recommendation keeps when
    (``em_falta_em``, the first time; webhooks hear it, migration 0040). False when no
    recommendation of this balcão has that id.
    """
    try:
        recommendation_id = str(uuid.UUID(recommendation_id))  # canonical, as record_feedback
    except ValueError:
        return False
    row = conn.execute(
        "UPDATE recommendations r SET em_falta_em = coalesce(r.em_falta_em, %s, now())"
        " FROM sessions s JOIN balcoes b ON b.id = s.balcao_id"
        " WHERE r.id = %s AND s.id = r.session_id AND s.balcao_id = %s"
        " RETURNING b.cliente_id, b.loja_id, r.produto, b.nome_balcao",
        (at, recommendation_id, balcao_id),
    ).fetchone()
    if row is None:
        return False
    loja_id = None if row[1] is None else str(row[1])
    add(conn, str(row[0]), loja_id, row[2], "balcao", f"balcão {row[3]}", at)
    return True


def _insert(
    conn: psycopg.Connection,
    cliente_id: str,
    loja_id: str | None,
    produto: str,
    origem: str,
    por: str | None,
    at: datetime | None = None,
) -> bool:
    # An attendant's mark gives way to a new one (the new attendant's, with its own time, or the
    # API's, lasting until taken back); the API's stays as it was made.
    cursor = conn.execute(
        "INSERT INTO produtos_em_falta (cliente_id, loja_id, produto, chave, origem, por, desde)"
        " VALUES (%s, %s, %s, %s, %s, %s, coalesce(%s, now()))"
        f" ON CONFLICT (cliente_id, {_PLACE}, chave) DO UPDATE"
        " SET origem = EXCLUDED.origem, por = EXCLUDED.por, desde = EXCLUDED.desde,"
        " produto = EXCLUDED.produto WHERE produtos_em_falta.origem = 'balcao'",
        (cliente_id, loja_id, produto, normalize(produto), origem, por, at),
    )
    return cursor.rowcount == 1
