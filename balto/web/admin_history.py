"""Admin routes over stored data: clientes and balcões, revocation, history, the audit log.

Every route needs ``Authorization: Bearer <ADMIN_SECRET>`` (401 otherwise). A gestor (a chain's
account, `balto.web.principal`) may list clientes, balcões, segments, recommendations and alerts
(its own cliente's only), revoke its own balcões and read its chain's audit log (its gestores'
actions); refusals are the operator's (403). Lists answer
``{"items": [...], "next_cursor": str | null, "demo": bool}`` (``demo``: the server runs as
``balto demo``), newest first; pass ``next_cursor`` back as
``cursor`` for the next page. Filters: ``cliente_id``, ``balcao_id``, ``desde``, ``ate`` (see
`balto.web.params`); bad values answer 400 naming the field. The audit log takes ``acao`` (an
action's code name), ``ator`` (a piece of who did it, any case) and ``desde``/``ate``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from quart import Blueprint, Response, jsonify

from balto.store import history
from balto.web.audit import audit
from balto.web.auth import app_services, require_admin
from balto.web.errors import FieldError, error
from balto.web.params import (
    bool_arg,
    cursor_arg,
    encode_cursor,
    filters_arg,
    jsonable,
    limit_arg,
    period_arg,
    text_arg,
    uuid_arg,
)
from balto.web.path_ids import touchable
from balto.web.principal import for_gestores, for_lojas, principal, scoped_cliente
from balto.web.remote_ops import close_revoked

blueprint = Blueprint("admin_history", __name__)


_Query = Callable[..., history.Page]
_ACTION = re.compile(r"[a-z_]{1,64}")  # how every audited action is named (`balto.web.audit`)


_services = app_services
blueprint.before_request(require_admin)


async def _page(query: _Query, *extra: Any) -> dict[str, Any]:
    services = _services()
    filters, limit, cursor = filters_arg(), limit_arg(), cursor_arg()
    page = await services.db.run(query, limit, cursor, filters, *extra)
    return {
        "items": [jsonable(row) for row in page.rows],
        "next_cursor": encode_cursor(page.next_cursor),
        "demo": services.settings.demo,  # data made by `balto demo`, not by real counters
    }


@blueprint.get("/admin/clientes")
@for_lojas
async def clientes() -> Response:
    """Clientes with their linking code and balcão count (filters: ``desde``, ``ate``).

    A store's gestor gets no linking code: a new balcão linked with it would belong to the
    chain, outside its store (the chain's gestores place balcões in stores).
    """
    page = await _page(history.list_clientes)
    if principal().loja_id is not None:
        for item in page["items"]:
            item["codigo"] = None
    return jsonify(page)


@blueprint.get("/admin/balcoes")
@for_lojas
async def balcoes() -> Response:
    """Balcões with cliente, key hint, revocation, the session live now and the last connection."""
    body = await _page(history.list_balcoes)
    registry = _services().registry
    for item in body["items"]:
        # this instance's own from memory (the claim row follows it by a round trip)
        if live := registry.get(item["id"]):
            item["live_session_id"] = live.session.info.session_id
    return jsonify(body)


@blueprint.get("/admin/history/segments")
@for_lojas
async def segments() -> Response:
    """Transcribed segments (transcripts), with their balcão and cliente."""
    return jsonify(await _page(history.segments_page))


@blueprint.get("/admin/history/recommendations")
@for_lojas
async def recommendations() -> Response:
    """Recommendations with feedback (``aceita``: true/false; ``sem_feedback``: true)."""
    aceita = bool_arg("aceita")
    sem_feedback = bool_arg("sem_feedback") or False
    if aceita is not None and sem_feedback:
        raise FieldError("sem_feedback", "use aceita ou sem_feedback, não os dois")
    return jsonify(await _page(history.recommendations_page, aceita, sem_feedback))


@blueprint.get("/admin/history/alerts")
@for_lojas
async def alerts() -> Response:
    """Referral alerts (``sinal``: only those naming that sign), with balcão and attendant."""
    sinal = text_arg("sinal")
    return jsonify(await _page(history.alerts_page, sinal))


@blueprint.get("/admin/history/refusals")
async def refusals() -> Response:
    """Advisor answers refused, with why and what was said (``provider``, ``reason``)."""
    provider, reason = text_arg("provider"), text_arg("reason")
    return jsonify(await _page(history.refusals_page, provider, reason))


@blueprint.get("/admin/history/refusals/summary")
async def refusals_summary() -> Response:
    """Refusals per provider, model and reason, beside each model's answers (filters apply)."""
    rows = await _services().db.run(history.refusal_counts, filters_arg())
    return jsonify({"items": [jsonable(row) for row in rows]})


@blueprint.get("/admin/audit")
@for_gestores
async def audit_log() -> Response | tuple[Response, int]:
    """Admin actions, newest first, narrowed by cliente_id, acao, ator, desde and ate.

    A chain's gestor reads its own chain's accounts' actions, whatever it asks; a chain's API key
    none (403): the log names people and their addresses, which a BI system has no need of.
    """
    if principal().chave_id is not None:
        return error(403, "forbidden", "uma chave de API não lê a auditoria")
    acao = text_arg("acao", 64)
    if acao is not None and not _ACTION.fullmatch(acao):
        raise FieldError("acao", "acao deve ser o nome de uma ação (letras minúsculas e _)")
    desde, ate = period_arg()
    cliente_id = scoped_cliente(uuid_arg("cliente_id"))
    filters = history.AuditFilters(cliente_id, acao, text_arg("ator", 200), desde, ate)
    page = await _services().db.run(history.audit_page, limit_arg(), cursor_arg(), filters)
    items = [jsonable(row) for row in page.rows]
    return jsonify({"items": items, "next_cursor": encode_cursor(page.next_cursor)})


@blueprint.post("/admin/balcoes/<balcao_id>/revoke")
@for_lojas
async def revoke(balcao_id: str) -> tuple[Response, int]:
    """Revoke the balcão's API key; its live session, if any, is closed with 4003."""
    services = _services()
    if (canonical := await touchable("balcao", balcao_id)) is None:
        return error(404, "not_found", "balcão não encontrado")
    balcao_id = canonical
    revoked_at = await services.db.run(history.revoke_balcao, balcao_id)
    if revoked_at is None:
        await audit("revoke", balcao_id=balcao_id, outcome="not_found")
        return error(404, "not_found", "balcão não encontrado")
    session_id = await close_revoked(balcao_id)
    await audit("revoke", balcao_id=balcao_id, session_id=session_id, outcome="revoked")
    body = {
        "balcao_id": balcao_id,
        "revoked_at": revoked_at.isoformat(),
        "closed_session_id": session_id,
    }
    return jsonify(body), 200
