"""Which customer's service (*atendimento*) each moment of a counter session belongs to.

In: ``{"comando": "novo_atendimento"}``, decoded by the receiver, when the attendant turns to the
next customer (the counter page's *Próximo cliente*). Out: the session's `Customers` cell, which
the advisor reads for every utterance: one that began after the command starts a new
atendimento, so what the last customer said, was alerted on or was shown stops shaping the
advice (`balto.advice.session.AdviceSession.new_conversation`). Like the attendant's
declarations (`actors.attendant`), each command is kept with the session's audio clock when it
came: an utterance the pipeline is still working through belongs to the customer who said it.
Nothing is stored here; the advisor marks the new atendimento's first segment.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from actors.context import ActorContext

KEPT = 64  # boundaries remembered: far more than a backlog of utterances can span


@dataclass(slots=True)
class Customers:
    """The atendimentos of one session, by the audio clock. Owned by the session.

    The receiver's command handler writes it and the advisor reads it; both run on the Trio
    thread, so plain attributes are enough.
    """

    # audio clock in seconds when each new atendimento began, oldest first
    began: deque[float] = field(default_factory=lambda: deque(maxlen=KEPT))
    _forgotten: int = 0  # boundaries that fell off the left of `began`
    # The atendimento of the last utterance the advisor heard; kept here, not in the advisor, so
    # a restarted advisor still marks a boundary the device sent while it was down.
    served: int | None = None

    def next(self, audio_s: float) -> None:
        """The next customer is served from `audio_s` on the session's audio clock."""
        if len(self.began) == KEPT:
            self._forgotten += 1
        self.began.append(audio_s)

    def at(self, audio_s: float) -> int:
        """The number of the atendimento going on at `audio_s` (0: the session's first)."""
        number = self._forgotten
        for since in self.began:
            if since > audio_s:
                break
            number += 1
        return number


def next_customer(command: dict[str, object], customers: Customers, ctx: ActorContext) -> None:
    """Apply one ``novo_atendimento`` command (any other key in it is ignored)."""
    # the audio decoded so far: what the device sent before this frame (see actors.attendant)
    customers.next(ctx.stats.audio_seconds)
    ctx.log.info("novo atendimento at %.1f s of audio", ctx.stats.audio_seconds)
