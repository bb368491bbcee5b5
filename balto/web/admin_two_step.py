"""A gestor turns its own two-step verification on and off (`balto.totp`), under Sua conta.

``POST /admin/conta/dois-fatores`` ``{"senha"}`` (the current password) → 200 ``{"segredo",
"uri", "qr"}``: a new secret to add to an authenticator app (``qr``: its ``otpauth://`` URI as an
SVG data URI); nothing changes until it is confirmed; asked again, a new secret replaces it. A
wrong password → 400 naming ``senha`` (a wrong guess from the address); already on → 409.
``POST /admin/conta/dois-fatores/confirmar`` ``{"codigo"}`` (the app's code) → 200
``{"codigos_recuperacao": [10 codes]}`` with a new session cookie: the second step is on, every
other session of the account ends (they signed in without it), and the recovery codes are shown
this once. A wrong code → 400 naming ``codigo``; nothing being set up → 409.
``DELETE /admin/conta/dois-fatores`` ``{"senha", "codigo"}`` (an app's code or a recovery code) →
200 ``{"dois_fatores": false}``; wrong → 400 naming the field; off already, or required by the
chain → 409.
The operator and API keys → 403 (the operator's secret is the server's configuration). A lost
phone: a chain gestor turns it off for a colleague (`balto.web.admin_gestores`).
``PUT /admin/clientes/{id}/dois-fatores`` ``{"exigido": bool}`` (the operator, or a gestor of the
whole chain for its own) → 200 ``{"cliente_id", "exigido"}``: required of every gestor of the
chain, a gestor without it sets it up at its next sign-in (`balto.web.signin_step`); sessions
open now go on. 404 unknown or another chain's; 400 naming ``exigido``. Audited.
"""

from __future__ import annotations

from dataclasses import asdict

import trio
from quart import Blueprint, Response, jsonify, request

from balto import totp
from balto.store import gestores, two_step
from balto.web import session_cookie
from balto.web.audit import audit
from balto.web.auth import app_services, require_admin
from balto.web.bodies import json_object
from balto.web.errors import FieldError, error
from balto.web.guesses import FAILURE_DELAY_S, judge
from balto.web.own_password import confirm_own_password, too_many
from balto.web.path_ids import own_cliente
from balto.web.principal import for_gestores, for_lojas, password_stamp, principal

blueprint = Blueprint("admin_two_step", __name__)
blueprint.before_request(require_admin)

PATH = "/admin/conta/dois-fatores"
_ACTION = "two_step"
_OFF = "a verificação em duas etapas desta conta está desligada"


def _gestor_id() -> str | None:
    """The signed-in gestor's id; None for the operator and API keys."""
    return principal().gestor_id


def _not_a_gestor() -> tuple[Response, int]:
    return error(403, "forbidden", "só a conta de um gestor tem verificação em duas etapas")


def _code(body: dict[str, object]) -> str:
    """The ``codigo`` field as typed; 400 when missing."""
    value = body.get("codigo")
    if not isinstance(value, str) or not value.strip() or len(value) > 40:
        raise FieldError("codigo", "campo obrigatório: codigo (o código do aplicativo)")
    return value


@blueprint.post(PATH)
@for_lojas
async def start() -> tuple[Response, int]:
    """A new secret to set up, once the current password is given."""
    if (gid := _gestor_id()) is None:
        return _not_a_gestor()
    body = await json_object()
    if (refused := await confirm_own_password(body.get("senha"), "senha", _ACTION)) is not None:
        return refused
    secret = totp.new_secret()
    try:
        services = app_services()
        if not await services.db.run(two_step.start, gid, secret, services.box):
            return error(403, "forbidden", "conta desativada")
    except two_step.AlreadyOn:
        return error(409, "conflict", "a verificação em duas etapas já está ligada")
    await audit(_ACTION, outcome="started")
    return jsonify(asdict(await totp.enrollment_off_loop(secret, principal().email or ""))), 200


@blueprint.post(PATH + "/confirmar")
@for_lojas
async def confirm() -> tuple[Response, int]:
    """Turn it on with a code from the app; the recovery codes, shown once."""
    if (gid := _gestor_id()) is None:
        return _not_a_gestor()
    code = _code(await json_object())
    recovery = totp.new_recovery_codes()
    hashes = [h for c in recovery if (h := totp.recovery_hash(c)) is not None]
    services = app_services()
    outcome = await services.db.run(two_step.confirm, gid, code, hashes, services.box)
    if outcome is two_step.Confirmed.NOTHING_PENDING:
        return error(409, "conflict", "nada a confirmar: comece por ligar a verificação")
    if outcome is two_step.Confirmed.WRONG_CODE:
        await audit(_ACTION, outcome="wrong_code")
        raise FieldError("codigo", "o código não confere (veja a hora do celular)")
    await audit(_ACTION, outcome="on")
    response = jsonify({"codigos_recuperacao": recovery})
    token = session_cookie.make_gestor_token(services.admin_secret, gid, password_stamp(outcome))
    session_cookie.set_cookie(response, token)  # this browser stays in; the others end
    return response, 200


@blueprint.delete(PATH)
@for_lojas
async def turn_off() -> tuple[Response, int]:
    """Back to the password alone, given the password and a code."""
    if (gid := _gestor_id()) is None:
        return _not_a_gestor()
    body = await json_object()
    code = _code(body)
    services = app_services()
    member = await services.db.run(gestores.member, gid)
    if member is None or not member.dois_fatores:
        return error(409, "conflict", _OFF)
    if member.exige_dois_fatores:
        return error(409, "conflict", "a sua rede exige a verificação em duas etapas")
    if (refused := await confirm_own_password(body.get("senha"), "senha", _ACTION)) is not None:
        return refused
    right = await services.db.run(two_step.check_code, gid, code, services.box)
    if wait := await judge(services.db, request.remote_addr or "?", right):
        return too_many(wait)
    if not right:
        await trio.sleep(FAILURE_DELAY_S)
        await audit(_ACTION, outcome="wrong_code")
        raise FieldError("codigo", "o código não confere")
    await services.db.run(two_step.turn_off, gid, end_sessions=False)
    await audit(_ACTION, outcome="off")
    return jsonify({"dois_fatores": False}), 200


@blueprint.put("/admin/clientes/<cliente_id>/dois-fatores")
@for_gestores
async def require(cliente_id: str) -> tuple[Response, int]:
    """Require two-step verification of every gestor of the chain, or stop requiring it."""
    if (cid := own_cliente(cliente_id)) is None:
        return error(404, "not_found", "cliente não encontrado")
    exigido = (await json_object()).get("exigido")
    if not isinstance(exigido, bool):
        raise FieldError("exigido", "campo obrigatório: exigido (true ou false)")
    if not await app_services().db.run(two_step.require, cid, exigido):
        return error(404, "not_found", "cliente não encontrado")
    await audit("require_two_step", cliente_id=cid, exigido=exigido)
    return jsonify({"cliente_id": cid, "exigido": exigido}), 200
