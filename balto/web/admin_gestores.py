"""A chain's own accounts (gestores): managed by the operator and the chain's gestores; one's own.

The operator, or a gestor of the whole chain for its own cliente's accounts (another chain's
cliente or account reads as unknown, 404; a store's gestor gets 403). Nobody resets or deactivates
their own account here: ``POST /admin/conta/senha`` asks for the current password, and an account
that shut itself out would need the operator (409):
``POST /admin/clientes/{id}/gestores`` ``{"nome", "email", "senha", "loja_id"?}`` → 201
``{"id"}``; the password follows `balto.passwords.problem` (400 naming ``senha``); unknown
cliente → 404; an e-mail an active account already signs in with (any cliente, any case) → 409;
``loja_id`` (optional) makes a store's gestor, who sees that store only (400 naming it when the
store is not the cliente's).
``GET /admin/clientes/{id}/gestores`` → ``{"items": [{"id", "cliente_id", "nome", "email",
"created_at", "senha_em", "desativado_em", "loja_id", "dois_fatores"}]}`` (never a hash);
unknown cliente → empty.
``PUT /admin/gestores/{id}/senha`` ``{"senha"}`` → 200 ``{"id", "senha_em"}``: a new password
(the person forgot theirs); every open session of that account ends. 404 unknown or deactivated.
``DELETE /admin/gestores/{id}/dois-fatores`` → 204: the account's second step is off (the person
lost the phone) and its open sessions end; 409 when it was off; 404 unknown or deactivated.
``DELETE /admin/gestores/{id}`` → 204: deactivated (kept for the audit log), its sessions end at
their next request on every instance; asked again, 204; unknown → 404.

Anyone signed in:
``GET /admin/conta`` → ``{"papel": "operador" | "gestor" | "chave", "nome", "email", "cliente_id",
"razao_social", "loja_id", "loja_nome", "dois_fatores"}``: who the admin app is showing data to
(the pages read it; ``loja_id`` set for a store's gestor).
``POST /admin/conta/sessoes/encerrar`` (a gestor) → 200 ``{"senha_em"}`` with a new session
cookie: every other open session of the account ends (a browser left signed in elsewhere);
the operator → 403 (its sessions end when ``ADMIN_SECRET`` changes).
``POST /admin/conta/senha`` ``{"atual", "nova"}`` (a gestor) → 200 with a new session cookie:
the account's other sessions end; a wrong ``atual`` → 400 naming it (and counts as a wrong guess
from the address). The operator → 403: the operator's secret is the server's configuration.
Every change is audited.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from quart import Blueprint, Response, jsonify

from balto import passwords
from balto.store import gestores, two_step
from balto.store.lojas import UnknownLoja
from balto.web import session_cookie
from balto.web.audit import audit
from balto.web.auth import app_services, require_admin
from balto.web.bodies import email_field, json_object, optional_uuid_field, text_field
from balto.web.errors import FieldError, error
from balto.web.own_password import confirm_own_password
from balto.web.params import jsonable
from balto.web.path_ids import own_cliente, touchable
from balto.web.principal import (
    for_gestores,
    for_lojas,
    password_stamp,
    principal,
)

blueprint = Blueprint("admin_gestores", __name__)
blueprint.before_request(require_admin)

MAX_NOME = 120
_NOT_FOUND = "gestor não encontrado"
_NO_CLIENTE = "cliente não encontrado"
_OWN_PASSWORD = "change_own_password"
_SELF = "a própria conta se muda em Sua conta (com a senha atual)"


async def _other_account(gestor_id: str) -> str | tuple[Response, int]:
    """The id of the account `gestor_id` names if the principal may manage it, else the answer.

    The answer: 404 for an unknown account or another chain's, 409 for the principal's own.
    """
    if (gid := await touchable("gestor", gestor_id)) is None:
        return error(404, "not_found", _NOT_FOUND)
    if gid == principal().gestor_id:
        return error(409, "conflict", _SELF)
    return gid


def password_field(body: dict[str, Any], field: str) -> str:
    """A new password in `field`, as typed (not stripped); 400 when it breaks the rules."""
    value = body.get(field)
    if not isinstance(value, str):
        raise FieldError(field, f"campo obrigatório: {field} (texto)")
    if (why := passwords.problem(value)) is not None:
        raise FieldError(field, why)
    return value


@blueprint.post("/admin/clientes/<cliente_id>/gestores")
@for_gestores
async def create(cliente_id: str) -> tuple[Response, int]:
    """Give a cliente an account that signs in with an e-mail and a password."""
    if (cid := own_cliente(cliente_id)) is None:
        return error(404, "not_found", _NO_CLIENTE)
    body = await json_object()
    nome = text_field(body, "nome", MAX_NOME)
    email = email_field(body)
    senha = password_field(body, "senha")
    loja_id = optional_uuid_field(body, "loja_id")
    hashed = await passwords.make_hash(senha)
    try:
        new_id = await app_services().db.run(
            gestores.create_gestor, cid, nome, email, hashed, loja_id
        )
    except gestores.DuplicateEmail:
        return error(409, "conflict", "já existe um gestor ativo com esse e-mail", field="email")
    except UnknownLoja:
        raise FieldError("loja_id", "loja não encontrada nesse cliente") from None
    if new_id is None:
        return error(404, "not_found", _NO_CLIENTE)
    await audit("create_gestor", cliente_id=cid, gestor_id=new_id, email=email, loja_id=loja_id)
    return jsonify({"id": new_id}), 201


@blueprint.get("/admin/clientes/<cliente_id>/gestores")
@for_gestores
async def list_for_cliente(cliente_id: str) -> Response:
    """A cliente's accounts, active first."""
    if (cid := own_cliente(cliente_id)) is None:
        return jsonify({"items": []})
    rows = await app_services().db.run(gestores.list_gestores, cid)
    return jsonify({"items": [jsonable(asdict(row)) for row in rows]})


