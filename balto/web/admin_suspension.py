"""A cliente's access suspended and resumed by the operator (a contract ended, a bill unpaid).

``PUT /admin/clientes/{id}/suspensao`` ``{"motivo"}`` (1–200 characters) → 200 ``{"cliente_id",
"suspenso_em", "motivo", "sessoes_encerradas", "instancias_sem_resposta"}``: from then on the
chain's counters are refused at the handshake and its live sessions closed on every instance
(close code 4009), its gestores' pages and API calls answer 403 ``suspended`` (sign-in says so
after a right password), its API keys 403 ``suspended``, its and its stores' linking codes 403
``suspended``. Nothing is deleted: keys, accounts, codes, catalog and history stay, and the
operator still reads everything. Asked again: the first time and reason, and any session that
slipped in is closed again.
``DELETE /admin/clientes/{id}/suspensao`` → 200 ``{"cliente_id", "suspenso_em": null}``: the same
keys, accounts and codes work again at once (a counter reconnects with the key it has).
Both the operator's only (a gestor or key: 403); unknown cliente 404. Audited
``suspend_cliente`` (with ``motivo`` and the sessions closed) and ``resume_cliente``, only when
something changed.
"""

from __future__ import annotations

from quart import Blueprint, Response, jsonify

from balto.store.suspension import resume, suspend
from balto.web.audit import audit
from balto.web.auth import app_services, require_admin
from balto.web.bodies import json_object, name_field
from balto.web.errors import error
from balto.web.path_ids import own_cliente
from balto.web.remote_ops import close_suspended

MAX_MOTIVO = 200
NOT_FOUND = "cliente não encontrado"

blueprint = Blueprint("admin_suspension", __name__)
blueprint.before_request(require_admin)


@blueprint.put("/admin/clientes/<cliente_id>/suspensao")
async def suspend_cliente(cliente_id: str) -> tuple[Response, int]:
    """Suspend the cliente's access and close its live sessions everywhere."""
    if (cid := own_cliente(cliente_id)) is None:
        return error(404, "not_found", NOT_FOUND)
    motivo = name_field(await json_object(), "motivo", MAX_MOTIVO)
    standing = await app_services().db.run(suspend, cid, motivo)
    if standing is None:
        return error(404, "not_found", NOT_FOUND)
    closed, silent = await close_suspended(cid)
    if standing.changed:
        await audit("suspend_cliente", cliente_id=cid, motivo=motivo, sessoes_encerradas=closed)
    assert standing.suspenso_em is not None  # suspend() always answers a time
    body = {
        "cliente_id": cid,
        "suspenso_em": standing.suspenso_em.isoformat(),
        "motivo": standing.motivo,
        "sessoes_encerradas": closed,
        "instancias_sem_resposta": silent,
    }
    return jsonify(body), 200


@blueprint.delete("/admin/clientes/<cliente_id>/suspensao")
async def resume_cliente(cliente_id: str) -> tuple[Response, int]:
    """Lift the suspension: the chain's keys, accounts and codes work again."""
    if (cid := own_cliente(cliente_id)) is None:
        return error(404, "not_found", NOT_FOUND)
    standing = await app_services().db.run(resume, cid)
    if standing is None:
        return error(404, "not_found", NOT_FOUND)
    if standing.changed:
        await audit("resume_cliente", cliente_id=cid)
    return jsonify({"cliente_id": cid, "suspenso_em": None}), 200
