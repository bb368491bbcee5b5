"""The registry of live sessions: one per balcão, listed and snapshotted for admins.

A second connection with the same key replaces the first: the old session is asked to close with
`CloseCode.REPLACED` and the new one registers at once (the old one unregisters itself later
without disturbing its successor).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import trio

from balto.close_codes import CloseCode
from supervisors.batches import in_batches
from supervisors.session import Session


def _still_connected() -> bool:
    return False


@dataclass(slots=True)
class LiveSession:
    """A session as the registry holds it: the session plus a way to ask its handler to close.

    `device_left` says whether the device has already gone: the session is then draining what it
    sent (its last utterances being transcribed, advised, stored) and there is no socket to close.
    """

    session: Session
    cancel_scope: trio.CancelScope = field(default_factory=trio.CancelScope)
    close_code: CloseCode | None = None
    close_reason: str | None = None
    device_left: Callable[[], bool] = _still_connected

    def request_close(self, code: CloseCode, reason: str, *, even_draining: bool = False) -> bool:
        """Ask the handler to stop the pipeline and close the socket with `code`; True if asked.

        A session whose device already left is left to drain (False), unless `even_draining`
        (server shutdown, an operator's disconnect): a revoked key or a new connection of the same
        balcão has no socket to close there, and cutting the drain would lose the last utterances
        and record the close as theirs rather than the device's.
        """
        if self.device_left() and not even_draining:
            return False
        if self.close_code is None:
            self.close_code, self.close_reason = code, reason
        self.cancel_scope.cancel()
        return True


class Registry:
    """Live sessions by balcão id."""

    def __init__(self) -> None:
        """Start empty."""
        self._live: dict[str, LiveSession] = {}

    def register(self, live: LiveSession) -> LiveSession | None:
        """Make `live` the balcão's session; the one it replaces (if any) is asked to close."""
        balcao = live.session.info.balcao_id
        previous = self._live.get(balcao)
        self._live[balcao] = live
        if previous is not None:
            previous.request_close(CloseCode.REPLACED, CloseCode.REPLACED.reason)
        return previous

    def unregister(self, live: LiveSession) -> None:
        """Forget `live`, unless a newer session already replaced it."""
        balcao = live.session.info.balcao_id
        if self._live.get(balcao) is live:
            del self._live[balcao]

    def get(self, balcao_id: str) -> LiveSession | None:
        """The balcão's live session, if any."""
        return self._live.get(balcao_id)

    def all(self) -> list[LiveSession]:
        """Every live session."""
        return list(self._live.values())

    async def snapshots(self) -> list[tuple[LiveSession, dict[str, Any]]]:
        """Every live session with its snapshot, a few at a time between checkpoints.

        Hundreds of sessions then never hold the Trio thread in one block. A session that ended
        meanwhile is left out.
        """
        taken = await in_batches(self.all(), lambda live: (live, live.session.snapshot()))
        return [
            (live, snap) for live, snap in taken if self.get(live.session.info.balcao_id) is live
        ]

    def close_cliente(self, cliente_id: str, code: CloseCode) -> int:
        """Ask every live session of `cliente_id` to close with `code`; how many were asked.

        A session whose device already left finishes its drain (`LiveSession.request_close`).
        """
        lives = [live for live in self._live.values() if live.session.info.cliente_id == cliente_id]
        return sum(live.request_close(code, code.reason) for live in lives)

    def close_all(self, code: CloseCode, reason: str) -> None:
        """Ask every live session to close (server shutdown)."""
        for live in list(self._live.values()):
            live.request_close(code, reason, even_draining=True)