@blueprint.put("/admin/gestores/<gestor_id>/senha")
@for_gestores
async def reset_password(gestor_id: str) -> tuple[Response, int]:
    """Set a forgotten password anew; the account's open sessions end."""
    gid = await _other_account(gestor_id)
    if not isinstance(gid, str):
        return gid
    senha = password_field(await json_object(), "senha")
    stamp = await app_services().db.run(
        gestores.set_password, gid, await passwords.make_hash(senha)
    )
    if stamp is None:
        return error(404, "not_found", _NOT_FOUND)
    await audit("reset_gestor_password", gestor_id=gid)
    return jsonify({"id": gid, "senha_em": stamp.isoformat()}), 200


@blueprint.delete("/admin/gestores/<gestor_id>")
@for_gestores
async def deactivate(gestor_id: str) -> Response | tuple[Response, int]:
    """Deactivate an account: it can no longer sign in, and its sessions end."""
    gid = await _other_account(gestor_id)
    if not isinstance(gid, str):
        return gid
    if not await app_services().db.run(gestores.deactivate, gid):
        return error(404, "not_found", _NOT_FOUND)
    await audit("deactivate_gestor", gestor_id=gid)
    return Response("", status=204)


@blueprint.delete("/admin/gestores/<gestor_id>/dois-fatores")
@for_gestores
async def turn_off_two_step(gestor_id: str) -> Response | tuple[Response, int]:
    """Turn a colleague's second step off (a lost phone); its open sessions end."""
    gid = await _other_account(gestor_id)
    if not isinstance(gid, str):
        return gid
    if not await app_services().db.run(two_step.turn_off, gid, end_sessions=True):
        if await app_services().db.run(gestores.member, gid) is None:
            return error(404, "not_found", _NOT_FOUND)
        return error(409, "conflict", "a verificação em duas etapas dessa conta já está desligada")
    await audit("turn_off_two_step", gestor_id=gid, por="colega")
    return Response("", status=204)


@blueprint.get("/admin/conta")
@for_lojas
async def account() -> Response:
    """Who is signed in (the pages adapt their tabs and filters to it)."""
    who = principal()
    return jsonify(
        {
            "papel": "operador"
            if who.is_operator
            else "chave"
            if who.chave_id is not None
            else "gestor",
            "nome": who.nome,
            "email": who.email,
            "cliente_id": who.cliente_id,
            "razao_social": who.razao_social,
            "loja_id": who.loja_id,
            "loja_nome": who.loja_nome,
            "dois_fatores": who.dois_fatores,
        }
    )


@blueprint.post("/admin/conta/senha")
@for_lojas
async def change_own_password() -> tuple[Response, int]:
    """A gestor changes its own password, knowing the current one; other sessions end."""
    who = principal()
    if who.gestor_id is None or who.email is None:
        return error(403, "forbidden", "o segredo do operador é o ADMIN_SECRET da configuração")
    body = await json_object()
    nova = password_field(body, "nova")
    if (
        refused := await confirm_own_password(body.get("atual"), "atual", _OWN_PASSWORD)
    ) is not None:
        return refused
    services = app_services()
    stamp = await services.db.run(
        gestores.set_password, who.gestor_id, await passwords.make_hash(nova)
    )
    if stamp is None:  # deactivated meanwhile
        return error(403, "forbidden", "conta desativada")
    await audit(_OWN_PASSWORD, outcome="changed")
    response = jsonify({"senha_em": stamp.isoformat()})
    token = session_cookie.make_gestor_token(
        services.admin_secret, who.gestor_id, password_stamp(stamp)
    )
    session_cookie.set_cookie(response, token)
    return response, 200


@blueprint.post("/admin/conta/sessoes/encerrar")
@for_lojas
async def end_other_sessions() -> tuple[Response, int]:
    """A gestor ends every other open session of its account; this browser stays in."""
    who = principal()
    if who.gestor_id is None or who.email is None:
        return error(403, "forbidden", "as sessões do operador terminam quando o ADMIN_SECRET muda")
    services = app_services()
    stamp = await services.db.run(gestores.end_sessions, who.gestor_id)
    if stamp is None:
        return error(403, "forbidden", "conta desativada")
    await audit("end_other_sessions")
    response = jsonify({"senha_em": stamp.isoformat()})
    token = session_cookie.make_gestor_token(
        services.admin_secret, who.gestor_id, password_stamp(stamp)
    )
    session_cookie.set_cookie(response, token)
    return response, 200
