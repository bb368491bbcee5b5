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
An account with two-step verification on (`balto.totp`) gets, after a right password, 200 with a
second form (fields ``etapa``, a short-lived signed proof of the password, and ``codigo``): the
authenticator's code or a recovery code → 303 with the cookie; a wrong code → that form again with
401, counted like a wrong password; an expired ``etapa`` → the first form with 401.
A sign-in posted from another site is refused (login CSRF). ``POST /sair`` clears the
cookie and goes back to the form. Sign-ins and refusals are audited.
"""

from __future__ import annotations

import hmac
import re

import trio
from quart import Blueprint, Response, render_template, request

from balto import passwords
from balto.services import Services
from balto.storable_text import unstorable_at
from balto.store import gestores, two_step
from balto.store.database import DatabaseUnavailable
from balto.web import session_cookie
from balto.web.audit import audit
from balto.web.auth import PAGE_CSP, SIGN_IN_PATH, app_services, redirect_to
from balto.web.guesses import (
    FAILURE_DELAY_S,
    forget,
    forget_account,
    guesses,
    judge,
    judge_account,
)
from balto.web.principal import gestor_from_cookie, password_stamp

blueprint = Blueprint("signin", __name__)

HOME = "/admin/ao-vivo"
MAX_EMAIL = 254
MAX_SECRET = 1000  # longer than any secret or password: refused before any work
MAX_CODE = 40  # longer than an authenticator's or a recovery code
# a path on this server: browsers drop tabs and newlines from URLs and read "\\" as "/", so
# anything but plain URL characters could turn "/\t/evil" into "//evil" (another host)
_LOCAL_PATH = re.compile(r"/(?![/\\])[A-Za-z0-9\-._~/?=&%+:,;]*")


def _safe_next(value: str | None) -> str:
    """`value` when it is a path on this server, else the home page (no open redirect)."""
    if not value or len(value) > 500 or not _LOCAL_PATH.fullmatch(value):
        return HOME
    return value


async def _form(
    status: int, proximo: str, erro: str | None = None, email: str = "", etapa: str = ""
) -> Response:
    """The sign-in page: the password's form, or with `etapa` the second step's."""
    demo = app_services().settings.demo
    html = await render_template(
        "entrar.html", proximo=proximo, erro=erro, demo=demo, email=email[:MAX_EMAIL], etapa=etapa
    )
    response = Response(html, status=status, content_type="text/html; charset=utf-8")
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = PAGE_CSP
    response.headers["X-Frame-Options"] = "DENY"  # no clickjacking of the secret's form
    return response


@blueprint.get(SIGN_IN_PATH)
async def form() -> Response:
    """The sign-in form (already signed in: straight to the page asked for)."""
    services = app_services()
    proximo = _safe_next(request.args.get("proximo"))
    if session_cookie.has_cookie(services.admin_secret) or await _signed_gestor(services):
        return redirect_to(proximo)
    return await _form(200, proximo)


async def _signed_gestor(services: Services) -> bool:
    """Whether the request's gestor cookie still opens the app, its account checked as pages do.

    A deactivated account's cookie would otherwise bounce between the form and the page.
    """
    try:
        return await gestor_from_cookie(services) is not None
    except DatabaseUnavailable:
        return False


def _who(email: str) -> str:
    """The audit log's ator for a sign-in: the e-mail tried, when it can be stored."""
    if not email:
        return "operador"
    return f"gestor:{email[:MAX_EMAIL]}" if unstorable_at(email) is None else "gestor:?"


