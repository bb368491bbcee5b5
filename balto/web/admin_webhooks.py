"""A chain's webhooks, set up by the operator or the chain's gestores.

``POST /admin/clientes/{id}/webhooks`` ``{"url", "eventos"?, "descricao"?}`` → 201 ``{"id",
"url", "eventos", "descricao", "segredo"}``: ``eventos`` any of ``alerta`` (the default),
``recomendacao``, ``retorno`` (the attendant's verdict on a suggestion), ``orientacao`` (an
alert's guidance given at the counter), ``em_falta`` (a suggestion's product found missing at
the counter) and ``retirada`` (a suggestion withdrawn: the customer's words ruled it out); the
signing secret
is in this answer only (`balto.webhooks.signing`). 400 naming ``url`` (not https, credentials
in it, an internal address: `balto.webhooks.address`), ``eventos`` or ``descricao`` (≤ 120); 409
naming ``url`` for an address the chain has already, or for an eleventh webhook; 404 unknown
cliente or another chain's.
``GET /admin/clientes/{id}/webhooks`` → ``{"items": [{"id", "cliente_id", "url", "eventos",
"descricao", "criado_por", "created_at", "pendentes", "entregues_24h", "desistidas_24h",
"ultima_em", "ultimo_status", "ultimo_erro", "segredo_anterior_ate"}]}``.
``DELETE /admin/webhooks/{id}`` → 204, its pending deliveries dropped; 404 unknown.
``POST /admin/webhooks/{id}/segredo`` → 200 ``{"id", "segredo", "segredo_anterior_ate"}``: a new
signing secret, shown once; for a day both sign every delivery (`balto.webhooks.signing`).
``POST /admin/webhooks/{id}/teste`` → 202 ``{"entrega_id"}``: a ``teste`` event, sent as the
others are. ``GET /admin/webhooks/{id}/entregas?limit=`` → ``{"items": [...]}`` newest first
(`balto.store.webhooks.Entrega`). ``POST /admin/webhooks/{id}/entregas/{entrega_id}/reenviar`` →
202: a delivery given up (or delivered) is sent again, its attempts counted afresh; 404 for one
still pending or unknown. A store's gestor cannot use these (403); an API key only reads them.
Making, removing, a new secret, testing and resending are audited.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from quart import Blueprint, Response, jsonify

from balto.store import webhooks
from balto.web.audit import audit
from balto.web.auth import app_services, require_admin
from balto.web.bodies import json_object, text_field
from balto.web.errors import FieldError, error
from balto.web.params import canonical_uuid, jsonable, limit_arg
from balto.web.path_ids import own_cliente, touchable
from balto.web.principal import for_gestores, principal
from balto.webhooks.address import MAX_URL, AddressRefused, check_url

blueprint = Blueprint("admin_webhooks", __name__)
blueprint.before_request(require_admin)

MAX_DESCRICAO = 120
SECRET_OVERLAP_S = 24 * 3600.0  # a day for the chain's system to take the new secret
_NO_CLIENTE = "cliente não encontrado"
_NO_WEBHOOK = "webhook não encontrado"


def _eventos(body: dict[str, Any]) -> list[str]:
    value = body.get("eventos", ["alerta"])
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(e, str) and e in webhooks.EVENTOS for e in value)
    ):
        raise FieldError(
            "eventos",
            "eventos deve ser uma lista com alerta, recomendacao, retorno, orientacao, em_falta"
            " e/ou retirada",
        )
    return sorted(set(value))


def _descricao(body: dict[str, Any]) -> str | None:
    if body.get("descricao") in (None, ""):
        return None
    return text_field(body, "descricao", MAX_DESCRICAO)


@blueprint.post("/admin/clientes/<cliente_id>/webhooks")
@for_gestores
async def create(cliente_id: str) -> tuple[Response, int]:
    """Add a webhook; the answer is the only place its secret appears."""
    if (cid := own_cliente(cliente_id)) is None:
        return error(404, "not_found", _NO_CLIENTE)
    services = app_services()
    body = await json_object()
    url = text_field(body, "url", MAX_URL)
    try:
        check_url(url, services.settings.webhooks_allow_private)
    except AddressRefused as exc:
        raise FieldError("url", str(exc)) from None
    eventos, descricao = _eventos(body), _descricao(body)
    try:
        made = await services.db.run(
            webhooks.create, cid, url, eventos, descricao, principal().actor, services.box
        )
    except webhooks.DuplicateUrl:
        return error(409, "conflict", "a rede já tem um webhook para essa URL", field="url")
    except webhooks.TooMany:
        limit = webhooks.MAX_PER_CLIENTE
        return error(409, "conflict", f"a rede já tem {limit} webhooks", field="url")
    if made is None:
        return error(404, "not_found", _NO_CLIENTE)
    hook_id, segredo = made
    await audit("create_webhook", cliente_id=cid, webhook_id=hook_id, url=url, eventos=eventos)
    answer = {"id": hook_id, "url": url, "eventos": eventos, "descricao": descricao}
    return jsonify({**answer, "segredo": segredo}), 201


@blueprint.get("/admin/clientes/<cliente_id>/webhooks")
@for_gestores
async def listing(cliente_id: str) -> Response:
    """The chain's webhooks (never their secrets) and how their deliveries fare."""
    if (cid := own_cliente(cliente_id)) is None:
        return jsonify({"items": []})
    rows = await app_services().db.run(webhooks.list_for, cid)
    return jsonify({"items": [jsonable(asdict(row)) for row in rows]})


