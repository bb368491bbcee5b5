"""API keys recently confirmed by the database, for handshakes while the database is away.

In: a key and the identity the database confirmed for it (`remember`), or a key to forget
(revoked or unknown). Out: the identity of a key confirmed less than ``BALTO_KEY_CACHE_S`` ago
(default 24 h), or None. Only the key's SHA-256 is kept, never the key. A cliente suspended
forgets its keys on every instance (`forget_cliente`), so an outage right after cannot let its
counters back in from here. A session accepted from
the cache is checked again as soon as the database answers, and closed if its key was revoked
meanwhile (`balto.web.device_socket`).
"""

from __future__ import annotations

import time
from collections import OrderedDict

from balto.store.cadastro import BalcaoIdentity, hash_api_key

DEFAULT_TTL_S = (
    24 * 3600.0
)  # a counter that worked yesterday keeps working through a night's outage
MAX_KEYS = 100_000  # far above any fleet; past it the least recently confirmed key is forgotten


class KeyCache:
    """Identities of recently confirmed keys, by the key's hash (module docstring)."""

    def __init__(self, ttl_s: float = DEFAULT_TTL_S) -> None:
        """Keep a confirmation for `ttl_s` seconds (0 disables the cache)."""
        self.ttl_s = ttl_s
        self._entries: OrderedDict[bytes, tuple[BalcaoIdentity, float]] = OrderedDict()

    def remember(self, api_key: str, identity: BalcaoIdentity | None) -> None:
        """Record what the database said of `api_key` (None, revoked or suspended: forget it)."""
        digest = hash_api_key(api_key)
        self._entries.pop(digest, None)
        if identity is None or identity.revoked or identity.suspended or self.ttl_s <= 0:
            return
        self._entries[digest] = (identity, time.monotonic())
        while len(self._entries) > MAX_KEYS:
            self._entries.popitem(last=False)

    def forget_cliente(self, cliente_id: str) -> int:
        """Forget every key of `cliente_id` (its access was suspended); how many were known."""
        gone = [
            d for d, (identity, _) in self._entries.items() if identity.cliente_id == cliente_id
        ]
        for digest in gone:
            del self._entries[digest]
        return len(gone)

    def lookup(self, api_key: str) -> BalcaoIdentity | None:
        """The identity of `api_key` if it was confirmed within the TTL."""
        entry = self._entries.get(hash_api_key(api_key))
        if entry is None or time.monotonic() - entry[1] > self.ttl_s:
            return None
        return entry[0]