async def _gestor_token(services: Services, email: str, senha: str) -> str | None:
    """A token for the account `email` when `senha` is its password, else None.

    A session token, or when the account has two-step verification on, a second-step token.
    """
    found = await services.db.run(gestores.credentials, email)
    ok, stale = await passwords.check(found.senha_hash if found else None, senha)
    if not ok or found is None:
        return None
    if stale:  # made with older parameters: today's, now that the password is in hand
        await services.db.run(gestores.rehash, found.id, await passwords.make_hash(senha))
    make = (
        session_cookie.make_step_token if found.dois_fatores else session_cookie.make_gestor_token
    )
    return make(services.admin_secret, found.id, password_stamp(found.senha_em))


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
        return await _form(403, proximo, "Envio recusado: o formulário veio de outro site.", email)
    if "etapa" in fields:
        return await _second_step(
            services, addr, proximo, fields["etapa"], fields.get("codigo", "")
        )
    token: str | None = None
    if len(secret) > MAX_SECRET or len(email) > MAX_EMAIL or unstorable_at(email) is not None:
        right = False  # a NUL or a lone surrogate could not even be looked up
    elif not email:
        right = hmac.compare_digest(secret.encode(), services.admin_secret.encode())
        token = session_cookie.make_token(services.admin_secret) if right else None
    elif guesses().retry_after(addr):
        right = False  # limited here already: no password check spent on it
    else:
        try:
            token = await _gestor_token(services, email, secret)
        except DatabaseUnavailable:
            return await _form(503, proximo, "Banco de dados indisponível; tente de novo.", email)
        right = token is not None
    wait = await judge(services.db, addr, right)
    if not wait and email and unstorable_at(email) is None:  # the other kind never signs in
        wait = await judge_account(services.db, email[:MAX_EMAIL], right)
    if wait:
        return await _too_many(proximo, wait, who, email=email)
    if token is None:
        await trio.sleep(FAILURE_DELAY_S)
        await audit("sign_in", outcome="wrong_secret", ator=who)
        wrong = "E-mail ou senha incorretos." if email else "Segredo incorreto."
        return await _form(401, proximo, wrong, email)
    if session_cookie.step_of(services.admin_secret, token) is not None:
        # the wrong guesses so far stay counted until the code is right too: otherwise the
        # password, once known, would reset the budget of guesses at the code
        await audit("sign_in", outcome="code_asked", ator=who)
        return await _form(200, proximo, etapa=token)
    await forget(services.db, addr)
    if email:
        await forget_account(services.db, email)
    await audit("sign_in", outcome="signed_in", ator=who)
    response = redirect_to(proximo)
    session_cookie.set_cookie(response, token)
    return response


async def _second_step(
    services: Services, addr: str, proximo: str, etapa: str, codigo: str
) -> Response:
    """The sign-in's second step: `etapa` proves the password, `codigo` is the app's code."""
    found = session_cookie.step_of(services.admin_secret, etapa)
    expired = "A verificação expirou ou não vale mais; entre de novo."
    if found is None:
        return await _form(401, proximo, expired)
    gestor_id, stamp = found
    if wait := guesses().retry_after(addr):
        return await _too_many(proximo, wait, "gestor:?", etapa=etapa)
    try:
        member = await services.db.run(gestores.member, gestor_id)
        if member is None or password_stamp(member.senha_em) != stamp:
            return await _form(401, proximo, expired)  # password changed or account closed since
        right = len(codigo) <= MAX_CODE and await services.db.run(
            two_step.check_code, gestor_id, codigo
        )
    except DatabaseUnavailable:
        return await _form(503, proximo, "Banco de dados indisponível; tente de novo.", etapa=etapa)
    who = f"gestor:{member.email}"
    wait = await judge(services.db, addr, right)
    if not wait:
        wait = await judge_account(services.db, member.email, right)
    if wait:
        return await _too_many(proximo, wait, who, etapa=etapa)
    if not right:
        await trio.sleep(FAILURE_DELAY_S)
        await audit("sign_in", outcome="wrong_code", ator=who)
        return await _form(401, proximo, "Código incorreto.", etapa=etapa)
    await forget(services.db, addr)
    await forget_account(services.db, member.email)
    await audit("sign_in", outcome="signed_in", ator=who, segunda_etapa=True)
    response = redirect_to(proximo)
    session_cookie.set_cookie(
        response, session_cookie.make_gestor_token(services.admin_secret, gestor_id, stamp)
    )
    return response


async def _too_many(
    proximo: str, wait: int, who: str, *, email: str = "", etapa: str = ""
) -> Response:
    """429 with ``Retry-After``: too many wrong secrets, passwords or codes."""
    await audit("sign_in", outcome="rate_limited", ator=who)
    wrong = f"Muitas tentativas erradas. Tente de novo em {wait} segundos."
    response = await _form(429, proximo, wrong, email, etapa)
    response.headers["Retry-After"] = str(wait)
    return response


@blueprint.post("/sair")
async def sign_out() -> Response:
    """Drop the session cookie; back to the form."""
    response = redirect_to(SIGN_IN_PATH)
    if session_cookie.same_origin():
        session_cookie.clear_cookie(response)
    return response
