"""How a receiver knows a delivery came from Balto, unchanged and recent.

Each delivery carries ``X-Balto-Assinatura: t=<unix seconds>,v1=<hex>``, where ``v1`` is
HMAC-SHA256 under the webhook's secret of ``"<t>." + body`` (the scheme Stripe's webhooks made
familiar). While a secret is being replaced the header carries one ``v1`` per secret (the new
one first), so the chain's system may switch over at any moment in between. A receiver
recomputes it over the raw body with the secret it holds, accepts any ``v1`` that matches
(compared in constant time) and refuses a ``t`` more than a few minutes away (a replay).
`verify` is what a receiver in Python would run.
"""

from __future__ import annotations

import hashlib
import hmac
import time

HEADER = "X-Balto-Assinatura"
TOLERANCE_S = 300


def _mac(secret: str, t: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()


def sign(secrets: list[str], body: bytes, at: int | None = None) -> str:
    """The signature header's value for `body` sent at `at` (now by default): a v1 per secret."""
    t = int(time.time()) if at is None else at
    return ",".join([f"t={t}", *(f"v1={_mac(secret, t, body)}" for secret in secrets)])


def verify(secret: str, body: bytes, header: str, now: float | None = None) -> bool:
    """Whether `header` signs `body` under `secret` within `TOLERANCE_S` of `now`."""
    pairs = [part.split("=", 1) for part in header.split(",") if "=" in part]
    stamps = [value for key, value in pairs if key == "t"]
    try:
        t = int(stamps[0])
    except (IndexError, ValueError):
        return False
    if abs((time.time() if now is None else now) - t) > TOLERANCE_S:
        return False
    expected = _mac(secret, t, body)
    # every v1 compared, so the time taken says nothing of which matched
    found = [hmac.compare_digest(expected, value) for key, value in pairs if key == "v1"]
    return any(found)
