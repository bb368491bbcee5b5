"""The live dashboard: ``GET /admin`` (the page) and ``GET /admin/totals`` (the day's totals).

The page is a static shell with no data in it. A browser signed in to the admin app (session
cookie) is served it at once and its requests go with the cookie; otherwise, since a browser
cannot send a bearer header when it navigates, the page asks for the admin secret (or reads it
from the URL fragment ``#<secret>``, which never reaches the server), keeps it in
``sessionStorage``, reads the live sessions from the server-sent events of
``/admin/sessions/stream`` (one snapshot a second, read with ``fetch`` because ``EventSource``
cannot send the bearer header), polls ``/admin/totals`` every 5 s, and
calls the restart/disconnect actions. ``/admin/totals`` (admin) answers sessions,
recommendations, acceptance rate and cost of the day in ``tz`` (default ``America/Sao_Paulo``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from quart import Blueprint, Response, current_app, jsonify, request

from balto.services import Services
from balto.store import charts
from balto.store.history import Filters
from balto.web.auth import is_admin
from balto.web.dashboard_page import PAGE
from balto.web.errors import FieldError, error
from balto.web.params import jsonable

blueprint = Blueprint("dashboard", __name__)

DEMO_BANNER = "Dados de demonstração: nada aqui veio de um balcão real."
_UNAUTHORIZED = "Authorization: Bearer <ADMIN_SECRET> ausente ou inválido"


@blueprint.get("/admin")
async def page() -> Response | tuple[Response, int]:
    """The dashboard page (Portuguese, vanilla JS, no data until the secret is given).

    Like every admin route it refuses a request without the secret (401), but a browser that
    asks for HTML gets the page as the body of that 401: it holds no data, only the form that
    takes the secret, and a browser cannot send a bearer header when it navigates.
    """
    services: Services = current_app.config["BALTO_SERVICES"]
    allowed = is_admin(services.admin_secret)
    if not allowed and "text/html" not in request.headers.get("Accept", ""):
        return error(401, "unauthorized", _UNAUTHORIZED)
    page = PAGE
    if services.settings.demo:
        page = page.replace("<!--DEMO-->", f'<div class="demo" role="status">{DEMO_BANNER}</div>')
    response = Response(
        page, status=200 if allowed else 401, content_type="text/html; charset=utf-8"
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline';"
        " connect-src 'self'; img-src 'self'"
    )
    response.headers["X-Frame-Options"] = "DENY"
    if not allowed:
        response.headers["WWW-Authenticate"] = 'Bearer realm="balto-admin"'
    return response


@blueprint.get("/admin/totals")
async def totals() -> tuple[Response, int]:
    """The day's totals: sessions, recommendations, acceptance rate, cost (USD)."""
    services: Services = current_app.config["BALTO_SERVICES"]
    if not is_admin(services.admin_secret):
        return error(401, "unauthorized", _UNAUTHORIZED)
    try:
        zone = ZoneInfo(request.args.get("tz") or "America/Sao_Paulo")
    except (ZoneInfoNotFoundError, ValueError):
        raise FieldError("tz", "tz deve ser um fuso IANA, ex.: America/Sao_Paulo") from None
    start = datetime.now(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    day = Filters(desde=start, ate=start + timedelta(days=1))
    row = await services.db.run(charts.totals, day, str(zone))
    return jsonify({"dia": start.date().isoformat(), "fuso": str(zone), **jsonable(row)}), 200
