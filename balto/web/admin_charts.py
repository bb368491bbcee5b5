"""The Painel's data: figures per day or week, per balcão, per cliente, and top products.

``GET /admin/painel/dados`` (admin), filters ``cliente_id``, ``balcao_id``, ``desde``, ``ate``
(default: the last 30 days) and ``grao`` = ``dia`` | ``semana`` → ``{"fuso", "grao",
"brl_por_usd", "series": [{"periodo", "sessoes", "recomendacoes", "aceitas", "com_feedback",
"alertas", "custo_usd", "custo_brl"}], "por_balcao": [...], "por_loja": [...], "por_cliente": [...],
"por_atendente": [{"cliente_id", "razao_social", "atendente", "recomendacoes", "aceitas",
"com_feedback", "alertas", "orientadas"}] (``orientadas``: alerts whose guidance the counter said
was given),
"produtos": [{"produto", "vezes", "aceitas", "com_feedback"}]}``. Periods are cut in
``BALTO_TIMEZONE``; BRL is USD times ``BALTO_BRL_PER_USD``. A gestor's figures are its own
cliente's (`balto.web.params.filters_arg`).
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

from quart import Blueprint, Response, jsonify, request

from balto.store import charts
from balto.web.auth import app_services, require_admin
from balto.web.errors import FieldError
from balto.web.params import filters_arg, jsonable
from balto.web.principal import for_lojas

blueprint = Blueprint("admin_charts", __name__)
blueprint.before_request(require_admin)

DEFAULT_DAYS = 30
_GRAINS = {"dia": "day", "semana": "week"}


def _read(conn: Any, filters: Any, grain: str, zone: str) -> dict[str, Any]:
    return {
        **charts.summaries(conn, filters, grain, zone),
        "por_atendente": charts.per_atendente(conn, filters),
        "produtos": charts.top_products(conn, filters),
    }


@blueprint.get("/admin/painel/dados")
@for_lojas
async def chart_data() -> Response:
    """Aggregates for the charts (module docstring)."""
    services = app_services()
    grao = request.args.get("grao") or "dia"
    if grao not in _GRAINS:
        raise FieldError("grao", "grao deve ser dia ou semana")
    filters = filters_arg()
    if filters.desde is None and filters.ate is None:
        filters = dataclasses.replace(
            filters, desde=datetime.now(UTC) - timedelta(days=DEFAULT_DAYS)
        )
    zone = services.settings.timezone
    rate = services.settings.brl_per_usd
    data = await services.db.run(_read, filters, _GRAINS[grao], zone)
    body: dict[str, Any] = {
        "fuso": zone,
        "grao": grao,
        "brl_por_usd": rate,
        "demo": services.settings.demo,
    }
    for name, rows in data.items():
        items = [jsonable(row) for row in rows]
        for item in items:
            if "custo_usd" in item:
                item["custo_usd"] = round(item["custo_usd"] or 0.0, 6)
                item["custo_brl"] = round(item["custo_usd"] * rate, 6)
        body[name] = items
    return jsonify(body)
