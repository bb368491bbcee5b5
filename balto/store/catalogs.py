"""Clientes' imported catalogs for the advisor, read on a deadline and cached for outages.

In: a cliente id. Out: its imported `Catalog`, or None (no import, or the database is away and no
copy was read earlier by this process). A session starting during an outage must not wait on the
database: the read is bounded (`READ_TIMEOUT_S`), and on `DatabaseUnavailable` the last copy read
is used, else the default catalog (the advisor's fallback). Raises nothing for an outage.

Sessions pick up a new import at their next utterance: the advisor asks `version` (the import's
time, when the chain's out-of-stock list last changed and the balcão's store: primary-key reads
on a short deadline) before each utterance and reloads when it changed, so an upload or a
product marked missing through any instance reaches every instance's sessions.
"""

from __future__ import annotations

import logging

import trio

from balto.catalog import Catalog
from balto.store.advice import load_cliente_catalog
from balto.store.database import Database, DatabaseUnavailable
from balto.store.em_falta import DEFAULT_HORAS, AdviceVersion, advice_version, missing_at

log = logging.getLogger(__name__)

READ_TIMEOUT_S = 1.0  # a session start waits at most this for its cliente's catalog
# checked before every utterance: an outage must not add more than this to each piece of advice
VERSION_TIMEOUT_S = 0.3
VERSION_BACKOFF_S = 5.0  # after a failed check: the database is away; ask again later


class ClienteCatalogs:
    """The `actors.ports.CatalogSource` of the server: database first, last good copy after."""

    def __init__(self, db: Database, em_falta_horas: float = DEFAULT_HORAS) -> None:
        """Read through `db`; an attendant's out-of-stock mark lasts `em_falta_horas`."""
        self._db = db
        self._horas = em_falta_horas
        # cliente id → the last catalog read (None: it had none). Bounded by the number of
        # clientes with a live session since start; a catalog is a few hundred products.
        self._cache: dict[str, Catalog | None] = {}
        self._quiet_until = float("-inf")  # trio clock; version checks are skipped until then
        # balcão id → the products out of stock there, as last read (bounded like `_cache`)
        self._missing: dict[str | None, frozenset[str]] = {}

    async def cliente_catalog(self, cliente_id: str) -> Catalog | None:
        """The cliente's catalog (module docstring)."""
        try:
            catalog = await self._db.run_within(READ_TIMEOUT_S, load_cliente_catalog, cliente_id)
        except DatabaseUnavailable as exc:
            cached = self._cache.get(cliente_id)
            log.warning(
                "cliente %s catalog unreadable (%s): using %s",
                cliente_id,
                exc,
                "the copy read earlier" if cached is not None else "the default catalog",
            )
            return cached
        self._cache[cliente_id] = catalog
        return catalog

    async def missing(self, cliente_id: str, balcao_id: str | None) -> frozenset[str] | None:
        """Normalized names out of stock at `balcao_id` (None: unreadable, and never read here).

        While a failed version check keeps the database quiet, the last list read is answered
        at once (a session starting in an outage must not wait twice).
        """
        if trio.current_time() >= self._quiet_until:
            try:
                found = await self._db.run_within(
                    READ_TIMEOUT_S, missing_at, cliente_id, balcao_id, self._horas
                )
            except DatabaseUnavailable as exc:
                log.warning("cliente %s out-of-stock list unreadable (%s)", cliente_id, exc)
                self._quiet_until = trio.current_time() + VERSION_BACKOFF_S
            else:
                self._missing[balcao_id] = found
                return found
        return self._missing.get(balcao_id)

    async def version(self, cliente_id: str, balcao_id: str | None = None) -> AdviceVersion | None:
        """What the balcão's advice is made from (None: no such cliente, or unreadable now).

        After a failed read, checks are skipped for `VERSION_BACKOFF_S` so that an outage costs
        each utterance nothing, not `VERSION_TIMEOUT_S`.
        """
        if trio.current_time() < self._quiet_until:
            return None
        try:
            return await self._db.run_within(
                VERSION_TIMEOUT_S, advice_version, cliente_id, balcao_id, self._horas
            )
        except DatabaseUnavailable:
            self._quiet_until = trio.current_time() + VERSION_BACKOFF_S
            return None
