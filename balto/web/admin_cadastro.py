"""Admin routes over cadastro: rotate a cliente's linking code, read failed linking attempts.

Both need ``Authorization: Bearer <ADMIN_SECRET>`` (401 otherwise; the metrics token is refused).
A gestor may rotate its own cliente's code (another cliente: 404); the failures are the
operator's (403).

``POST /admin/clientes/{id}/codigo`` → 200 ``{"cliente_id", "codigo"}``: a fresh code; the old one
is refused from then on (balcões already linked keep their keys). Audited as ``rotate_codigo``.
``GET /admin/cadastro/falhas`` → ``{"items": [...], "next_cursor": …}``: failed or rate-limited
``POST /cadastro/balcao`` attempts, newest first (``id``, ``at``, ``remote_addr``, ``codigo``,
``reason`` = ``unknown_code`` | ``rate_limited``); filters ``desde``/``ate``, ``limit``, ``cursor``.
"""

from __future__ import annotations

from quart import Blueprint, Response, jsonify

from balto.store.cadastro import rotate_codigo
from balto.store.cadastro_guard import failures_page
from balto.web.audit import audit
from balto.web.auth import app_services, require_admin
from balto.web.errors import error
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
