"""The counter page (``GET /balcao``): a browser on the counter as a Balto device.

No admin secret: the page links itself with the cliente's 6-digit code (``POST /cadastro/balcao``,
rate-limited like any device), keeps the balcão's key in that browser's storage, and speaks the
device protocol over ``/ws`` (`balto/web/static/balcao.js`): the microphone as WebM/Opus chunks,
the attendant's name, suggestions and alerts shown as they come, the attendant's feedback. The
page itself holds no data, so it is served to anyone, like the sign-in form.

``GET /balcao/atendentes`` with ``Authorization: Bearer <the balcão's API key>`` → 200
``{"nomes": [...], "nome_balcao"}``: the names the attendant signing in chooses from (her store's
attendants and the chain-wide ones, `balto.store.atendentes.names_at_balcao`), and the balcão's
name as the admin app has it now (renamed after linking, the page shows the new one at its next
load or connection); 401 for a missing, unknown or revoked key; 403 ``suspended`` while its
cliente's access is suspended; 503 while the database is away.
"""

from __future__ import annotations

from quart import Blueprint, Response, jsonify, render_template

from balto.store.atendentes import names_at_balcao
from balto.web.auth import SUSPENDED, app_services
from balto.web.errors import error
from balto.web.pages import html_page
from balto.web.principal import balcao_from_bearer

blueprint = Blueprint("counter", __name__, template_folder="templates")


@blueprint.get("/balcao")
async def balcao() -> Response:
    """The counter's screen: link, sign the attendant in, stream, see suggestions and alerts."""
    settings = app_services().settings
    html = await render_template("balcao.html", demo=settings.demo, fuso=settings.timezone)
    return html_page(html)


@blueprint.get("/balcao/atendentes")
async def atendentes() -> Response | tuple[Response, int]:
    """The attendants' names the counter offers at sign-in (module docstring)."""
    services = app_services()
    identity = await balcao_from_bearer(services)
    if identity is None or identity.revoked:
        return error(401, "invalid_key", "chave do balcão ausente, não reconhecida ou revogada")
    if identity.suspended:
        return error(403, "suspended", SUSPENDED)
    nomes = await services.db.run(names_at_balcao, identity.cliente_id, identity.loja_id)
    response = jsonify({"nomes": nomes, "nome_balcao": identity.nome_balcao})
    response.headers["Cache-Control"] = "no-store"
    return response
