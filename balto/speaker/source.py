"""A cliente's enrolled voices for the sessions, re-read whenever they change, cluster-wide.

In: a cliente id, once per segment. Out: its `Enrolled` voices (empty: nobody enrolled). Each call
reads the cliente's voiceprint epoch (one indexed integer, bumped by a trigger on every change,
`balto.store.voiceprints`) and reloads the voiceprints only when it moved, so a voiceprint erased
on any instance stops being used at the next segment of every session. Bounded: a read waits at
most `READ_TIMEOUT_S`; while the database is away (or known to be) the voices read last are used,
without asking it. Raises nothing for an outage.
"""

from __future__ import annotations

import logging

from balto.speaker.identify import Enrolled
from balto.speaker.voiceprint import MODEL, Scorer, Voiceprint
from balto.store.database import Database, DatabaseUnavailable
from balto.store.voiceprints import load_voiceprints, voiceprint_epoch

log = logging.getLogger(__name__)

READ_TIMEOUT_S = 0.5  # identification is worth less than a timely transcript


class ClienteVoices:
    """The `actors.ports.VoiceSource` of the server (module docstring)."""

    def __init__(self, db: Database) -> None:
        """Read through `db`."""
        self._db = db
        # cliente id → (epoch, voices); bounded by the clientes with a live session since start.
        self._cache: dict[str, tuple[int, tuple[Enrolled, ...]]] = {}

    async def enrolled(self, cliente_id: str) -> tuple[Enrolled, ...]:
        """The cliente's enrolled voices now (module docstring)."""
        cached = self._cache.get(cliente_id)
        if self._db.away:  # known away: add no waiting thread to the pool's queue per segment
            return () if cached is None else cached[1]
        try:
            epoch = await self._db.run_within(READ_TIMEOUT_S, voiceprint_epoch, cliente_id)
            if cached is not None and cached[0] == epoch:
                return cached[1]
            epoch, rows = await self._db.run_within(READ_TIMEOUT_S, load_voiceprints, cliente_id)
        except DatabaseUnavailable as exc:
            log.warning(
                "cliente %s voiceprints unreadable (%s): using the last read", cliente_id, exc
            )
            return () if cached is None else cached[1]
        voices = []
        for row in rows:
            if row.model != MODEL:
                continue  # made by another embedding: not comparable
            try:
                voices.append(
                    Enrolled(row.atendente_id, row.nome, Scorer.of(Voiceprint.from_bytes(row.data)))
                )
            except ValueError:
                log.error("attendant %s has an unreadable voiceprint; ignored", row.atendente_id)
        self._cache[cliente_id] = (epoch, tuple(voices))
        return tuple(voices)
