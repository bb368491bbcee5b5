"""Admin authentication: ``Authorization: Bearer <ADMIN_SECRET>``, compared in constant time."""

from __future__ import annotations

import hmac

from quart import request


def is_admin(secret: str) -> bool:
    """True when the request carries the admin bearer secret."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return False
    return hmac.compare_digest(token.strip().encode(), secret.encode())
