"""Cadastro routes, as the seed defines them.

``POST /cadastro/cliente`` (admin) → 201 ``{"codigo": "NNNNNN"}``;
``POST /cadastro/balcao`` with a linking code → 201 ``{"api_key", "balcao_id", "status"}``; 403
``suspended`` for the code of a cliente whose access is suspended (`balto.store.suspension`).
``POST /cadastro/balcao/revogar`` ``{"api_key"}`` (the device itself, e.g. a counter browser being
unlinked) → 200 ``{"balcao_id", "revoked_at", "closed_session_id"}``: the key is refused from then
on and its live session, if any, is closed with 4003; asked again, the first revocation time;
404 for a key nobody owns. Audited (``revoke_self``).
Linking is rate-limited on failures per client address and per code (`balto.store.cadastro_guard`):
past the limit → 429 with ``Retry-After``, even for a right code. Every failure is logged and
stored for admins (``GET /admin/cadastro/falhas``).
"""

from __future__ import annotations

import logging
import re

from quart import Blueprint, Response, current_app, jsonify, request

from balto.services import Services
from balto.store.cadastro import API_KEY_PREFIX, create_cliente, revoke_own_key
from balto.store.cadastro_guard import FailureLimit, link_balcao
from balto.web.audit import audit
from balto.web.auth import SUSPENDED, is_admin
from balto.web.bodies import MAX_RAZAO_SOCIAL, email_field, json_object, telefone_field, text_field
from balto.web.errors import FieldError, error
from balto.web.principal import OPERATOR, remember
from balto.web.remote_ops import close_revoked

log = logging.getLogger(__name__)

blueprint = Blueprint("cadastro", __name__)

_CODIGO = re.compile(r"^\d{6}$")


def _services() -> Services:
    services: Services = current_app.config["BALTO_SERVICES"]
    return services


@blueprint.post("/cadastro/cliente")
async def cadastro_cliente() -> tuple[Response, int]:
    """Register a cliente; answer its 6-digit linking code."""
    services = _services()
    if not is_admin(services.admin_secret):
        return error(
            401, "unauthorized", "Authorization: Bearer <ADMIN_SECRET> ausente ou inválido"
        )
    remember(OPERATOR)  # the audit log's ator
    body = await json_object()
    email = email_field(body)
    razao_social = text_field(body, "razao_social", MAX_RAZAO_SOCIAL)
    digits = telefone_field(body)
    codigo = await services.db.run(create_cliente, email, razao_social, digits)
    log.info("cliente registered: %s", razao_social)
    return jsonify({"codigo": codigo}), 201


@blueprint.post("/cadastro/balcao")
async def cadastro_balcao() -> tuple[Response, int]:
    """Register a balcão under a cliente's linking code; answer its API key (shown once)."""
    services = _services()
    body = await json_object()
    nome = text_field(body, "nome_balcao", 120)
    codigo = text_field(body, "user_codigo", 6)
    if not _CODIGO.match(codigo):
        raise FieldError("user_codigo", "user_codigo deve ter 6 dígitos")
    settings = services.settings
    limit = FailureLimit(settings.cadastro_max_failures, settings.cadastro_window_s)
    address = request.remote_addr or "unknown"
    result = await services.db.run(link_balcao, codigo, nome, address, limit)
    if result.retry_after_s is not None:
        log.warning(
            "balcao registration refused (rate limit) from %s for code %s; retry in %d s",
            address,
            codigo,
            result.retry_after_s,
        )
        response, status = error(
            429, "too_many_requests", "muitas tentativas com código inválido; aguarde"
        )
        response.headers["Retry-After"] = str(result.retry_after_s)
        return response, status
    if result.suspended:
        log.warning("balcao registration refused: code %s of a suspended cliente", codigo)
        return error(403, "suspended", SUSPENDED, field="user_codigo")
    if result.created is None:
        log.warning("balcao registration with unknown code %s from %s", codigo, address)
        return error(404, "not_found", "código de vínculo não encontrado", field="user_codigo")
    api_key, balcao_id = result.created
    log.info("balcao registered: %s (%s)", nome, balcao_id)
    return jsonify({"api_key": api_key, "balcao_id": balcao_id, "status": "registered"}), 201


@blueprint.post("/cadastro/balcao/revogar")
async def revogar_balcao() -> tuple[Response, int]:
    """A device revokes its own key (it is being unlinked); its live session is closed."""
    body = await json_object()
    api_key = text_field(body, "api_key", 200)
    if not api_key.startswith(API_KEY_PREFIX):
        raise FieldError("api_key", "api_key inválida")
    revoked = await _services().db.run(revoke_own_key, api_key)
    if revoked is None:
        return error(404, "not_found", "chave não encontrada", field="api_key")
    balcao_id, revoked_at = revoked
    session_id = await close_revoked(balcao_id)
    await audit("revoke_self", balcao_id=balcao_id, session_id=session_id, outcome="revoked")
    log.info("balcao %s revoked its own key", balcao_id)
    body = {"balcao_id": balcao_id, "revoked_at": revoked_at.isoformat()}
    return jsonify({**body, "closed_session_id": session_id}), 200
