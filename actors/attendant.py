"""The attendant signed in at the balcão, as the device declares it.

In: ``{"comando": "atendente", "nome": "Ana"}`` (``"nome": null`` signs out), decoded by the
receiver. Out: the session's `Attendant` cell, which the advisor reads for every recommendation and
alert that follows, and ``sessions.atendente`` in the database. Raises nothing for bad input: a
name that is not a string of 1–80 characters, or null, is logged and ignored.
"""

from __future__ import annotations

from dataclasses import dataclass

from actors.context import ActorContext
from actors.ports import Recorder
from balto.store.advice import set_session_attendant

MAX_NAME_CHARS = 80  # a person's name; more is not a name and would not fit the screen


@dataclass(slots=True)
class Attendant:
    """Who is at the counter now (None: nobody declared). Owned by the session.

    The receiver's command handler writes it and the advisor reads it; both run on the Trio
    thread, so a plain attribute is enough.
    """

    nome: str | None = None


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
    attendant.nome = nome
    await recorder.record(set_session_attendant, ctx.session.session_id, nome)
    ctx.log.info("atendente: %r", nome if nome is not None else "saiu")  # the device's text
