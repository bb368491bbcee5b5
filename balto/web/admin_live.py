"""The Ao vivo page's data: every live session of the cluster with what it is saying, in one read.

``GET /admin/ao-vivo/dados`` (admin) → ``{"sessions": [...], "encerradas": [...], "agora"}``:
each live session as ``GET /admin/sessions`` gives it (balcão, instance, per-actor health), plus
``atendente``, ``razao_social`` and ``eventos``: its newest utterances, recommendations (with
``aceita`` once feedback arrives) and alerts, oldest first (`balto.store.live_feed`).
``encerradas`` lists sessions closed in the last minutes with ``close_code`` and ``close_reason``
(the trace a disconnect leaves). While the database is unreachable the sessions are still listed
(they live in memory) without events, and ``banco_disponivel`` is false. The page polls this
every 1.5 s: plain requests, which survive proxies and reconnects better than a stream, and cost
one query per poll for all sessions.

``POST /admin/alertas/{alert_id}/ciente`` (admin) acknowledges a red-flag alert for every admin
(the banner above the cards clears on every page) → 200 ``{"id", "session_id", "ciente_em",
"ciente_por"}`` (who: ``Operador`` or the gestor's name; asked again: the first time and who);
404 for an unknown alert. Audited (``ack_alert``).

A gestor (a chain's account) sees and acknowledges its own cliente's sessions and alerts only;
with the database away it sees no session (whose a session is, is read there). ``cliente_id`` and
``loja_id`` narrow the page (a chain of many stores, an operator of many chains) within what the
asker may see (another chain or store: 403 naming it); with the database away a narrowed page
shows no session either.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from quart import Blueprint, Response, jsonify

from balto.store import live_feed
from balto.store.database import DatabaseUnavailable
from balto.web.audit import audit
from balto.web.auth import app_services, require_admin
from balto.web.errors import error
from balto.web.json_batches import dumps_batched
from balto.web.params import jsonable, uuid_arg
from balto.web.path_ids import touchable
from balto.web.principal import for_lojas, principal, scoped_cliente, scoped_loja

blueprint = Blueprint("admin_live", __name__)
blueprint.before_request(require_admin)


def _read(
    conn: Any, ids: list[str], cliente_id: str | None, loja_id: str | None
) -> tuple[Any, Any, Any]:
    facts = live_feed.session_facts(conn, ids)
    if cliente_id is not None:  # a gestor's own cliente, or the one asked for
        facts = {sid: f for sid, f in facts.items() if str(f["cliente_id"]) == cliente_id}
    if loja_id is not None:  # a store's gestor's own store, or the one asked for
        facts = {sid: f for sid, f in facts.items() if str(f["loja_id"]) == loja_id}
    if cliente_id is not None or loja_id is not None:
        ids = list(facts)
    ended = live_feed.recently_ended(conn, cliente_id, loja_id)
    return facts, live_feed.recent_events(conn, ids), ended


@blueprint.get("/admin/ao-vivo/dados")
@for_lojas
async def live_data() -> Response:
    """Live sessions with their recent events, and the sessions that just ended."""
    services = app_services()
    who = principal()
    cliente_id = scoped_cliente(uuid_arg("cliente_id"))
    loja_id = scoped_loja(uuid_arg("loja_id"))
    sessions: list[dict[str, Any]] = await services.cluster.sessions()
    ids = [str(s["session_id"]) for s in sessions if s.get("session_id")]
    try:
        facts, events, ended = await services.db.run(_read, ids, cliente_id, loja_id)
        db_up = True
    except DatabaseUnavailable:
        # the sessions themselves are in memory: still worth showing, without their words
        facts, events, ended, db_up = {}, {}, [], False
    if not who.is_operator or cliente_id is not None or loja_id is not None:
        # whose a session is comes from the database: without it a narrowed page shows none
        sessions = [s for s in sessions if str(s.get("session_id")) in facts]
    live_ids = set(ids)
    for session in sessions:
        sid = str(session.get("session_id"))
        fact = facts.get(sid, {})
        session["atendente"] = fact.get("atendente")
        session["razao_social"] = fact.get("razao_social")
        # renamed while connected: the database's name, not the one the session started with
        session["nome_balcao"] = fact.get("nome_balcao") or session.get("nome_balcao")
        session["loja"] = fact.get("loja")
        session["eventos"] = [jsonable(row) for row in events.get(sid, [])]
    body = {
        "sessions": sessions,
        "encerradas": [jsonable(r) for r in ended if str(r["session_id"]) not in live_ids],
        "agora": datetime.now(UTC).isoformat(),
        "banco_disponivel": db_up,
        "demo": services.settings.demo,
    }
    return Response(await dumps_batched(body, "sessions"), content_type="application/json")


@blueprint.post("/admin/alertas/<alert_id>/ciente")
@for_lojas
async def acknowledge(alert_id: str) -> tuple[Response, int]:
    """An admin has seen the red-flag alert: cleared from every admin's banner."""
    services = app_services()
    key = await touchable("alert", alert_id)
    por = principal().nome
    row = None if key is None else await services.db.run(live_feed.acknowledge_alert, key, por)
    if row is None:
        return error(404, "not_found", "alerta não encontrado")
    await audit("ack_alert", session_id=row["session_id"], alerta_id=row["id"])
    return jsonify(jsonable(row)), 200
