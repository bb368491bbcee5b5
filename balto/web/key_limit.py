"""A chain's API key held to its budget of work per minute (`balto.store.key_budget`).

Most routes cost one unit; `costs` marks the heavy ones dearer (the Excel report reads a whole
period). Over budget → 429 ``rate_limited`` with ``Retry-After``; every answer to a key carries
``RateLimit-Limit`` and ``RateLimit-Remaining`` (the IETF draft's names), so a chain's system can
pace itself. ``BALTO_API_KEY_BUDGET`` sets the budget (0: none). Refusals are counted and logged
(`balto.web.throttled`). Gestores in a browser and the
operator are not limited: their pages ask at a human pace.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from quart import Response, current_app, g, request

from balto.services import Services
from balto.store.key_budget import spend
from balto.web.errors import error

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])
_COST = "_balto_cost"
OVER = "limite de uso desta chave de API excedido ({} por minuto); tente de novo em {} s"


def costs(units: int) -> Callable[[F], F]:
    """Mark a route as costing `units` of a key's budget (the default is one)."""

    def mark(view: F) -> F:
        setattr(view, _COST, units)
        return view

    return mark


def route_cost() -> int:
    """What the route being served costs a key."""
    view = current_app.view_functions.get(request.endpoint or "")
    return int(getattr(view, _COST, 1))


async def within_budget(
    services: Services, chave_id: str, cliente_id: str
) -> tuple[Response, int] | None:
    """Spend the route's cost of the key's budget; the 429 to answer when it is spent."""
    budget = services.settings.api_key_budget
    if budget <= 0:
        return None
    spent = await services.db.run(spend, chave_id, route_cost(), budget)
    g.balto_budget = (budget, spent.remaining)
    if spent.allowed:
        return None
    if services.throttled.note(cliente_id, chave_id):
        log.warning(
            "API key %s of cliente %s over its budget (%d a minute): refused for %d s",
            chave_id,
            cliente_id,
            budget,
            spent.retry_after_s,
        )
    response, status = error(429, "rate_limited", OVER.format(budget, spent.retry_after_s))
    response.headers["Retry-After"] = str(spent.retry_after_s)
    return response, status


def budget_headers(response: Response) -> Response:
    """The app's ``after_request``: a key's answer says what is left of its budget."""
    found: tuple[int, int] | None = g.get("balto_budget")
    if found is not None:
        response.headers["RateLimit-Limit"] = str(found[0])
        response.headers["RateLimit-Remaining"] = str(found[1])
    return response
