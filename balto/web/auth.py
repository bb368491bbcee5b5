"""Bearer-token checks, compared in constant time.

``Authorization: Bearer <ADMIN_SECRET>`` opens every admin route. ``BALTO_METRICS_TOKEN``, when
set, opens ``GET /metrics`` only: every admin route compares against the admin secret alone, so
the metrics token is refused there like any other wrong secret.
"""

from __future__ import annotations

import hmac

from quart import Response, current_app, request

from balto.services import Services
from balto.web.errors import error

UNAUTHORIZED = "Authorization: Bearer <ADMIN_SECRET> ausente ou inválido"


def has_bearer(secret: str) -> bool:
    """True when the request carries ``Authorization: Bearer <secret>``."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return False
    return hmac.compare_digest(token.strip().encode(), secret.encode())


def is_admin(secret: str) -> bool:
    """True when the request carries the admin bearer secret."""
    return has_bearer(secret)


def app_services() -> Services:
    """The process's services, as the app holds them (routes reach them here, not globally)."""
    services: Services = current_app.config["BALTO_SERVICES"]
    return services


async def require_admin() -> tuple[Response, int] | None:
    """A blueprint's ``before_request``: refuse anyone without the admin secret (401)."""
    if not is_admin(app_services().admin_secret):
        return error(401, "unauthorized", UNAUTHORIZED)
    return None
