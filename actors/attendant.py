"""The attendant signed in at the balcão, as the device declares it.

In: ``{"comando": "atendente", "nome": "Ana"}`` (``"nome": null`` signs out), decoded by the
receiver. Out: the session's `Attendant` cell, which the advisor reads for every recommendation and
alert, and ``sessions.atendente`` in the database. Each declaration is kept with the time on the
session's audio clock when it came, and an utterance is credited to whoever was declared when it
began: its advice may come seconds later (an LLM's answer, a backlog), after the next attendant
signed in. Raises nothing for bad input: a name that is not a string of 1–80 characters, or null,
is logged and ignored.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from actors.context import ActorContext
from actors.ports import Recorder
from balto.store.advice import set_session_attendant

MAX_NAME_CHARS = 80  # a person's name; more is not a name and would not fit the screen
KEPT = 64  # declarations remembered: far more than a backlog of utterances can span


@dataclass(slots=True)
class Attendant:
    """Who is at the counter now (None: nobody declared), and who was when. Owned by the session.

    The receiver's command handler writes it and the advisor reads it; both run on the Trio
    thread, so plain attributes are enough.
    """

    nome: str | None = None
    # (audio clock in seconds when declared, name), oldest first
    declared: deque[tuple[float, str | None]] = field(default_factory=lambda: deque(maxlen=KEPT))
    _before: str | None = None  # the name before the oldest declaration kept

    def declare(self, nome: str | None, audio_s: float) -> None:
        """`nome` is at the counter from `audio_s` on the session's audio clock."""
        if len(self.declared) == KEPT:
            self._before = self.declared[0][1]
        self.declared.append((audio_s, nome))
        self.nome = nome

    def at(self, audio_s: float) -> str | None:
        """Who was declared at `audio_s` on the audio clock (the cell's name if never declared)."""
        if not self.declared:
            return self.nome
        found = self._before
        for since, nome in self.declared:
            if since > audio_s:
                break
            found = nome
        return found


async def declare_attendant(
    command: dict[str, object], attendant: Attendant, ctx: ActorContext, recorder: Recorder
) -> None:
    """Apply one ``atendente`` command.

    Args:
        command: The decoded frame (``comando`` is ``"atendente"``).
        attendant: The session's cell.
        ctx: The receiver's context (session identity, logger).
        recorder: Where it is recorded.
    """
    if "nome" not in command:
        ctx.log.warning("ignored an atendente command without 'nome'")
        return
    nome = command["nome"]
    if nome is not None:
        if not isinstance(nome, str) or not nome.strip() or len(nome) > MAX_NAME_CHARS:
            ctx.log.warning("ignored an atendente command with an unusable nome")
            return
        nome = " ".join(nome.split())
    # the audio decoded so far: what the device sent before this frame, give or take what still
    # waits in the receiver's link to the decoder (milliseconds)
    attendant.declare(nome, ctx.stats.audio_seconds)
    await recorder.record(set_session_attendant, ctx.session.session_id, nome)
    ctx.log.info("atendente: %r", nome if nome is not None else "saiu")  # the device's text
