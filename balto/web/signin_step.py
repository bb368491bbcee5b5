"""The sign-in's second step, after a right password (`balto.web.signin`).

For a gestor whose account has two-step verification on, or whose chain requires it
(`balto.totp`).

The password's form answers 200 with the code's form, carrying ``etapa``: a signed proof of the
password, good for 5 minutes and never a session (`session_cookie.make_step_token`). Posted
back with ``codigo``:

- the account has it on: the app's code or a recovery code → 303 to the page asked for, with the
  session cookie; wrong → the form again, 401, counted like a wrong password (the address's and
  the e-mail's budgets; the password does not reset them while the code is asked for);
- the chain requires it and the account has none yet: the form shows a new secret and its QR
  first; the app's code for it turns it on, and the answer (200, with the session cookie) shows
  the recovery codes once and a link on; wrong → the same secret again, 401;
- an expired or forged ``etapa``, or a password changed since → the password's form, 401.
- the account's secret sealed under a key this server was not given (`balto.sealing`: a
  rotation half done across instances) → the code's form saying so, 503.
"""

from __future__ import annotations

import logging
from typing import Any

import trio
from quart import Response

from balto import totp
from balto.sealing import Unreadable
from balto.services import Services
from balto.store import gestores, two_step
from balto.store.database import DatabaseUnavailable
from balto.store.gestores import Credentials
from balto.web import session_cookie
from balto.web.audit import audit
from balto.web.auth import redirect_to
from balto.web.guesses import (
    FAILURE_DELAY_S,
    forget,
    forget_account,
    guesses,
    judge,
    judge_account,
)
from balto.web.principal import password_stamp
from balto.web.signin_page import page, too_many

log = logging.getLogger(__name__)

MAX_CODE = 40  # longer than an authenticator's or a recovery code
_EXPIRED = "A verificação expirou ou não vale mais; entre de novo."
_UNAVAILABLE = "Banco de dados indisponível; tente de novo."
# another instance resealed the account's secret under a key this one was not given yet (a
# rotation half done): the operator's to fix, the person told so in the form, not in JSON
_UNREADABLE = (
    "Este servidor não consegue ler a verificação em duas etapas da sua conta agora."
    " Tente de novo em instantes; se continuar, avise o operador do Balto."
)
SUSPENDED_PAGE = (
    "O acesso desta rede ao Balto está suspenso. Fale com o operador do Balto para reativá-lo."
)


def needs_step(account: Credentials) -> bool:
    """Whether a right password is not enough for this account."""
    return account.dois_fatores or account.exige_dois_fatores


async def ask(services: Services, account: Credentials, proximo: str) -> Response:
    """The second step's form for an account whose password was right (200)."""
    etapa = session_cookie.make_step_token(
        services.admin_secret, account.id, password_stamp(account.senha_em)
    )
    who = f"gestor:{account.email}"
    if account.dois_fatores:
        await audit("sign_in", outcome="code_asked", ator=who)
        return await page(200, proximo, etapa=etapa)
    secret = totp.new_secret()
    try:
        await services.db.run(two_step.start, account.id, secret, services.box)
    except DatabaseUnavailable:
        return await page(503, proximo, _UNAVAILABLE)
    except two_step.AlreadyOn:  # turned on in another tab meanwhile: its code, then
        return await page(200, proximo, etapa=etapa)
    await audit("sign_in", outcome="setup_asked", ator=who)
    setup = await totp.enrollment_off_loop(secret, account.email)
    return await page(200, proximo, etapa=etapa, configurar=setup)


