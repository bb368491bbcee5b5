"""A cliente's enrolled voices for the sessions, re-read whenever they change, cluster-wide.

In: a cliente id and the balcão, once per segment. Out: the `Enrolled` voices a segment is
scored against (empty: nobody enrolled): at a store's balcão, that store's attendants and the
chain-wide ones (an attendant of another store is not there to be named); at a balcão of no
store, all of the chain's. The balcão's store is where it stands now, read with the voiceprints.
Each call reads the cliente's voiceprint epoch (one indexed integer, bumped by a trigger on
every change of a voiceprint, of an attendant's store or of a balcão's, `balto.store.voiceprints`)
and reloads only when it moved, so a voiceprint erased or a balcão moved on any instance is
followed from the next segment of every session. Bounded: a read waits at
most `READ_TIMEOUT_S`; while the database is away (or known to be) the voices read last are used,
without asking it. Raises nothing for an outage.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from balto.speaker.identify import Enrolled
from balto.speaker.voiceprint import MODEL, Scorer, Voiceprint
from balto.store.database import Database, DatabaseUnavailable
from balto.store.voiceprints import load_voiceprints, voiceprint_epoch

log = logging.getLogger(__name__)

READ_TIMEOUT_S = 0.5  # identification is worth less than a timely transcript


@dataclass(slots=True)
class _Read:
    """A cliente's voices as read at one epoch, with each store's view of them made once."""

    epoch: int
    voices: tuple[tuple[str | None, Enrolled], ...]  # (the attendant's store, her voice)
    stores: dict[str, str | None]  # balcão → its store
    views: dict[str | None, tuple[Enrolled, ...]] = field(default_factory=dict)

    def at(self, balcao_id: str | None) -> tuple[Enrolled, ...]:
        """The voices that may speak at `balcao_id` (unknown or None: the whole chain's)."""
        return self.of_store(None if balcao_id is None else self.stores.get(balcao_id))

    def of_store(self, loja_id: str | None) -> tuple[Enrolled, ...]:
        """The voices that may speak at a balcão of `loja_id` (None: a balcão of no store)."""
        view = self.views.get(loja_id)
        if view is None:
            view = self.views[loja_id] = tuple(
                v for loja, v in self.voices if loja_id is None or loja is None or loja == loja_id
            )
        return view


class ClienteVoices:
    """The `actors.ports.VoiceSource` of the server (module docstring)."""

    def __init__(self, db: Database) -> None:
        """Read through `db`."""
        self._db = db
        # cliente id → its last read; bounded by the clientes with a live session since start.
        self._cache: dict[str, _Read] = {}

    async def enrolled(self, cliente_id: str, balcao_id: str | None = None) -> tuple[Enrolled, ...]:
        """The voices a segment at `balcao_id` is scored against (module docstring)."""
        read = await self._read(cliente_id)
        return () if read is None else read.at(balcao_id)

    async def _read(self, cliente_id: str) -> _Read | None:
        cached = self._cache.get(cliente_id)
        if self._db.away:  # known away: add no waiting thread to the pool's queue per segment
            return cached
        try:
            epoch = await self._db.run_within(READ_TIMEOUT_S, voiceprint_epoch, cliente_id)
            if cached is not None and cached.epoch == epoch:
                return cached
            loaded = await self._db.run_within(READ_TIMEOUT_S, load_voiceprints, cliente_id)
        except DatabaseUnavailable as exc:
            log.warning(
                "cliente %s voiceprints unreadable (%s): using the last read", cliente_id, exc
            )
            return cached
        voices: list[tuple[str | None, Enrolled]] = []
        for row in loaded.voiceprints:
            if row.model != MODEL:
                continue  # made by another embedding: not comparable
            try:
                scorer = Scorer.of(Voiceprint.from_bytes(row.data))
            except ValueError:
                log.error("attendant %s has an unreadable voiceprint; ignored", row.atendente_id)
                continue
            voices.append((row.loja_id, Enrolled(row.atendente_id, row.nome, scorer)))
        read = self._cache[cliente_id] = _Read(loaded.epoch, tuple(voices), loaded.stores)
        return read
