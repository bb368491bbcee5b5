"""What a webhook delivery says, read when it is sent (`balto.webhooks.deliverer`).

Read at sending time, not queueing time, so a conversation erased meanwhile (LGPD) goes out with
its words erased, and a verdict goes out as it stands. Functions take a psycopg connection and
run in the store's worker threads (`Database.run`).
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.rows import dict_row

from balto.store.webhooks import Claimed


def event_body(conn: psycopg.Connection, item: Claimed) -> dict[str, Any] | None:
    """What a delivery says, read now; None when its alert or suggestion is gone."""
    base: dict[str, Any] = {
        "id": item.id,
        "evento": item.evento,
        "criado_em": item.created_at.isoformat(),
        "cliente_id": item.cliente_id,
    }
    if item.evento == "teste":
        return {**base, "mensagem": "Teste de webhook do Balto: a entrega chegou."}
    table, fields, key = _OBJECTS[item.evento]
    cursor = conn.cursor(row_factory=dict_row)
    row = cursor.execute(
        f"SELECT o.id::text, {fields}, o.atendente, o.transcricao_base, o.created_at,"
        " o.session_id::text AS sessao_id, b.id::text AS balcao_id, b.nome_balcao,"
        " b.loja_id::text, l.nome AS loja_nome"
        f" FROM {table} o JOIN balcoes b ON b.id = o.balcao_id"
        " LEFT JOIN lojas l ON l.id = b.loja_id WHERE o.id = %s",
        (item.objeto_id,),
    ).fetchone()
    if row is None:
        return None
    balcao = {
        "id": row.pop("balcao_id"),
        "nome": row.pop("nome_balcao"),
        "loja_id": row.pop("loja_id"),
        "loja": row.pop("loja_nome"),
    }
    sessao_id = row.pop("sessao_id")
    row["criado_em"] = row.pop("created_at").isoformat()
    for when in ("retorno_em", "orientado_em", "em_falta_em", "retirada_em"):
        if when in row:
            row[when] = row[when] and row[when].isoformat()
    return {**base, "balcao": balcao, "sessao_id": sessao_id, key: row}


# the event's table, its own columns and the payload's key for them (fixed strings: nothing of a
# request reaches the SQL); a verdict is sent as its suggestion, with the verdict as it is now,
# the guidance given as its alert, with when, a product found missing as its suggestion, with
# when, and a suggestion withdrawn as itself, with when and why; every suggestion says what the
# customer had said that ruled products out (`cuidados`)
_SUGGESTION = "o.produto, o.explicacao, o.aceita, coalesce(o.cuidados, '{}') AS cuidados"
_ALERT = "o.sinal, o.sinais, o.motivo, o.orientacao"
_OBJECTS = {
    "alerta": ("alerts", _ALERT, "alerta"),
    "orientacao": ("alerts", _ALERT + ", o.orientado_em", "alerta"),
    "recomendacao": ("recommendations", _SUGGESTION, "recomendacao"),
    "retorno": ("recommendations", _SUGGESTION + ", o.feedback_at AS retorno_em", "recomendacao"),
    "em_falta": ("recommendations", _SUGGESTION + ", o.em_falta_em", "recomendacao"),
    "retirada": (
        "recommendations",
        _SUGGESTION + ", o.retirada_em, o.retirada_motivo",
        "recomendacao",
    ),
}
