"""A chain's stores (lojas), managed by the operator or the chain's gestores.

``POST /admin/clientes/{id}/lojas`` ``{"nome"}`` → 201 ``{"id", "nome"}``; 404 for an unknown
cliente (or another chain's); 409 naming ``nome`` when the chain has a store of that name.
``GET /admin/clientes/{id}/lojas`` → ``{"items": [{"id", "cliente_id", "nome", "created_at",
"balcoes", "gestores", "codigo"}]}`` by name (a store's gestor: its own store only). ``codigo``:
the store's own linking code (a balcão linked with it belongs to the store; null for a store
made before stores had codes, until one is made).
``POST /admin/lojas/{id}/codigo`` → 200 ``{"id", "codigo"}``: a new linking code for the store,
the old one refused from now on (balcões linked keep their keys). Open to a store's gestor for
its own store, so it sets up its counters itself.
``PATCH /admin/lojas/{id}`` ``{"nome"}`` → 200 ``{"id", "nome"}``; 404 unknown; 409 taken.
``DELETE /admin/lojas/{id}`` → 204: its balcões belong to the chain as a whole again; 409 while
an active gestor or a live API key belongs to it (deactivate, revoke first); 404 unknown.
Every change is audited. Another chain's store reads as unknown (404). Which store a balcão
stands in is set in `balto.web.admin_balcoes`.
"""

from __future__ import annotations

from dataclasses import asdict

from quart import Blueprint, Response, jsonify

from balto.store import lojas
from balto.web.audit import audit
from balto.web.auth import app_services, require_admin
from balto.web.bodies import json_object, text_field
from balto.web.errors import error
from balto.web.params import jsonable
from balto.web.path_ids import own_cliente, touchable
from balto.web.principal import for_gestores, for_lojas, principal

blueprint = Blueprint("admin_lojas", __name__)
blueprint.before_request(require_admin)

MAX_NOME = 80
_NO_CLIENTE = "cliente não encontrado"
_NO_LOJA = "loja não encontrada"
_TAKEN = "já existe uma loja com esse nome nesta rede"


@blueprint.post("/admin/clientes/<cliente_id>/lojas")
@for_gestores
async def create(cliente_id: str) -> tuple[Response, int]:
    """Add a store to the chain."""
    if (cid := own_cliente(cliente_id)) is None:
        return error(404, "not_found", _NO_CLIENTE)
    nome = text_field(await json_object(), "nome", MAX_NOME)
    try:
        new_id = await app_services().db.run(lojas.create, cid, nome)
    except lojas.DuplicateName:
        return error(409, "conflict", _TAKEN, field="nome")
    if new_id is None:
        return error(404, "not_found", _NO_CLIENTE)
    await audit("create_loja", cliente_id=cid, loja_id=new_id, nome=nome)
    return jsonify({"id": new_id, "nome": nome}), 201


@blueprint.get("/admin/clientes/<cliente_id>/lojas")
@for_lojas
async def listing(cliente_id: str) -> Response:
    """The chain's stores with their balcões and gestores counted (a store's gestor: its own)."""
    if (cid := own_cliente(cliente_id)) is None:
        return jsonify({"items": []})
    rows = await app_services().db.run(lojas.list_lojas, cid, principal().loja_id)
    return jsonify({"items": [jsonable(asdict(row)) for row in rows]})


@blueprint.patch("/admin/lojas/<loja_id>")
@for_gestores
async def rename(loja_id: str) -> tuple[Response, int]:
    """Rename a store."""
    services = app_services()
    if (lid := await touchable("loja", loja_id)) is None:
        return error(404, "not_found", _NO_LOJA)
    nome = text_field(await json_object(), "nome", MAX_NOME)
    try:
        found = await services.db.run(lojas.rename, lid, nome)
    except lojas.DuplicateName:
        return error(409, "conflict", _TAKEN, field="nome")
    if not found:
        return error(404, "not_found", _NO_LOJA)
    await audit("rename_loja", loja_id=lid, nome=nome)
    return jsonify({"id": lid, "nome": nome}), 200


@blueprint.delete("/admin/lojas/<loja_id>")
@for_gestores
async def remove(loja_id: str) -> Response | tuple[Response, int]:
    """Remove a store; its balcões stay, belonging to the chain as a whole."""
    services = app_services()
    if (lid := await touchable("loja", loja_id)) is None:
        return error(404, "not_found", _NO_LOJA)
    try:
        found = await services.db.run(lojas.remove, lid)
    except lojas.HasGestores:
        return error(
            409,
            "conflict",
            "a loja tem gestores ativos ou chaves de API suas: desative as contas e revogue as"
            " chaves antes de remover",
        )
    if not found:
        return error(404, "not_found", _NO_LOJA)
    await audit("remove_loja", loja_id=lid)
    return Response("", status=204)


@blueprint.post("/admin/lojas/<loja_id>/codigo")
@for_lojas
async def rotate_code(loja_id: str) -> tuple[Response, int]:
    """A new linking code for the store; the old one stops linking."""
    if (lid := await touchable("loja", loja_id)) is None:
        return error(404, "not_found", _NO_LOJA)
    codigo = await app_services().db.run(lojas.rotate_code, lid)
    if codigo is None:
        return error(404, "not_found", _NO_LOJA)
    await audit("rotate_loja_codigo", loja_id=lid)
    return jsonify({"id": lid, "codigo": codigo}), 200
