"""A chain's API keys, made and revoked by the operator or the chain's gestores.

A key lets a chain's own system (a BI, an ERP) read what its gestores read — conversations,
alerts, the Painel's figures, the Excel report — with ``Authorization: Bearer ck_…``, GET only;
anything else answers 403 (`balto.web.auth.require_admin`).

``POST /admin/clientes/{id}/chaves`` ``{"nome", "loja_id"?}`` → 201 ``{"id", "chave", "dica"}``:
the key is in this answer only (only its SHA-256 is kept). 404 for an unknown cliente or another
chain's. With ``loja_id`` the key reads that store only, as a store's gestor does (the same
routes, the same scoping); 400 naming ``loja_id`` for a store that is not the chain's.
``GET /admin/clientes/{id}/chaves`` → ``{"items": [{"id", "cliente_id", "nome", "dica",
"criada_por", "created_at", "usada_em", "revogada_em", "loja_id", "uso_minuto"}],
"orcamento_minuto"}``; ``usada_em`` to the minute; ``uso_minuto`` the units the key has spent
in its sliding minute now, of ``orcamento_minuto`` (`balto.web.key_limit`; null: no budget).
``DELETE /admin/chaves/{id}`` → 204: revoked at once on every instance (asked again, 204);
404 unknown or another chain's. Making and revoking are audited.
"""

from __future__ import annotations

from dataclasses import asdict

from quart import Blueprint, Response, jsonify

from balto.store import chaves_api, key_budget
from balto.store.lojas import UnknownLoja
from balto.web.audit import audit
from balto.web.auth import app_services, require_admin
from balto.web.bodies import json_object, optional_uuid_field, text_field
from balto.web.errors import FieldError, error
from balto.web.params import jsonable
from balto.web.path_ids import own_cliente, touchable
from balto.web.principal import for_gestores, principal

blueprint = Blueprint("admin_chaves", __name__)
blueprint.before_request(require_admin)

MAX_NOME = 80
_NO_CLIENTE = "cliente não encontrado"


@blueprint.post("/admin/clientes/<cliente_id>/chaves")
@for_gestores
async def create(cliente_id: str) -> tuple[Response, int]:
    """Make an API key for the cliente; the answer is the only place the key appears."""
    if (cid := own_cliente(cliente_id)) is None:
        return error(404, "not_found", _NO_CLIENTE)
    body = await json_object()
    nome = text_field(body, "nome", MAX_NOME)
    loja_id = optional_uuid_field(body, "loja_id")
    try:
        made = await app_services().db.run(
            chaves_api.create_key, cid, nome, principal().actor, loja_id
        )
    except UnknownLoja:
        raise FieldError("loja_id", "loja não encontrada nesse cliente") from None
    if made is None:
        return error(404, "not_found", _NO_CLIENTE)
    key_id, key = made
    await audit("create_chave", cliente_id=cid, chave_id=key_id, nome=nome, loja_id=loja_id)
    return jsonify({"id": key_id, "chave": key, "dica": key[:8]}), 201


@blueprint.get("/admin/clientes/<cliente_id>/chaves")
@for_gestores
async def listing(cliente_id: str) -> Response:
    """The cliente's keys (never the keys themselves), live first."""
    if (cid := own_cliente(cliente_id)) is None:
        return jsonify({"items": []})
    services = app_services()
    rows = await services.db.run(chaves_api.list_keys, cid)
    budget = services.settings.api_key_budget
    used = await services.db.run(key_budget.usage, cid) if budget > 0 else {}
    items = [{**jsonable(asdict(row)), "uso_minuto": used.get(row.id, 0)} for row in rows]
    return jsonify({"items": items, "orcamento_minuto": budget or None})


@blueprint.delete("/admin/chaves/<chave_id>")
@for_gestores
async def revoke(chave_id: str) -> Response | tuple[Response, int]:
    """Revoke a key: requests made with it are refused from now on."""
    services = app_services()
    kid = await touchable("chave", chave_id)
    if kid is None or await services.db.run(chaves_api.revoke, kid) is None:
        return error(404, "not_found", "chave não encontrada")
    await audit("revoke_chave", chave_id=kid)
    return Response("", status=204)
