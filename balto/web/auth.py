"""Admin checks: the bearer secret (API clients) or the browser session cookie, in constant time.

``Authorization: Bearer <ADMIN_SECRET>`` opens every admin route; so does the session cookie a
sign-in sets (`balto.web.session_cookie`), for safe methods always and for state-changing ones
only from this server's own origin. ``BALTO_METRICS_TOKEN``, when
set, opens ``GET /metrics`` only: every admin route compares against the admin secret alone, so
the metrics token is refused there like any other wrong secret. A wrong bearer secret counts
against the address's budget of guesses, shared with the sign-in form (`limit_bearer_guesses`).

A gestor (one chain's account, signed in with e-mail and password) has a session cookie of its
own kind: the admin hooks let it through to the routes marked `principal.for_gestores` only (a
store's gestor: `principal.for_lojas` only), and answer 403 elsewhere; `is_admin` and the bearer
secret stay the operator's. A chain's API key (``Authorization: Bearer ck_…``,
`balto.store.chaves_api`) reads the same routes (GET only).
"""

from __future__ import annotations

import hmac
from urllib.parse import urlencode

import trio
from quart import Response, current_app, render_template, request

from balto.services import Services
from balto.store.database import DatabaseUnavailable
from balto.web import session_cookie
from balto.web.errors import error
from balto.web.guesses import FAILURE_DELAY_S, judge
from balto.web.key_limit import within_budget
from balto.web.principal import (
    OPERATOR,
    balcao_from_bearer,
    gestor_from_cookie,
    key_from_bearer,
    keys_write_here,
    open_to,
    remember,
)

UNAUTHORIZED = "Authorization: Bearer <ADMIN_SECRET> ausente ou inválido"
TOO_MANY = "muitas tentativas com segredo errado deste endereço; tente de novo em {} s"
CROSS_SITE = "requisição de outra origem recusada"
OPERATOR_ONLY = "acesso restrito ao operador do Balto"
KEY_READS_ONLY = "uma chave de API só lê os dados da rede (GET)"
SUSPENDED = "o acesso desta rede ao Balto está suspenso; fale com o operador do Balto"
SIGN_IN_PATH = "/entrar"
GESTOR_HOME = "/admin/ao-vivo"
UNAVAILABLE_RETRY_S = 5
# the admin app's pages: scripts and styles from this server only, no framing
PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
    " connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def has_bearer(secret: str) -> bool:
    """True when the request carries ``Authorization: Bearer <secret>``."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return False
    return hmac.compare_digest(token.strip().encode(), secret.encode())


def is_admin(secret: str) -> bool:
    """True when the request carries the admin bearer secret, or a session cookie it may use.

    The cookie counts for GET/HEAD/OPTIONS, and for other methods only when the request comes
    from this server's own origin (`session_cookie.same_origin`).
    """
    if has_bearer(secret):
        return True
    return session_cookie.has_cookie(secret) and session_cookie.cookie_allows()


def app_services() -> Services:
    """The process's services, as the app holds them (routes reach them here, not globally)."""
    services: Services = current_app.config["BALTO_SERVICES"]
    return services


async def require_admin() -> tuple[Response, int] | None:
    """A blueprint's ``before_request``: the operator, or a gestor on a route open to gestores.

    No valid secret or session: 401. A session cookie on a state-changing request from another
    origin: 403. A gestor on an operator's route: 403.
    """
    services = app_services()
    if is_admin(services.admin_secret):
        remember(OPERATOR)
        return None
    key = await key_from_bearer(services)
    if key is not None:
        if key.suspenso:
            return error(403, "suspended", SUSPENDED)
        writes = request.method not in session_cookie.SAFE_METHODS
        if not open_to(key) or (writes and not keys_write_here()):
            return error(403, "forbidden", KEY_READS_ONLY)
        # a key's principal always names it and its cliente
        assert key.chave_id is not None and key.cliente_id is not None
        if (over := await within_budget(services, key.chave_id, key.cliente_id)) is not None:
            return over
        remember(key)
        return None
    gestor = await gestor_from_cookie(services)
    if gestor is not None and session_cookie.cookie_allows():
        if gestor.suspenso:
            return error(403, "suspended", SUSPENDED)
        if not open_to(gestor):
            return error(403, "forbidden", OPERATOR_ONLY)
        remember(gestor)
        return None
    if gestor is not None or session_cookie.has_cookie(services.admin_secret):
        return error(403, "forbidden", CROSS_SITE)
    return error(401, "unauthorized", UNAUTHORIZED)


