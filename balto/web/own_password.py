"""A signed-in gestor proves it is still the person at the keyboard: its current password.

Asked before changing what guards the account (its password, its second step). A wrong password
counts as a wrong guess from the address, like one on the sign-in form.
"""

from __future__ import annotations

import trio
from quart import Response, request

from balto import passwords
from balto.store import gestores
from balto.web.audit import audit
from balto.web.auth import app_services
from balto.web.errors import FieldError, error
from balto.web.guesses import FAILURE_DELAY_S, judge
from balto.web.principal import principal


async def confirm_own_password(
    senha: object, field: str, action: str
) -> tuple[Response, int] | None:
    """None when `senha` is the signed-in gestor's password, else why not.

    A 429 answer when the address has guessed too often; `FieldError` naming `field` when the
    password is wrong (audited as `action`).
    """
    who = principal()
    if not isinstance(senha, str) or not senha:
        raise FieldError(field, f"campo obrigatório: {field} (a senha de agora)")
    services = app_services()
    found = await services.db.run(gestores.credentials, who.email or "")
    ok, _ = await passwords.check(found.senha_hash if found else None, senha)
    ok = ok and found is not None and found.id == who.gestor_id
    wait = await judge(services.db, request.remote_addr or "?", ok)
    if wait:
        return too_many(wait)
    if not ok:
        await trio.sleep(FAILURE_DELAY_S)
        await audit(action, outcome="wrong_password")
        raise FieldError(field, "a senha atual não confere")
    return None


def too_many(wait: int) -> tuple[Response, int]:
    """429 with ``Retry-After``: the address guessed wrong too often."""
    response, status = error(429, "rate_limited", f"muitas tentativas; espere {wait} s")
    response.headers["Retry-After"] = str(wait)
    return response, status
