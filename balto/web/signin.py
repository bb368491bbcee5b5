"""Sign-in and sign-out of the admin app: the admin secret once per browser session.

``GET /entrar`` shows the form. ``POST /entrar`` (form fields ``segredo``,
``proximo``) compares the secret in constant time; right → 303 to ``proximo`` (a path on this
server, default ``/admin/ao-vivo``) with the session cookie (`balto.web.session_cookie`); wrong →
the form again with 401 after a pause (`FAILURE_DELAY_S`). An address with `MAX_FAILURES` wrong
secrets within `WINDOW_S` gets 429 with ``Retry-After`` until the oldest leaves the window (counted
per instance, in memory: the secret is long, this only stops brute force from one place).
A sign-in posted from another site is refused (login CSRF). ``POST /sair`` clears the
cookie and goes back to the form. Sign-ins and refusals are audited.
"""

from __future__ import annotations

import hmac
import re
from collections import deque

import trio
from quart import Blueprint, Response, current_app, render_template, request

from balto.web import session_cookie
from balto.web.audit import audit
from balto.web.auth import PAGE_CSP, SIGN_IN_PATH, app_services, redirect_to

blueprint = Blueprint("signin", __name__)

HOME = "/admin/ao-vivo"
MAX_FAILURES = 5
WINDOW_S = 300.0
FAILURE_DELAY_S = 0.5  # every wrong guess costs the guesser time, not the server (a sleep)
_MAX_ADDRESSES = 10_000  # bounds the table under a spray of addresses


class _Failures:
    """Wrong sign-ins per client address within the window (`trio.current_time` clock)."""

    def __init__(self) -> None:
        self._at: dict[str, deque[float]] = {}

    def _recent(self, addr: str, now: float) -> deque[float]:
        times = self._at.get(addr, deque())
        while times and now - times[0] > WINDOW_S:
            times.popleft()
        return times

    def retry_after(self, addr: str) -> int:
        """Seconds until `addr` may try again (0: now)."""
        now = trio.current_time()
        times = self._recent(addr, now)
        if len(times) < MAX_FAILURES:
            return 0
        return max(1, int(WINDOW_S - (now - times[0])) + 1)

    def add(self, addr: str) -> None:
        """Count one wrong sign-in from `addr`."""
        now = trio.current_time()
        if len(self._at) >= _MAX_ADDRESSES and addr not in self._at:
            self._at.clear()  # crude, but memory stays bounded and the limit resumes at once
        times = self._recent(addr, now)
        times.append(now)
        self._at[addr] = times

    def clear(self, addr: str) -> None:
        """Forget `addr`'s failures (it signed in)."""
        self._at.pop(addr, None)


def _failures() -> _Failures:
    """This app's table (one per app: tests run several servers in one process)."""
    table: _Failures = current_app.config.setdefault("BALTO_SIGNIN_FAILURES", _Failures())
    return table


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
    wait = _failures().retry_after(addr)
    if wait:
        await audit("sign_in", outcome="rate_limited")
        response = await _form(
            429, proximo, f"Muitas tentativas erradas. Tente de novo em {wait} segundos."
        )
        response.headers["Retry-After"] = str(wait)
        return response
    # counted before the check, so guesses sent in parallel cannot all pass the limit above
    _failures().add(addr)
    segredo = fields.get("segredo", "")
    if not hmac.compare_digest(segredo.encode(), services.admin_secret.encode()):
        await trio.sleep(FAILURE_DELAY_S)
        await audit("sign_in", outcome="wrong_secret")
        return await _form(401, proximo, "Segredo incorreto.")
    _failures().clear(addr)
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
