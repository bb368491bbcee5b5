"""The admin app's pages: Ao vivo, Histórico (and one conversation), Painel, Cadastro, Auditoria.

Server-rendered Jinja shells (`balto/web/templates/`) whose scripts (`balto/web/static/`, served
at ``/static/``) read the JSON routes and keep their filters in the URL, so a view can be
bookmarked. A browser without a session is sent to ``/entrar`` (303) and comes back after. A
gestor (a chain's account) sees Ao vivo, Histórico, Painel and Cadastro over its own cliente only
(the data routes scope it); the operator's pages send it to Ao vivo.
Every page names the configured time zone, and shows a "Dados de demonstração" banner when
``BALTO_DEMO`` is set. Names from devices and clientes are rendered as text, never as HTML, and
the Content-Security-Policy allows scripts from this server only.
"""

from __future__ import annotations

from typing import Any

from quart import Blueprint, Response, render_template

from balto.web.auth import PAGE_CSP, app_services, redirect_to, require_page
from balto.web.principal import for_gestores, for_lojas, principal

blueprint = Blueprint("pages", __name__, template_folder="templates")
blueprint.before_request(require_page)
# scripts, styles and the vendored chart library hold no data: served without a session, so the
# sign-in form has its style too
assets = Blueprint("assets", __name__, static_folder="static", static_url_path="/static")

HOME = "/admin/ao-vivo"
TABS = (
    ("ao-vivo", "Ao vivo", "/admin/ao-vivo"),
    ("historico", "Histórico", "/admin/historico"),
    ("painel", "Painel", "/admin/painel"),
    ("cadastro", "Cadastro", "/admin/cadastro"),
    ("auditoria", "Auditoria", "/admin/auditoria"),
    ("operacao", "Operação", "/admin"),
)
GESTOR_TABS = ("ao-vivo", "historico", "painel", "cadastro")  # a chain's account sees these


async def _page(template: str, tab: str, **extra: Any) -> Response:
    settings = app_services().settings
    who = principal()
    # a chain's gestor also reads its chain's audit; a store's gestor does not
    shown = GESTOR_TABS if who.loja_id is not None else (*GESTOR_TABS, "auditoria")
    tabs = TABS if who.is_operator else tuple(t for t in TABS if t[0] in shown)
    html = await render_template(
        template,
        tabs=tabs,
        ativo=tab,
        quem=who,
        demo=settings.demo,
        fuso=settings.timezone,
        brl_por_usd=settings.brl_per_usd,
        **extra,
    )
    return html_page(html)


def html_page(html: str) -> Response:
    """A page with the app's headers: no caching, scripts from this server only, no framing."""
    response = Response(html, content_type="text/html; charset=utf-8")
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = PAGE_CSP
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    # Cadastro records an attendant's voice and the counter page streams the counter's: this
    # origin's pages may open the microphone, nothing else may use a device
    response.headers["Permissions-Policy"] = "microphone=(self), camera=(), geolocation=()"
    return response


@blueprint.get("/admin/ao-vivo")
@for_lojas
async def ao_vivo() -> Response:
    """Live sessions: transcripts, suggestions, alerts, feedback, operator details."""
    return await _page("ao_vivo.html", "ao-vivo")


@blueprint.get("/admin/historico")
@for_lojas
async def historico() -> Response:
    """Past conversations and alerts, filtered and paged; the Excel report button."""
    return await _page("historico.html", "historico")


@blueprint.get("/admin/historico/<session_id>")
@for_lojas
async def conversa(session_id: str) -> Response:
    """One past conversation in full."""
    return await _page("conversa.html", "historico", session_id=session_id)


@blueprint.get("/admin/painel")
@for_lojas
async def painel() -> Response:
    """Charts over days or weeks, per balcão and per cliente; top products."""
    return await _page("painel.html", "painel")


@blueprint.get("/admin/cadastro")
@for_lojas
async def cadastro() -> Response:
    """Clientes, balcões, attendants and the cliente's catalog."""
    return await _page("cadastro.html", "cadastro")


@blueprint.get("/admin/auditoria")
@for_gestores
async def auditoria() -> Response:
    """The admin audit log: who did what, when, from where."""
    return await _page("auditoria.html", "auditoria")


root = Blueprint("root", __name__)


@root.get("/")
async def home() -> Response:
    """The server's root sends a browser to the admin app."""
    return redirect_to(HOME)
