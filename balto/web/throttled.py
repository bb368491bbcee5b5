"""Which chains' API keys this process has refused for their budget (`balto.web.key_limit`).

Counted per cliente for ``/metrics`` (``balto_api_key_throttled_total{cliente_id}``: a chain's
system pulling too fast shows there before its people call), and logged at most once a minute
per key, so a system retrying in a loop cannot fill the log.
"""

from __future__ import annotations

import time
from collections import Counter

LOG_EVERY_S = 60.0


class Throttled:
    """Refusals per cliente since the process started, and when each key was last logged."""

    def __init__(self) -> None:
        """Nothing refused yet."""
        self.per_cliente: Counter[str] = Counter()
        self._logged: dict[str, float] = {}

    def note(self, cliente_id: str, chave_id: str) -> bool:
        """Count one refusal; whether it is the key's first in `LOG_EVERY_S` (log it then)."""
        self.per_cliente[cliente_id] += 1
        now = time.monotonic()
        if now - self._logged.get(chave_id, -LOG_EVERY_S) < LOG_EVERY_S:
            return False
        if len(self._logged) > 10_000:  # keys long quiet are forgotten, not kept forever
            self._logged = {k: t for k, t in self._logged.items() if now - t < LOG_EVERY_S}
        self._logged[chave_id] = now
        return True
