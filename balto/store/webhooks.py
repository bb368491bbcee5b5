"""A chain's webhooks and their deliveries: make, list, remove, claim what is due, record outcomes.

The deliveries are an outbox filled by the database (migration 0032's trigger, in the same
transaction as each alert or suggestion). Every instance claims due rows with ``FOR UPDATE SKIP
LOCKED`` and a lease (`proxima_em` moved past the claim): two instances never send one row at
once, and a row whose instance died mid-send is due again when its lease ends (at least once).
What a delivery says is read when it is sent (`balto.store.webhook_events`).
Functions take a psycopg connection and run in the store's worker threads (`Database.run`).
"""

from __future__ import annotations

import secrets
import uuid
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg.rows import class_row

from balto.sealing import WEBHOOK, Box

# retorno: the attendant's verdict on a suggestion (0033); orientacao: guidance given (0035);
# em_falta: a suggestion's product found missing at the counter (0040)
EVENTOS = ("alerta", "recomendacao", "retorno", "orientacao", "em_falta", "retirada")
MAX_PER_CLIENTE = 10
SECRET_PREFIX = "whsec_"
WAKE_CHANNEL = "balto_webhooks"  # the migration's trigger notifies it for each alert queued


class DuplicateUrl(Exception):
    """The chain already has a webhook to that address."""


class TooMany(Exception):
    """The chain already has `MAX_PER_CLIENTE` webhooks."""


@dataclass(frozen=True, slots=True)
class Webhook:
    """One webhook as people list it (never its secret), with how its deliveries fare."""

    id: str
    cliente_id: str
    url: str
    eventos: list[str]
    descricao: str | None
    criado_por: str | None
    created_at: datetime
    pendentes: int
    entregues_24h: int
    desistidas_24h: int
    ultima_em: datetime | None
    ultimo_status: int | None
    ultimo_erro: str | None
    segredo_anterior_ate: datetime | None  # the previous secret also signs until then


@dataclass(frozen=True, slots=True)
class Entrega:
    """One delivery as people read it in the log."""

    id: str
    evento: str
    objeto_id: str | None
    created_at: datetime
    tentativas: int
    proxima_em: datetime | None
    entregue_em: datetime | None
    desistida_em: datetime | None
    ultimo_status: int | None
    ultimo_erro: str | None
    ultima_em: datetime | None
    em_envio: bool  # an instance is sending it now (`proxima_em` is then null)


@dataclass(frozen=True, slots=True)
class Claimed:
    """A delivery claimed for sending: where, signed with what, and its attempt number."""

    id: str
    webhook_id: str
    cliente_id: str
    url: str
    segredos: list[str]  # the secret, then the previous one while it still signs; as stored
    # (sealed: `balto.sealing`, opened by the deliverer)
    evento: str
    objeto_id: str | None
    created_at: datetime
    tentativas: int


