"""Cadastro routes, as the seed defines them.

``POST /cadastro/cliente`` (admin) → 201 ``{"codigo": "NNNNNN"}``;
``POST /cadastro/balcao`` with a linking code → 201 ``{"api_key", "balcao_id", "status"}``.
Linking is rate-limited on failures per client address and per code (`balto.store.cadastro_guard`):
past the limit → 429 with ``Retry-After``, even for a right code. Every failure is logged and
stored for admins (``GET /admin/cadastro/falhas``).
"""

from __future__ import annotations

import logging
import re

from quart import Blueprint, Response, current_app, jsonify, request

from balto.services import Services
from balto.store.cadastro import create_cliente
from balto.store.cadastro_guard import FailureLimit, link_balcao
from balto.web.auth import is_admin
from balto.web.bodies import json_object, text_field
from balto.web.errors import FieldError, error

log = logging.getLogger(__name__)

blueprint = Blueprint("cadastro", __name__)

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
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
    body = await json_object()
    email = text_field(body, "email", 254)
    if not _EMAIL.match(email):
        raise FieldError("email", "email inválido")
    razao_social = text_field(body, "razao_social", 200)
    telefone = text_field(body, "telefone", 30)
    digits = re.sub(r"\D", "", telefone)
    if not 10 <= len(digits) <= 13:
        raise FieldError("telefone", "telefone deve ter de 10 a 13 dígitos (com DDD)")
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
    if result.created is None:
        log.warning("balcao registration with unknown code %s from %s", codigo, address)
        return error(404, "not_found", "código de cliente não encontrado", field="user_codigo")
    api_key, balcao_id = result.created
    log.info("balcao registered: %s (%s)", nome, balcao_id)
    return jsonify({"api_key": api_key, "balcao_id": balcao_id, "status": "registered"}), 201
