"""Admin routes over cadastro: a cliente's data corrected, its linking code, failed linkings.

All need ``Authorization: Bearer <ADMIN_SECRET>`` (401 otherwise; the metrics token is refused)
or an admin session. A gestor may correct its own cliente's data and rotate its code (another
cliente: 404); the failures are the operator's (403).

``PATCH /admin/clientes/{id}`` with any of ``{"razao_social", "email", "telefone"}`` → 200
``{"id", "razao_social", "email", "telefone"}``: the registration data corrected (validated as at
``POST /cadastro/cliente``: 400 naming the field; none of the three → 400 naming ``body``). The
operator's and the chain's gestores' (a store's gestor: 403). Audited ``update_cliente``, its
``mudancas`` each changed field's old and new value.
``POST /admin/clientes/{id}/codigo`` → 200 ``{"cliente_id", "codigo"}``: a fresh code; the old one
is refused from then on (balcões already linked keep their keys). Audited as ``rotate_codigo``.
``GET /admin/cadastro/falhas`` → ``{"items": [...], "next_cursor": …}``: failed or rate-limited
``POST /cadastro/balcao`` attempts, newest first (``id``, ``at``, ``remote_addr``, ``codigo``,
``reason`` = ``unknown_code`` | ``rate_limited``); filters ``desde``/``ate``, ``limit``, ``cursor``.
"""

from __future__ import annotations

from quart import Blueprint, Response, jsonify

from balto.store.cadastro import rotate_codigo, update_cliente
from balto.store.cadastro_guard import failures_page
from balto.web.audit import audit
from balto.web.auth import app_services, require_admin
from balto.web.bodies import (
    MAX_RAZAO_SOCIAL,
    email_field,
    json_object,
    telefone_field,
    text_field,
)
from balto.web.errors import FieldError, error
from balto.web.params import (
    cursor_arg,
    encode_cursor,
    filters_arg,
    jsonable,
    limit_arg,
)
from balto.web.path_ids import own_cliente
from balto.web.principal import for_gestores

blueprint = Blueprint("admin_cadastro", __name__)


_services = app_services
blueprint.before_request(require_admin)


@blueprint.patch("/admin/clientes/<cliente_id>")
@for_gestores
async def update(cliente_id: str) -> tuple[Response, int]:
    """Correct the cliente's razão social, e-mail or telefone."""
    if (cid := own_cliente(cliente_id)) is None:
        return error(404, "not_found", "cliente não encontrado")
    body = await json_object()
    values: dict[str, str] = {}
    if "razao_social" in body:
        values["razao_social"] = text_field(body, "razao_social", MAX_RAZAO_SOCIAL)
    if "email" in body:
        values["email"] = email_field(body)
    if "telefone" in body:
        values["telefone"] = telefone_field(body)
    if not values:
        raise FieldError("body", "informe razao_social, email ou telefone")
    done = await _services().db.run(update_cliente, cid, values)
    if done is None:
        return error(404, "not_found", "cliente não encontrado")
    if done.changed:
        mudancas = {field: {"de": de, "para": para} for field, (de, para) in done.changed.items()}
        await audit("update_cliente", cliente_id=cid, mudancas=mudancas)
    return jsonify({"id": cid, **done.saved}), 200


@blueprint.post("/admin/clientes/<cliente_id>/codigo")
@for_gestores
async def rotate(cliente_id: str) -> tuple[Response, int]:
    """Give the cliente a new linking code; the old one stops working."""
    if (canonical := own_cliente(cliente_id)) is None:
        return error(404, "not_found", "cliente não encontrado")
    cliente_id = canonical
    codigo = await _services().db.run(rotate_codigo, cliente_id)
    if codigo is None:
        await audit("rotate_codigo", cliente_id=cliente_id, outcome="not_found")
        return error(404, "not_found", "cliente não encontrado")
    await audit("rotate_codigo", cliente_id=cliente_id, outcome="rotated")
    return jsonify({"cliente_id": cliente_id, "codigo": codigo}), 200


@blueprint.get("/admin/cadastro/falhas")
async def failures() -> Response:
    """Failed and rate-limited linking attempts, newest first."""
    filters, limit, cursor = filters_arg(), limit_arg(), cursor_arg()
    page = await _services().db.run(failures_page, limit, cursor, filters.desde, filters.ate)
    items = [jsonable(row) for row in page.rows]
    return jsonify({"items": items, "next_cursor": encode_cursor(page.next_cursor)})