def new_secret() -> str:
    """A fresh signing secret, as the chain is shown it."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def create(
    conn: psycopg.Connection,
    cliente_id: str,
    url: str,
    eventos: list[str],
    descricao: str | None,
    criado_por: str,
    box: Box,
) -> tuple[str, str] | None:
    """Add a webhook: (its id, its signing secret), or None for an unknown cliente.

    The secret is stored sealed in `box`.

    Raises:
        DuplicateUrl: The chain has a webhook to `url` already.
        TooMany: The chain has `MAX_PER_CLIENTE` webhooks.
    """
    with conn.transaction():
        # the chain's row locked: two requests at once cannot both pass the count
        found = conn.execute("SELECT 1 FROM clientes WHERE id = %s FOR UPDATE", (cliente_id,))
        if found.fetchone() is None:
            return None
        row = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE url = %s) FROM webhooks WHERE cliente_id = %s",
            (url, cliente_id),
        ).fetchone()
        assert row is not None
        if row[1]:
            raise DuplicateUrl
        if row[0] >= MAX_PER_CLIENTE:
            raise TooMany
        hook_id, segredo = str(uuid.uuid4()), new_secret()
        conn.execute(
            "INSERT INTO webhooks (id, cliente_id, url, eventos, descricao, segredo, criado_por)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s)",
            (hook_id, cliente_id, url, eventos, descricao, box.seal(WEBHOOK, segredo), criado_por),
        )
    return hook_id, segredo


def list_for(conn: psycopg.Connection, cliente_id: str) -> list[Webhook]:
    """A chain's webhooks, oldest first, with their deliveries' state and last outcome.

    ``entregues_24h`` / ``desistidas_24h`` count the deliveries queued in the last 24 hours.
    """
    cursor = conn.cursor(row_factory=class_row(Webhook))
    return cursor.execute(
        """
        SELECT w.id::text, w.cliente_id::text, w.url, w.eventos, w.descricao, w.criado_por,
               w.created_at,
               (SELECT count(*) FROM webhook_entregas e WHERE e.webhook_id = w.id
                  AND e.entregue_em IS NULL AND e.desistida_em IS NULL)::int AS pendentes,
               day.entregues AS entregues_24h, day.desistidas AS desistidas_24h,
               w.ultima_em, w.ultimo_status, w.ultimo_erro,
               CASE WHEN w.segredo_anterior_ate > now() THEN w.segredo_anterior_ate END
               AS segredo_anterior_ate
          FROM webhooks w
          -- the last day's deliveries, by when they were queued: the index's range, not the
          -- week of rows a busy webhook keeps
          CROSS JOIN LATERAL (
               SELECT (count(*) FILTER (WHERE e.entregue_em IS NOT NULL))::int AS entregues,
                      (count(*) FILTER (WHERE e.desistida_em IS NOT NULL))::int AS desistidas
                 FROM webhook_entregas e
                WHERE e.webhook_id = w.id AND e.created_at > now() - interval '1 day') day
         WHERE w.cliente_id = %s
         ORDER BY w.created_at, w.id
        """,
        (cliente_id,),
    ).fetchall()


def rotate_secret(
    conn: psycopg.Connection, webhook_id: str, overlap_s: float, box: Box
) -> tuple[str, datetime] | None:
    """A new secret for the webhook: (it, until when the old one also signs), or None.

    Asked again within the overlap, the secret being replaced is the newest one: the oldest is
    dropped (two at most ever sign).
    """
    segredo = new_secret()
    row = conn.execute(
        "UPDATE webhooks SET segredo_anterior = segredo, segredo = %s,"
        " segredo_anterior_ate = now() + make_interval(secs => %s)"
        " WHERE id = %s RETURNING segredo_anterior_ate",
        (box.seal(WEBHOOK, segredo), overlap_s, webhook_id),
    ).fetchone()
    return (segredo, row[0]) if row else None


def remove(conn: psycopg.Connection, webhook_id: str) -> tuple[str, str] | None:
    """Remove a webhook and its deliveries, sent or not: its (cliente, url), or None."""
    row = conn.execute(
        "DELETE FROM webhooks WHERE id = %s RETURNING cliente_id::text, url", (webhook_id,)
    ).fetchone()
    return (row[0], row[1]) if row else None


def enqueue_test(conn: psycopg.Connection, webhook_id: str) -> str | None:
    """Queue a test delivery for now: its id, or None when there is no such webhook."""
    entrega = str(uuid.uuid4())
    done = conn.execute(
        "INSERT INTO webhook_entregas (id, webhook_id, evento)"
        " SELECT %s, id, 'teste' FROM webhooks WHERE id = %s",
        (entrega, webhook_id),
    )
    if not done.rowcount:
        return None
    wake_deliverers(conn)
    return entrega


def wake_deliverers(conn: psycopg.Connection) -> None:
    """Have every instance's deliverer look for due deliveries now (at this transaction's end)."""
    conn.execute("SELECT pg_notify(%s, '')", (WAKE_CHANNEL,))


def resend(conn: psycopg.Connection, webhook_id: str, entrega_id: str) -> bool:
    """Make a given-up or delivered delivery due again now, its attempts counted afresh."""
    done = conn.execute(
        "UPDATE webhook_entregas SET proxima_em = now(), tentativas = 0, desistida_em = NULL,"
        " entregue_em = NULL WHERE id = %s AND webhook_id = %s"
        " AND (desistida_em IS NOT NULL OR entregue_em IS NOT NULL)",
        (entrega_id, webhook_id),
    )
    if not done.rowcount:
        return False
    wake_deliverers(conn)
    return True


def deliveries(conn: psycopg.Connection, webhook_id: str, limit: int) -> list[Entrega]:
    """A webhook's latest deliveries, newest first (`proxima_em` only while one waits).

    In flight: claimed (`tentada_em`) after its last outcome, and its lease not over (an
    instance that died mid-send leaves it waiting again once the lease ends).
    """
    cursor = conn.cursor(row_factory=class_row(Entrega))
    return cursor.execute(
        "SELECT id::text, evento, objeto_id::text, created_at, tentativas,"
        " CASE WHEN NOT sending AND entregue_em IS NULL AND desistida_em IS NULL"
        " THEN proxima_em END AS proxima_em,"
        " entregue_em, desistida_em, ultimo_status, ultimo_erro, ultima_em, sending AS em_envio"
        " FROM (SELECT *, entregue_em IS NULL AND desistida_em IS NULL"
        "   AND coalesce(tentada_em > coalesce(ultima_em, '-infinity'), false)"
        "   AND proxima_em > now() AS sending"
        "   FROM webhook_entregas WHERE webhook_id = %s) e"
        " ORDER BY created_at DESC, id LIMIT %s",
        (webhook_id, limit),
    ).fetchall()


@dataclass(frozen=True, slots=True)
class Backlog:
    """What waits to be sent, across every chain (for ``/metrics``)."""

    pendentes: int
    mais_antiga_s: float  # how long the oldest waiting delivery has waited (0: none waits)


def backlog(conn: psycopg.Connection) -> Backlog:
    """Deliveries not yet delivered nor given up, and the oldest one's age (the partial index)."""
    row = conn.execute(
        "SELECT count(*), coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8"
        " FROM webhook_entregas WHERE entregue_em IS NULL AND desistida_em IS NULL"
    ).fetchone()
    assert row is not None
    return Backlog(int(row[0]), float(row[1]))


