"""Bearer-token checks, compared in constant time.

``Authorization: Bearer <ADMIN_SECRET>`` opens every admin route. ``BALTO_METRICS_TOKEN``, when
set, opens ``GET /metrics`` only: every admin route compares against the admin secret alone, so
the metrics token is refused there like any other wrong secret.
"""

from __future__ import annotations

import hmac

from quart import request


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