@blueprint.delete("/admin/webhooks/<webhook_id>")
@for_gestores
async def remove(webhook_id: str) -> Response | tuple[Response, int]:
    """Remove a webhook: nothing more is sent to it, pending deliveries included."""
    wid = await touchable("webhook", webhook_id)
    gone = None if wid is None else await app_services().db.run(webhooks.remove, wid)
    if gone is None:
        return error(404, "not_found", _NO_WEBHOOK)
    cliente_id, url = gone
    await audit("delete_webhook", cliente_id=cliente_id, webhook_id=wid, url=url)
    return Response("", status=204)


@blueprint.post("/admin/webhooks/<webhook_id>/segredo")
@for_gestores
async def rotate(webhook_id: str) -> tuple[Response, int]:
    """A new signing secret, shown once; the old one also signs for `SECRET_OVERLAP_S`."""
    wid = await touchable("webhook", webhook_id)
    services = app_services()
    made = (
        None
        if wid is None
        else await services.db.run(webhooks.rotate_secret, wid, SECRET_OVERLAP_S, services.box)
    )
    if made is None:
        return error(404, "not_found", _NO_WEBHOOK)
    segredo, until = made
    await audit("rotate_webhook_secret", webhook_id=wid)
    body = {"id": wid, "segredo": segredo, "segredo_anterior_ate": until.isoformat()}
    return jsonify(body), 200


@blueprint.post("/admin/webhooks/<webhook_id>/teste")
@for_gestores
async def test(webhook_id: str) -> tuple[Response, int]:
    """Queue a test event for the webhook, delivered like any other."""
    wid = await touchable("webhook", webhook_id)
    entrega = None if wid is None else await app_services().db.run(webhooks.enqueue_test, wid)
    if entrega is None:
        return error(404, "not_found", _NO_WEBHOOK)
    await audit("test_webhook", webhook_id=wid, entrega_id=entrega)
    return jsonify({"entrega_id": entrega}), 202


@blueprint.get("/admin/webhooks/<webhook_id>/entregas")
@for_gestores
async def log_of(webhook_id: str) -> Response | tuple[Response, int]:
    """The webhook's latest deliveries, newest first."""
    limit = limit_arg()
    if (wid := await touchable("webhook", webhook_id)) is None:
        return error(404, "not_found", _NO_WEBHOOK)
    rows = await app_services().db.run(webhooks.deliveries, wid, limit)
    return jsonify({"items": [jsonable(asdict(row)) for row in rows]})


@blueprint.post("/admin/webhooks/<webhook_id>/entregas/<entrega_id>/reenviar")
@for_gestores
async def resend(webhook_id: str, entrega_id: str) -> tuple[Response, int]:
    """Send a finished delivery again."""
    wid, eid = await touchable("webhook", webhook_id), canonical_uuid(entrega_id)
    if wid is None or eid is None or not await app_services().db.run(webhooks.resend, wid, eid):
        return error(404, "not_found", "entrega não encontrada ou ainda pendente")
    await audit("resend_webhook", webhook_id=wid, entrega_id=eid)
    return jsonify({"entrega_id": eid}), 202
