"""Sign-in and sign-out of the admin app: the operator's secret, or a gestor's e-mail and password.

``GET /entrar`` shows the form. ``POST /entrar`` (form fields ``email``, ``segredo``, ``proximo``):
with ``email`` blank, ``segredo`` is compared with the admin secret in constant time (the
operator); with an e-mail, it is the password of that chain account (`balto.store.gestores`,
checked against its Argon2id hash by `balto.passwords`; an unknown e-mail costs the same check).
Right → 303 to ``proximo`` (a path on this server, default ``/admin/ao-vivo``) with the session
cookie (`balto.web.session_cookie`); wrong → the form again with 401 after a pause, the same
words for an unknown e-mail and a wrong password. An address with too many wrong secrets or
passwords, here or in ``Authorization`` headers, gets 429 with ``Retry-After``, and so does an
e-mail with too many wrong passwords from any addresses (`balto.web.guesses`).
An account with two-step verification on, or whose chain requires it, gets after a right password
the second step's form instead (`balto.web.signin_step`).
A sign-in posted from another site is refused (login CSRF). ``POST /sair`` clears the
cookie and goes back to the form. Sign-ins and refusals are audited.
"""

from __future__ import annotations

import hmac
import re

import trio
from quart import Blueprint, Response, request

from balto import passwords
from balto.services import Services
from balto.storable_text import unstorable_at
from balto.store import gestores
from balto.store.database import DatabaseUnavailable
from balto.store.gestores import Credentials
from balto.web import session_cookie, signin_step
from balto.web.audit import audit
from balto.web.auth import SIGN_IN_PATH, app_services, redirect_to
from balto.web.guesses import (
    FAILURE_DELAY_S,
    guesses,
    judge,
    judge_account,
)
from balto.web.principal import gestor_from_cookie, password_stamp
from balto.web.signin_page import MAX_EMAIL, page, too_many

blueprint = Blueprint("signin", __name__)

HOME = "/admin/ao-vivo"
MAX_SECRET = 1000  # longer than any secret or password: refused before any work
# a path on this server: browsers drop tabs and newlines from URLs and read "\\" as "/", so
# anything but plain URL characters could turn "/\t/evil" into "//evil" (another host)
_LOCAL_PATH = re.compile(r"/(?![/\\])[A-Za-z0-9\-._~/?=&%+:,;]*")


def _safe_next(value: str | None) -> str:
    """`value` when it is a path on this server, else the home page (no open redirect)."""
    if not value or len(value) > 500 or not _LOCAL_PATH.fullmatch(value):
        return HOME
    return value


@blueprint.get(SIGN_IN_PATH)
async def form() -> Response:
    """The sign-in form (already signed in: straight to the page asked for)."""
    services = app_services()
    proximo = _safe_next(request.args.get("proximo"))
    if session_cookie.has_cookie(services.admin_secret) or await _signed_gestor(services):
        return redirect_to(proximo)
    return await page(200, proximo)


async def _signed_gestor(services: Services) -> bool:
    """Whether the request's gestor cookie still opens the app, its account checked as pages do.

    A deactivated account's cookie would otherwise bounce between the form and the page.
    """
    try:
        who = await gestor_from_cookie(services)
        return who is not None and not who.suspenso
    except DatabaseUnavailable:
        return False


def _who(email: str) -> str:
    """The audit log's ator for a sign-in: the e-mail tried, when it can be stored."""
    if not email:
        return "operador"
    return f"gestor:{email[:MAX_EMAIL]}" if unstorable_at(email) is None else "gestor:?"


async def _gestor_account(services: Services, email: str, senha: str) -> Credentials | None:
    """The account `email` when `senha` is its password, else None."""
    found = await services.db.run(gestores.credentials, email)
    ok, stale = await passwords.check(found.senha_hash if found else None, senha)
    if not ok or found is None:
        return None
    if stale:  # made with older parameters: today's, now that the password is in hand
        await services.db.run(gestores.rehash, found.id, await passwords.make_hash(senha))
    return found


@blueprint.post(SIGN_IN_PATH)
async def sign_in() -> Response:
    """Check the secret or the password; set the session cookie or answer why not."""
    services = app_services()
    addr = request.remote_addr or "?"
    fields = await request.form
    proximo = _safe_next(fields.get("proximo"))
    email = fields.get("email", "").strip()
    secret = fields.get("segredo", "")
    who = _who(email)
    if not session_cookie.same_origin():
        await audit("sign_in", outcome="cross_site", ator=who)
        return await page(403, proximo, "Envio recusado: o formulário veio de outro site.", email)
    if "etapa" in fields:
        return await signin_step.answer(
            services, addr, proximo, fields["etapa"], fields.get("codigo", "")
        )
    token: str | None = None
    account: Credentials | None = None
    if len(secret) > MAX_SECRET or len(email) > MAX_EMAIL or unstorable_at(email) is not None:
        right = False  # a NUL or a lone surrogate could not even be looked up
    elif not email:
        right = hmac.compare_digest(secret.encode(), services.admin_secret.encode())
        token = session_cookie.make_token(services.admin_secret) if right else None
    elif guesses().retry_after(addr):
        right = False  # limited here already: no password check spent on it
    else:
        try:
            account = await _gestor_account(services, email, secret)
        except DatabaseUnavailable:
            return await page(503, proximo, "Banco de dados indisponível; tente de novo.", email)
        right = account is not None
        if account is not None and not signin_step.needs_step(account):
            stamp = password_stamp(account.senha_em)
            token = session_cookie.make_gestor_token(services.admin_secret, account.id, stamp)
    wait = await judge(services.db, addr, right)
    if not wait and email and unstorable_at(email) is None:  # the other kind never signs in
        wait = await judge_account(services.db, email[:MAX_EMAIL], right)
    if wait:
        await audit("sign_in", outcome="rate_limited", ator=who)
        return await too_many(proximo, wait, email=email)
    if account is not None and account.suspenso:  # told only to whoever knows the password
        await audit("sign_in", outcome="suspended", ator=who)
        return await page(403, proximo, signin_step.SUSPENDED_PAGE, email)
    if account is not None and token is None:
        # the wrong guesses so far stay counted until the code is right too: otherwise the
        # password, once known, would reset the budget of guesses at the code
        return await signin_step.ask(services, account, proximo)
    if token is None:
        await trio.sleep(FAILURE_DELAY_S)
        await audit("sign_in", outcome="wrong_secret", ator=who)
        wrong = "E-mail ou senha incorretos." if email else "Segredo incorreto."
        return await page(401, proximo, wrong, email)
    return await signin_step.admit(services, addr, email, token, proximo)


@blueprint.post("/sair")
async def sign_out() -> Response:
    """Drop the session cookie; back to the form."""
    response = redirect_to(SIGN_IN_PATH)
    if session_cookie.same_origin():
        session_cookie.clear_cookie(response)
    return response
