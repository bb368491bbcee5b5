"""The counter page (``GET /balcao``): a browser on the counter as a Balto device.

No admin secret: the page links itself with the cliente's 6-digit code (``POST /cadastro/balcao``,
rate-limited like any device), keeps the balcão's key in that browser's storage, and speaks the
device protocol over ``/ws`` (`balto/web/static/balcao.js`): the microphone as WebM/Opus chunks,
the attendant's name, suggestions and alerts shown as they come, the attendant's feedback. The
page itself holds no data, so it is served to anyone, like the sign-in form.
"""

from __future__ import annotations

from quart import Blueprint, Response, render_template

from balto.web.auth import app_services
from balto.web.pages import html_page

blueprint = Blueprint("counter", __name__, template_folder="templates")


@blueprint.get("/balcao")
async def balcao() -> Response:
    """The counter's screen: link, sign the attendant in, stream, see suggestions and alerts."""
    settings = app_services().settings
    html = await render_template("balcao.html", demo=settings.demo, fuso=settings.timezone)
    return html_page(html)