def claim(
    conn: psycopg.Connection,
    limit: int,
    lease_s: float,
    busy: Mapping[str, int],
    per_webhook: int,
) -> list[Claimed]:
    """Claim up to `limit` due deliveries for `lease_s` seconds, one more attempt each.

    At most `per_webhook` in flight per webhook, counting the caller's `busy` ones: the oldest due
    rows are locked (`SKIP LOCKED`: another instance's are passed over), those over a webhook's
    share are left as they were, so one receiver's backlog cannot fill every slot. A suspended
    chain's deliveries wait (`balto.store.suspension`): they go once it is resumed.
    """
    full = [hook for hook, n in busy.items() if n >= per_webhook]
    rows = conn.execute(
        """
        SELECT e.id::text, e.webhook_id::text FROM webhook_entregas e
          JOIN webhooks w ON w.id = e.webhook_id
          JOIN clientes c ON c.id = w.cliente_id
         WHERE e.entregue_em IS NULL AND e.desistida_em IS NULL AND e.proxima_em <= now()
           AND c.suspenso_em IS NULL AND e.webhook_id <> ALL (%s::uuid[])
         ORDER BY e.proxima_em
         LIMIT %s
           FOR UPDATE OF e SKIP LOCKED
        """,
        (full, limit * per_webhook),
    ).fetchall()
    taken, chosen = Counter(busy), []
    for entrega, hook in rows:
        if taken[hook] < per_webhook:
            chosen.append(entrega)
            taken[hook] += 1
            if len(chosen) == limit:
                break
    if not chosen:
        return []
    cursor = conn.cursor(row_factory=class_row(Claimed))
    return cursor.execute(
        """
        UPDATE webhook_entregas e
           SET proxima_em = now() + make_interval(secs => %s), tentativas = e.tentativas + 1,
               tentada_em = now()
          FROM webhooks w
         WHERE e.id = ANY (%s::uuid[]) AND w.id = e.webhook_id
        RETURNING e.id::text, e.webhook_id::text, w.cliente_id::text, w.url,
                  CASE WHEN w.segredo_anterior_ate > now()
                       THEN ARRAY[w.segredo, w.segredo_anterior] ELSE ARRAY[w.segredo] END
                  AS segredos,
                  e.evento, e.objeto_id::text, e.created_at, e.tentativas
        """,
        (lease_s, chosen),
    ).fetchall()


def delivered(conn: psycopg.Connection, entrega_id: str, status: int) -> None:
    """Record a delivery the receiver accepted."""
    conn.execute(
        "UPDATE webhook_entregas SET entregue_em = now(), ultima_em = now(), ultimo_status = %s,"
        " ultimo_erro = NULL WHERE id = %s",
        (status, entrega_id),
    )
    _last_outcome(conn, entrega_id)


def _last_outcome(conn: psycopg.Connection, entrega_id: str) -> None:
    # kept on the webhook too: its listing reads one row, not a week of deliveries
    conn.execute(
        "UPDATE webhooks w SET ultima_em = e.ultima_em, ultimo_status = e.ultimo_status,"
        " ultimo_erro = e.ultimo_erro FROM webhook_entregas e"
        " WHERE e.id = %s AND w.id = e.webhook_id",
        (entrega_id,),
    )


def failed(
    conn: psycopg.Connection,
    entrega_id: str,
    status: int | None,
    erro: str,
    retry_in_s: float | None,
) -> None:
    """Record a failed attempt: due again in `retry_in_s`, or given up when that is None."""
    conn.execute(
        "UPDATE webhook_entregas SET ultima_em = now(), ultimo_status = %s, ultimo_erro = %s,"
        " proxima_em = CASE WHEN %s::float8 IS NULL THEN proxima_em"
        "   ELSE now() + make_interval(secs => %s::float8) END,"
        " desistida_em = CASE WHEN %s::float8 IS NULL THEN now() END"
        " WHERE id = %s",
        (status, erro, retry_in_s, retry_in_s, retry_in_s, entrega_id),
    )
    _last_outcome(conn, entrega_id)


def forget_older_than(conn: psycopg.Connection, days: int, batch: int = 1000) -> int:
    """Drop up to `batch` finished deliveries older than `days` days; how many were dropped."""
    return conn.execute(
        "DELETE FROM webhook_entregas WHERE id IN (SELECT id FROM webhook_entregas"
        " WHERE (entregue_em IS NOT NULL OR desistida_em IS NOT NULL)"
        " AND created_at < now() - make_interval(days => %s) LIMIT %s)",
        (days, batch),
    ).rowcount
