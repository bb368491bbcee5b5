"""Admin routes over a cliente's attendants (issue 15 Cadastro; issue 16 hangs voiceprints here).

All need the admin secret (401 otherwise) or a gestor's session, which reaches its own cliente's
attendants only (another cliente's: 404; its ``cliente_id`` in the list's filter: 403), and a
store's gestor its own store's only (it registers the attendants of its store itself).
``POST /admin/atendentes`` ``{"cliente_id", "nome", "consentimento": true, "loja_id"?}`` → 201
``{"id"}``; consent must be literally ``true`` (a voiceprint is sensitive personal data under the
LGPD), else 400; unknown cliente → 404; a live attendant of that name in that cliente → 409.
``loja_id``: the store the attendant works in (absent or null: the whole chain; a store's gestor:
its own store, another → 403 naming it); 400 naming it for a store that is not the cliente's.
``GET /admin/atendentes?cliente_id=&loja_id=`` → ``{"items": [{"id", "cliente_id", "nome",
"consentimento_at", "created_at", "loja_id", "voz"}]}`` by name; ``voz`` is null without a
voiceprint, else
``{"fala_s", "qualidade", "modelo", "cadastrada_em", "atual"}`` (``atual`` false: made by an older
model, which sessions skip, so the voice must be recorded again).
``PUT /admin/atendentes/{id}/loja`` ``{"loja_id": "<uuid>" | null}`` → 200 ``{"atendente_id",
"loja_id"}``: she moves to another store of her chain (null: the whole chain), her voiceprint
with her; the operator and the chain's gestores only (a store's gestor: 403); 400 naming
``loja_id`` when absent or another chain's store; 404 unknown.
``PATCH /admin/atendentes/{id}`` ``{"nome"}`` → 200 ``{"atendente_id", "nome"}``: her name
corrected (a typo), her voiceprint and consent kept; sessions name her anew from their next
segment, history keeps the name of its time; 400 naming ``nome``; 409 for another live attendant
of that name in her chain; 404 unknown or removed. Audited ``rename_atendente``.
``DELETE /admin/atendentes/{id}`` → 204 (404 when unknown); history keeps the name it stored.
"""

from __future__ import annotations

from dataclasses import asdict

from quart import Blueprint, Response, jsonify

from balto.speaker.voiceprint import MODEL
from balto.store.atendentes import (
    DuplicateAtendente,
    create_atendente,
    list_atendentes,
    place_atendente,
    remove_atendente,
    rename_atendente,
)
from balto.store.lojas import UnknownLoja
from balto.web.audit import audit
from balto.web.auth import app_services, require_admin
from balto.web.bodies import json_object, name_field, optional_uuid_field, text_field
from balto.web.errors import FieldError, error
from balto.web.params import canonical_uuid, jsonable, uuid_arg
from balto.web.path_ids import touchable
from balto.web.principal import for_gestores, for_lojas, owns, scoped_cliente, scoped_loja

blueprint = Blueprint("admin_atendentes", __name__)
blueprint.before_request(require_admin)

MAX_NOME = 80  # what the counter may declare (actors.attendant.MAX_NAME_CHARS): one limit
_TAKEN = "já existe um atendente com esse nome neste cliente"


@blueprint.post("/admin/atendentes")
@for_lojas
async def create() -> tuple[Response, int]:
    """Register an attendant of a cliente, with the attendant's consent."""
    body = await json_object()
    cliente_id = canonical_uuid(text_field(body, "cliente_id", 64))
    if cliente_id is None:
        raise FieldError("cliente_id", "cliente_id deve ser um UUID")
    if not owns(cliente_id):
        return error(404, "not_found", "cliente não encontrado", field="cliente_id")
    nome = text_field(body, "nome", MAX_NOME)
    loja_id = scoped_loja(optional_uuid_field(body, "loja_id"))
    if body.get("consentimento") is not True:
        raise FieldError(
            "consentimento",
            "consentimento deve ser true: a biometria de voz exige o consentimento do atendente",
        )
    try:
        new_id = await app_services().db.run(create_atendente, cliente_id, nome, loja_id)
    except DuplicateAtendente:
        return error(409, "conflict", _TAKEN)
    except UnknownLoja:
        raise FieldError("loja_id", "loja não encontrada nesse cliente") from None
    if new_id is None:
        return error(404, "not_found", "cliente não encontrado", field="cliente_id")
    await audit("create_atendente", cliente_id=cliente_id, atendente_id=new_id, loja_id=loja_id)
    return jsonify({"id": new_id}), 201


@blueprint.get("/admin/atendentes")
@for_lojas
async def listing() -> Response:
    """Live attendants, of one cliente (``cliente_id``) or of all (a gestor: its own)."""
    rows = await app_services().db.run(
        list_atendentes, scoped_cliente(uuid_arg("cliente_id")), scoped_loja(uuid_arg("loja_id"))
    )
    items = [jsonable(asdict(row)) for row in rows]
    for item in items:
        if item["voz"] is not None:
            item["voz"] = {**jsonable(item["voz"]), "atual": item["voz"]["modelo"] == MODEL}
    return jsonify({"items": items})


@blueprint.put("/admin/atendentes/<atendente_id>/loja")
@for_gestores
async def place(atendente_id: str) -> tuple[Response, int]:
    """Move an attendant to another store of her chain (null: the chain as a whole)."""
    if (key := await touchable("atendente", atendente_id)) is None:
        return error(404, "not_found", "atendente não encontrado")
    body = await json_object()
    if "loja_id" not in body:
        raise FieldError("loja_id", "campo obrigatório: loja_id (UUID ou null)")
    loja_id = optional_uuid_field(body, "loja_id")
    try:
        if not await app_services().db.run(place_atendente, key, loja_id):
            return error(404, "not_found", "atendente não encontrado")
    except UnknownLoja:
        raise FieldError("loja_id", "loja não encontrada na rede deste atendente") from None
    await audit("place_atendente", atendente_id=key, loja_id=loja_id)
    return jsonify({"atendente_id": key, "loja_id": loja_id}), 200


@blueprint.patch("/admin/atendentes/<atendente_id>")
@for_lojas
async def rename(atendente_id: str) -> tuple[Response, int]:
    """Correct an attendant's name."""
    if (key := await touchable("atendente", atendente_id)) is None:
        return error(404, "not_found", "atendente não encontrado")
    nome = name_field(await json_object(), "nome", MAX_NOME)
    try:
        antes = await app_services().db.run(rename_atendente, key, nome)
    except DuplicateAtendente:
        return error(409, "conflict", _TAKEN, field="nome")
    if antes is None:
        return error(404, "not_found", "atendente não encontrado")
    await audit("rename_atendente", atendente_id=key, de=antes, para=nome)
    return jsonify({"atendente_id": key, "nome": nome}), 200


@blueprint.delete("/admin/atendentes/<atendente_id>")
@for_lojas
async def remove(atendente_id: str) -> tuple[str, int] | tuple[Response, int]:
    """Remove an attendant (and, with it, any use of the attendant's voice)."""
    key = await touchable("atendente", atendente_id)
    services = app_services()
    if key is None or not await services.db.run(remove_atendente, key):
        return error(404, "not_found", "atendente não encontrado")
    await audit("remove_atendente", atendente_id=key)
    return "", 204
