"""Sign-in and sign-out of the admin app: the admin secret once per browser session.

``GET /entrar`` shows the form. ``POST /entrar`` (form fields ``segredo``,
``proximo``) compares the secret in constant time; right → 303 to ``proximo`` (a path on this
server, default ``/admin/ao-vivo``) with the session cookie (`balto.web.session_cookie`); wrong →
the form again with 401 after a pause. An address with too many wrong secrets, here or in
``Authorization`` headers, gets 429 with ``Retry-After`` (`balto.web.guesses`).
A sign-in posted from another site is refused (login CSRF). ``POST /sair`` clears the
cookie and goes back to the form. Sign-ins and refusals are audited.
"""

from __future__ import annotations

import hmac
import re

import trio
from quart import Blueprint, Response, render_template, request

from balto.web import session_cookie
from balto.web.audit import audit
from balto.web.auth import PAGE_CSP, SIGN_IN_PATH, app_services, redirect_to
from balto.web.guesses import FAILURE_DELAY_S, forget, judge

blueprint = Blueprint("signin", __name__)

HOME = "/admin/ao-vivo"
# a path on this server: browsers drop tabs and newlines from URLs and read "\\" as "/", so
# anything but plain URL characters could turn "/\t/evil" into "//evil" (another host)
_LOCAL_PATH = re.compile(r"/(?![/\\])[A-Za-z0-9\-._~/?=&%+:,;]*")


def _safe_next(value: str | None) -> str:
    """`value` when it is a path on this server, else the home page (no open redirect)."""
    if not value or len(value) > 500 or not _LOCAL_PATH.fullmatch(value):
        return HOME
    return value


async def _form(status: int, proximo: str, erro: str | None = None) -> Response:
    demo = app_services().settings.demo
    html = await render_template("entrar.html", proximo=proximo, erro=erro, demo=demo)
    response = Response(html, status=status, content_type="text/html; charset=utf-8")
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = PAGE_CSP
    response.headers["X-Frame-Options"] = "DENY"  # no clickjacking of the secret's form
    return response


@blueprint.get(SIGN_IN_PATH)
async def form() -> Response:
    """The sign-in form (already signed in: straight to the page asked for)."""
    proximo = _safe_next(request.args.get("proximo"))
    if session_cookie.has_cookie(app_services().admin_secret):
        return redirect_to(proximo)
    return await _form(200, proximo)


@blueprint.post(SIGN_IN_PATH)
async def sign_in() -> Response:
    """Check the secret; set the session cookie or answer why not."""
    services = app_services()
    addr = request.remote_addr or "?"
    fields = await request.form
    proximo = _safe_next(fields.get("proximo"))
    if not session_cookie.same_origin():
        await audit("sign_in", outcome="cross_site")
        return await _form(403, proximo, "Envio recusado: o formulário veio de outro site.")
    right = hmac.compare_digest(fields.get("segredo", "").encode(), services.admin_secret.encode())
    wait = await judge(services.db, addr, right)
    if wait:
        await audit("sign_in", outcome="rate_limited")
        response = await _form(
            429, proximo, f"Muitas tentativas erradas. Tente de novo em {wait} segundos."
        )
        response.headers["Retry-After"] = str(wait)
        return response
    if not right:
        await trio.sleep(FAILURE_DELAY_S)
        await audit("sign_in", outcome="wrong_secret")
        return await _form(401, proximo, "Segredo incorreto.")
    await forget(services.db, addr)
    await audit("sign_in", outcome="signed_in")
    response = redirect_to(proximo)
    session_cookie.set_cookie(response, session_cookie.make_token(services.admin_secret))
    return response


@blueprint.post("/sair")
async def sign_out() -> Response:
    """Drop the session cookie; back to the form."""
    response = redirect_to(SIGN_IN_PATH)
    if session_cookie.same_origin():
        session_cookie.clear_cookie(response)
    return response
