"""Products out of stock (*em falta*), per store or for the whole chain (migration 0039).

In: catalog products said to be missing — by the chain's system or an admin through the API
(`balto.web.admin_em_falta`), or by the attendant's *Em falta* on a suggestion (the device's
``{"comando": "em_falta", "id": …}``, through the recorder). Out: the list per place, and for a
balcão the normalized names the advisor must not suggest there (its store's and the chain's).

A row with no ``loja_id`` holds for every balcão of the chain. Every change stamps
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

_PLACE = "coalesce(loja_id, '00000000-0000-0000-0000-000000000000'::uuid)"
_STAMP = "UPDATE clientes SET em_falta_em = clock_timestamp() WHERE id = %s"


@dataclass(frozen=True, slots=True)
class EmFalta:
    """One product missing at one place.

    Attributes:
        produto: The catalog's spelling of the product.
        loja_id: The store, or None for every balcão of the chain.
        origem: ``api`` (the chain's system or an admin) or ``balcao`` (an attendant).
        por: Who said so (the audit log's spelling, or the balcão's name).
        desde: Since when.
    """

    produto: str
    loja_id: str | None
    origem: str
    por: str | None
    desde: datetime


def listed(conn: psycopg.Connection, cliente_id: str, loja_id: str | None) -> list[EmFalta]:
    """The chain's missing products by name; with `loja_id`, that store's and the chain's."""
    place = "" if loja_id is None else " AND (loja_id = %s OR loja_id IS NULL)"
    where = "cliente_id = %s" + place
    params: tuple[str, ...] = (cliente_id,) if loja_id is None else (cliente_id, loja_id)
    rows = conn.execute(
        "SELECT produto, loja_id, origem, por, desde FROM produtos_em_falta"
        f" WHERE {where} ORDER BY chave, loja_id NULLS FIRST",
        params,
    ).fetchall()
    return [EmFalta(r[0], None if r[1] is None else str(r[1]), r[2], r[3], r[4]) for r in rows]


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
            f"DELETE FROM produtos_em_falta WHERE cliente_id = %s AND {_PLACE} = coalesce(%s,"
            " '00000000-0000-0000-0000-000000000000'::uuid)",
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


def remove(conn: psycopg.Connection, cliente_id: str, loja_id: str | None, produto: str) -> bool:
    """The product is back in stock at that place; False when it was not marked there."""
    with conn.transaction():
        cursor = conn.execute(
            f"DELETE FROM produtos_em_falta WHERE cliente_id = %s AND {_PLACE} = coalesce(%s,"
            " '00000000-0000-0000-0000-000000000000'::uuid) AND chave = %s",
            (cliente_id, loja_id, normalize(produto)),
        )
        if cursor.rowcount:
            conn.execute(_STAMP, (cliente_id,))
    return cursor.rowcount > 0


def missing_at(conn: psycopg.Connection, cliente_id: str, balcao_id: str | None) -> frozenset[str]:
    """Normalized names not to suggest at `balcao_id`: its store's and the whole chain's."""
    rows = conn.execute(
        "SELECT f.chave FROM produtos_em_falta f WHERE f.cliente_id = %s AND (f.loja_id IS NULL"
        " OR f.loja_id = (SELECT b.loja_id FROM balcoes b WHERE b.id = %s AND b.cliente_id = %s))",
        (cliente_id, _uuid_or_none(balcao_id), cliente_id),
    ).fetchall()
    return frozenset(row[0] for row in rows)


@dataclass(frozen=True, slots=True)
class AdviceVersion:
    """What a balcão's advice is made from, to compare with what a session read.

    Attributes:
        catalog: The cliente's catalog import time (None: the default catalog).
        stock: When the chain's out-of-stock list last changed, and the balcão's store (a
            balcão moved to another store reads another list).
    """

    catalog: str | None
    stock: str


def advice_version(
    conn: psycopg.Connection, cliente_id: str, balcao_id: str | None
) -> AdviceVersion | None:
    """The `AdviceVersion` of a balcão (None: no such cliente): primary-key reads only."""
    row = conn.execute(
        "SELECT cc.imported_at, c.em_falta_em,"
        " (SELECT b.loja_id FROM balcoes b WHERE b.id = %s AND b.cliente_id = c.id)"
        " FROM clientes c LEFT JOIN cliente_catalogs cc ON cc.cliente_id = c.id WHERE c.id = %s",
        (_uuid_or_none(balcao_id), cliente_id),
    ).fetchone()
    if row is None:
        return None
    imported, stamped, loja = row
    catalog = None if imported is None else str(imported.isoformat())
    return AdviceVersion(catalog, f"{stamped}|{loja}")


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
    cursor = conn.execute(
        "INSERT INTO produtos_em_falta (cliente_id, loja_id, produto, chave, origem, por, desde)"
        " VALUES (%s, %s, %s, %s, %s, %s, coalesce(%s, now())) ON CONFLICT DO NOTHING",
        (cliente_id, loja_id, produto, normalize(produto), origem, por, at),
    )
    return cursor.rowcount == 1


def _uuid_or_none(value: str | None) -> str | None:
    """`value` when it is a UUID (sessions in tests and the bench use other ids), else None."""
    if value is None:
        return None
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None
