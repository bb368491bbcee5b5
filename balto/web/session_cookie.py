"""The admin browser session: a signed cookie that stands for the operator or for one gestor.

In: the admin secret and the request. Out: a token to set as cookie ``balto_admin`` after a
sign-in, and whether a request's cookie is valid. Nothing is stored server-side: the operator's
token is ``v1.<expiry>.<nonce>.<mac>``, a gestor's (a chain's account, `balto.store.gestores`)
``g1.<expiry>.<nonce>.<gestor id>.<password stamp>.<mac>``, where mac = HMAC-SHA256 over the rest
with a key derived from ``ADMIN_SECRET``. So every instance sharing the secret accepts it
(cluster), a changed secret kills every open browser session, and a token cannot be forged or
extended without the secret. A gestor's token is only as good as its account: each request checks
that the account is active and its password stamp unchanged (`balto.web.principal`).

The cookie is ``HttpOnly`` (scripts cannot read it), ``SameSite=Strict`` (browsers never send it
on a cross-site request), ``Secure`` when the request came over HTTPS, ``Path=/`` and without
``Max-Age`` (it ends with the browser session); the token itself expires after `LIFETIME_S`.
A state-changing request authenticated by the cookie must also come from this origin
(`same_origin`): a second line of defence should a browser ignore ``SameSite``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from urllib.parse import urlsplit

from quart import Response, request

COOKIE = "balto_admin"
LIFETIME_S = 12 * 3600  # a working day; the cookie itself also ends with the browser session
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_VERSION = "v1"
_GESTOR = "g1"
_STEP = "s1"  # a sign-in's second step (`make_step_token`): never a session
STEP_LIFETIME_S = 300


def _key(secret: str) -> bytes:
    # a key of its own: a token never reveals anything usable as the bearer secret
    return hmac.new(secret.encode(), b"balto-admin-session-cookie", hashlib.sha256).digest()


def _mac(secret: str, body: str) -> str:
    return hmac.new(_key(secret), body.encode(), hashlib.sha256).hexdigest()


def make_token(secret: str, *, now: float | None = None) -> str:
    """A fresh session token valid for `LIFETIME_S` from `now` (default: the wall clock)."""
    expiry = int((time.time() if now is None else now) + LIFETIME_S)
    body = f"{_VERSION}.{expiry}.{secrets.token_urlsafe(12)}"
    return f"{body}.{_mac(secret, body)}"


def token_valid(secret: str, token: str, *, now: float | None = None) -> bool:
    """True when `token` was made with `secret` and has not expired."""
    parts = token.split(".")
    if len(parts) != 4 or parts[0] != _VERSION or len(token) > 200:
        return False
    body, mac = ".".join(parts[:3]), parts[3]
    if not hmac.compare_digest(mac.encode(), _mac(secret, body).encode()):
        return False
    try:
        expiry = int(parts[1])
    except ValueError:
        return False
    return expiry > (time.time() if now is None else now)


def make_gestor_token(secret: str, gestor_id: str, stamp: int, *, now: float | None = None) -> str:
    """A gestor's session token, tied to the account's password `stamp` (microseconds)."""
    return _account_token(secret, _GESTOR, LIFETIME_S, gestor_id, stamp, now)


def gestor_of(secret: str, token: str, *, now: float | None = None) -> tuple[str, int] | None:
    """(gestor id, password stamp) of a valid, unexpired gestor token; None otherwise."""
    return _account_of(secret, _GESTOR, token, now)


def make_step_token(secret: str, gestor_id: str, stamp: int, *, now: float | None = None) -> str:
    """Proof that a gestor gave the right password, for the sign-in's second step only.

    It lasts `STEP_LIFETIME_S` and is of another kind than a session token, so it never opens a
    page; the form carries it to the step that asks for the authenticator's code.
    """
    return _account_token(secret, _STEP, STEP_LIFETIME_S, gestor_id, stamp, now)


def step_of(secret: str, token: str, *, now: float | None = None) -> tuple[str, int] | None:
    """(gestor id, password stamp) of a valid, unexpired second-step token; None otherwise."""
    return _account_of(secret, _STEP, token, now)


def _account_token(
    secret: str, kind: str, lifetime_s: int, gestor_id: str, stamp: int, now: float | None
) -> str:
    expiry = int((time.time() if now is None else now) + lifetime_s)
    body = f"{kind}.{expiry}.{secrets.token_urlsafe(12)}.{gestor_id}.{stamp}"
    return f"{body}.{_mac(secret, body)}"


def _account_of(secret: str, kind: str, token: str, now: float | None) -> tuple[str, int] | None:
    parts = token.split(".")
    if len(parts) != 6 or parts[0] != kind or len(token) > 300:
        return None
    body, mac = ".".join(parts[:5]), parts[5]
    if not hmac.compare_digest(mac.encode(), _mac(secret, body).encode()):
        return None
    try:
        expiry, stamp = int(parts[1]), int(parts[4])
    except ValueError:
        return None
    if expiry <= (time.time() if now is None else now):
        return None
    return parts[3], stamp


def has_cookie(secret: str) -> bool:
    """True when the request carries a valid operator session cookie (whatever its method)."""
    token = request.cookies.get(COOKIE)
    return token is not None and token_valid(secret, token)


def gestor_cookie(secret: str) -> tuple[str, int] | None:
    """(gestor id, password stamp) of the request's gestor session cookie, if it has a valid one."""
    token = request.cookies.get(COOKIE)
    return None if token is None else gestor_of(secret, token)


def same_origin() -> bool:
    """True when the browser says the request comes from a page of this server.

    ``Origin`` (sent by browsers on every POST, PUT, DELETE and fetch) must name this host;
    without it, ``Sec-Fetch-Site: same-origin`` is accepted. Anything else is refused, so a
    request forged from another site cannot act with the cookie.
    """
    origin = request.headers.get("Origin")
    host = request.headers.get("Host", "")
    if origin:
        return origin != "null" and urlsplit(origin).netloc.lower() == host.lower()
    return request.headers.get("Sec-Fetch-Site") == "same-origin"


def cookie_allows() -> bool:
    """Whether the cookie may authenticate this request: safe methods, or same origin."""
    return request.method in SAFE_METHODS or same_origin()


def set_cookie(response: Response, token: str) -> None:
    """Attach the session cookie to `response` (attributes in the module docstring)."""
    response.set_cookie(
        COOKIE,
        token,
        httponly=True,
        samesite="Strict",
        secure=request.scheme == "https",
        path="/",
    )


def clear_cookie(response: Response) -> None:
    """Make the browser drop the session cookie."""
    response.delete_cookie(
        COOKIE, path="/", httponly=True, samesite="Strict", secure=request.scheme == "https"
    )
