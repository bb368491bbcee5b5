"""How a receiver knows a delivery came from Balto, unchanged and recent.

Each delivery carries ``X-Balto-Assinatura: t=<unix seconds>,v1=<hex>``, where ``v1`` is
HMAC-SHA256 under the webhook's secret of ``"<t>." + body`` (the scheme Stripe's webhooks made
familiar). A receiver recomputes it over the raw body, compares in constant time and refuses a
``t`` older than a few minutes (a replay). `verify` is what a receiver in Python would run.
"""

from __future__ import annotations

import hashlib
import hmac
import time

HEADER = "X-Balto-Assinatura"
TOLERANCE_S = 300


def sign(secret: str, body: bytes, at: int | None = None) -> str:
    """The signature header's value for `body` sent at `at` (now by default)."""
    t = int(time.time()) if at is None else at
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256)
    return f"t={t},v1={mac.hexdigest()}"


def verify(secret: str, body: bytes, header: str, now: float | None = None) -> bool:
    """Whether `header` signs `body` under `secret` within `TOLERANCE_S` of `now`."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        t = int(fields["t"])
    except (KeyError, ValueError):
        return False
    if abs((time.time() if now is None else now) - t) > TOLERANCE_S:
        return False
    expected = sign(secret, body, t).rsplit("v1=", 1)[1]
    return hmac.compare_digest(expected, fields.get("v1", ""))
