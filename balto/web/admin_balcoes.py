"""A balcão's settings in the admin app: its name and the store it stands in.

``PATCH /admin/balcoes/{id}`` ``{"nome_balcao"}`` → 200 ``{"balcao_id", "nome_balcao"}``: the
name every page, list and report shows from now on (a counter names itself when it links, often
"Balcão 1"; the chain gives it the name its people use). 1–120 characters, as at linking; 400
naming ``nome_balcao`` otherwise. Open to a store's gestor for its store's balcões (it links them
itself). Audited ``rename_balcao`` with the old and the new name.
``PUT /admin/balcoes/{id}/loja`` ``{"loja_id": "<uuid>" | null}`` → 200 ``{"balcao_id",
"loja_id"}``: the store the balcão stands in (null: none); its history moves with it. 400 naming
``loja_id`` for a store that is not the balcão's chain's. The operator's and the chain's gestores'.
Both: 404 for an unknown balcão, or another chain's (another store's, for a store's gestor).
``GET /admin/redes/conexoes`` (the operator's) → ``{"itens": [{"cliente_id", "razao_social",
"suspenso", "balcoes", "conectados", "nunca_conectaram"}]}``: per chain, its balcões not revoked,
how many are connected now (on any instance) and how many never connected, the chains with most
counters off first; Ao vivo shows it when no chain is chosen.
"""

from __future__ import annotations

from quart import Blueprint, Response, jsonify

from balto.store import lojas
from balto.store.cadastro import rename_balcao
from balto.store.network_status import connections_by_cliente
from balto.web.audit import audit
from balto.web.auth import app_services, require_admin
from balto.web.bodies import json_object, name_field, optional_uuid_field
from balto.web.errors import FieldError, error
from balto.web.params import jsonable
from balto.web.path_ids import touchable
from balto.web.principal import for_gestores, for_lojas

blueprint = Blueprint("admin_balcoes", __name__)
blueprint.before_request(require_admin)

MAX_NOME = 120  # as `POST /cadastro/balcao` takes it
_NO_BALCAO = "balcão não encontrado"


@blueprint.patch("/admin/balcoes/<balcao_id>")
@for_lojas
async def rename(balcao_id: str) -> tuple[Response, int]:
    """Give a balcão the name its people use."""
    if (bid := await touchable("balcao", balcao_id)) is None:
        return error(404, "not_found", _NO_BALCAO)
    nome = name_field(await json_object(), "nome_balcao", MAX_NOME)
    antes = await app_services().db.run(rename_balcao, bid, nome)
    if antes is None:
        return error(404, "not_found", _NO_BALCAO)
    await audit("rename_balcao", balcao_id=bid, de=antes, para=nome)
    return jsonify({"balcao_id": bid, "nome_balcao": nome}), 200


@blueprint.put("/admin/balcoes/<balcao_id>/loja")
@for_gestores
async def place(balcao_id: str) -> tuple[Response, int]:
    """Say which store a balcão stands in (null: the chain as a whole)."""
    services = app_services()
    if (bid := await touchable("balcao", balcao_id)) is None:
        return error(404, "not_found", _NO_BALCAO)
    body = await json_object()
    if "loja_id" not in body:
        raise FieldError("loja_id", "campo obrigatório: loja_id (UUID ou null)")
    loja_id = optional_uuid_field(body, "loja_id")
    wrong = await services.db.run(lojas.place_balcao, bid, loja_id)
    if wrong == "balcao":
        return error(404, "not_found", _NO_BALCAO)
    if wrong == "loja":
        raise FieldError("loja_id", "loja não encontrada na rede deste balcão")
    await audit("place_balcao", balcao_id=bid, loja_id=loja_id)
    return jsonify({"balcao_id": bid, "loja_id": loja_id}), 200


@blueprint.get("/admin/redes/conexoes")
async def network_connections() -> Response:
    """Per chain: its balcões, how many are connected now and how many never connected."""
    rows = await app_services().db.run(connections_by_cliente)
    return jsonify({"itens": [jsonable(row) for row in rows]})