async def answer(services: Services, addr: str, proximo: str, etapa: str, codigo: str) -> Response:
    """Check the second step's `codigo` against the account `etapa` names."""
    found = session_cookie.step_of(services.admin_secret, etapa)
    if found is None:
        return await page(401, proximo, _EXPIRED)
    gestor_id, stamp = found
    if wait := guesses().retry_after(addr):
        await audit("sign_in", outcome="rate_limited", ator="gestor:?")
        return await too_many(proximo, wait, etapa=etapa)
    try:
        member = await services.db.run(gestores.member, gestor_id)
        if member is None or password_stamp(member.senha_em) != stamp:
            return await page(401, proximo, _EXPIRED)  # password changed or account closed since
        if member.suspenso:  # suspended between the password and the code
            await audit("sign_in", outcome="suspended", ator=f"gestor:{member.email}")
            return await page(403, proximo, SUSPENDED_PAGE)
        if not member.dois_fatores:
            if not member.exige_dois_fatores:  # no longer required: the password was enough
                return await _signed_in(services, addr, member.email, gestor_id, stamp, proximo)
            return await _set_up(services, addr, member.email, gestor_id, (etapa, codigo), proximo)
        right = len(codigo) <= MAX_CODE and await services.db.run(
            two_step.check_code, gestor_id, codigo, services.box
        )
    except DatabaseUnavailable:
        return await page(503, proximo, _UNAVAILABLE, etapa=etapa)
    except Unreadable as exc:
        log.error("a gestor's second step cannot be checked here: %s", exc)
        return await page(503, proximo, _UNREADABLE, etapa=etapa)
    who = f"gestor:{member.email}"
    wait = await judge(services.db, addr, right)
    if not wait:
        wait = await judge_account(services.db, member.email, right)
    if wait:
        await audit("sign_in", outcome="rate_limited", ator=who)
        return await too_many(proximo, wait, etapa=etapa)
    if not right:
        await trio.sleep(FAILURE_DELAY_S)
        await audit("sign_in", outcome="wrong_code", ator=who)
        return await page(401, proximo, "Código incorreto.", etapa=etapa)
    return await _signed_in(services, addr, member.email, gestor_id, stamp, proximo)


async def _signed_in(
    services: Services, addr: str, email: str, gestor_id: str, stamp: int, proximo: str
) -> Response:
    token = session_cookie.make_gestor_token(services.admin_secret, gestor_id, stamp)
    return await admit(services, addr, email, token, proximo, segunda_etapa=True)


async def admit(
    services: Services, addr: str, email: str, token: str, proximo: str, **detail: Any
) -> Response:
    """A full sign-in (`email` blank: the operator): 303 to `proximo` with the cookie `token`.

    The address's and the e-mail's wrong guesses are forgotten; the sign-in is audited.
    """
    await forget(services.db, addr)
    if email:
        await forget_account(services.db, email)
    ator = f"gestor:{email}" if email else "operador"
    await audit("sign_in", outcome="signed_in", ator=ator, **detail)
    response = redirect_to(proximo)
    session_cookie.set_cookie(response, token)
    return response


async def _set_up(
    services: Services,
    addr: str,
    email: str,
    gestor_id: str,
    step: tuple[str, str],
    proximo: str,
) -> Response:
    """The chain requires a second step and the account has none: turn it on with the code.

    `step` is the form's ``etapa`` and ``codigo``.
    """
    etapa, codigo = step
    secret = await services.db.run(two_step.pending, gestor_id, services.box)
    if secret is None:
        return await page(401, proximo, _EXPIRED)
    recovery = totp.new_recovery_codes()
    hashes = [h for c in recovery if (h := totp.recovery_hash(c)) is not None]
    code = codigo if len(codigo) <= MAX_CODE else ""
    outcome = await services.db.run(two_step.confirm, gestor_id, code, hashes, services.box)
    if not isinstance(outcome, two_step.Confirmed):
        await forget(services.db, addr)
        await forget_account(services.db, email)
        await audit("two_step", outcome="on", ator=f"gestor:{email}", na_entrada=True)
        await audit("sign_in", outcome="signed_in", ator=f"gestor:{email}", segunda_etapa=True)
        response = await page(200, proximo, codigos=recovery)
        token = session_cookie.make_gestor_token(
            services.admin_secret, gestor_id, password_stamp(outcome)
        )
        session_cookie.set_cookie(response, token)
        return response
    await trio.sleep(FAILURE_DELAY_S)
    await audit("sign_in", outcome="wrong_setup_code", ator=f"gestor:{email}")
    setup = await totp.enrollment_off_loop(secret, email)
    return await page(401, proximo, "Código incorreto.", etapa=etapa, configurar=setup)
