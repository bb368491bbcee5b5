"""The sign-in page as answered: the password's form, the second step's, or the setup of it."""

from __future__ import annotations

from quart import Response, render_template

from balto.totp import Enrollment
from balto.web.auth import PAGE_CSP, app_services

MAX_EMAIL = 254


async def page(
    status: int,
    proximo: str,
    erro: str | None = None,
    email: str = "",
    *,
    etapa: str = "",
    configurar: Enrollment | None = None,
    codigos: list[str] | None = None,
) -> Response:
    """The sign-in page: the password's form, or one of the second step's.

    With `etapa`, the code's form (with `configurar`, the authenticator's setup first); with
    `codigos`, the recovery codes of a setup just done.
    """
    demo = app_services().settings.demo
    html = await render_template(
        "entrar.html",
        proximo=proximo,
        erro=erro,
        demo=demo,
        email=email[:MAX_EMAIL],
        etapa=etapa,
        configurar=configurar,
        codigos=codigos,
    )
    response = Response(html, status=status, content_type="text/html; charset=utf-8")
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = PAGE_CSP
    response.headers["X-Frame-Options"] = "DENY"  # no clickjacking of the secret's form
    return response


async def too_many(
    proximo: str,
    wait: int,
    *,
    email: str = "",
    etapa: str = "",
    configurar: Enrollment | None = None,
) -> Response:
    """429 with ``Retry-After``: too many wrong secrets, passwords or codes."""
    wrong = f"Muitas tentativas erradas. Tente de novo em {wait} segundos."
    response = await page(429, proximo, wrong, email, etapa=etapa)
    response.headers["Retry-After"] = str(wait)
    return response