async def require_page() -> Response | tuple[Response, int] | None:
    """A page blueprint's ``before_request``: send a browser without a session to sign in.

    A request that brings its own ``Authorization`` header is an API client, not a browser: a
    wrong secret gets the 401 every admin route gives, not a sign-in page. A gestor asking for an
    operator's page is sent to its home page, a suspended cliente's gestor to a page saying so
    (403); with the database away (its account cannot be checked) it gets a page saying so
    (503), not the JSON error the data routes answer.
    """
    services = app_services()
    if is_admin(services.admin_secret):
        remember(OPERATOR)
        return None
    if request.headers.get("Authorization"):
        return error(401, "unauthorized", UNAUTHORIZED)
    try:
        gestor = await gestor_from_cookie(services)
    except DatabaseUnavailable:
        return await _unavailable_page()
    if gestor is not None:
        if gestor.suspenso:
            return await suspended_page()
        if not open_to(gestor):
            return redirect_to(GESTOR_HOME)
        remember(gestor)
        return None
    target = request.full_path.rstrip("?") if request.query_string else request.path
    return redirect_to(SIGN_IN_PATH, proximo=target)


async def _unavailable_page() -> tuple[Response, int]:
    """A gestor's page while the database is away: its account cannot be checked (503, HTML)."""
    here = request.full_path.rstrip("?") if request.query_string else request.path
    html = await render_template("indisponivel.html", aqui=here)
    response = Response(html, content_type="text/html; charset=utf-8")
    response.headers["Retry-After"] = str(UNAVAILABLE_RETRY_S)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = PAGE_CSP
    return response, 503


async def suspended_page() -> tuple[Response, int]:
    """A suspended cliente's gestor on any page: why it is refused, and a way to sign out (403)."""
    html = await render_template("suspenso.html")
    response = Response(html, content_type="text/html; charset=utf-8")
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = PAGE_CSP
    return response, 403


def redirect_to(path: str, **params: str) -> Response:
    """A 303 to `path` on this server (query `params` encoded)."""
    location = f"{path}?{urlencode(params)}" if params else path
    response = Response("", status=303)
    response.headers["Location"] = location
    response.headers["Cache-Control"] = "no-store"
    return response


async def limit_bearer_guesses() -> tuple[Response, int] | None:
    """The app's ``before_request``: a bearer secret is a guess at the admin secret.

    Right (the admin secret, the metrics token, a chain's live API key, or a balcão's key, which
    the counter page sends for its attendants' names): on to the route.
    Wrong: counted for the client's address (on every instance: `balto.web.guesses.judge`) and
    answered after `balto.web.guesses.FAILURE_DELAY_S` by the route's own 401. An address past
    its budget gets 429 with ``Retry-After``, whatever it sends.
    """
    scheme = request.headers.get("Authorization", "").partition(" ")[0]
    if scheme.lower() != "bearer":
        return None
    services = app_services()
    metrics_token = services.settings.metrics_token
    right = has_bearer(services.admin_secret) or bool(metrics_token and has_bearer(metrics_token))
    right = right or await key_from_bearer(services) is not None
    # a balcão's key, even revoked, is no guess: a stale counter tab must not lock out the
    # admins behind the same address (a pharmacy's NAT)
    right = right or await balcao_from_bearer(services) is not None
    wait = await judge(services.db, request.remote_addr or "?", right)
    if wait:
        response, status = error(429, "rate_limited", TOO_MANY.format(wait))
        response.headers["Retry-After"] = str(wait)
        return response, status
    if not right:
        await trio.sleep(FAILURE_DELAY_S)
    return None
