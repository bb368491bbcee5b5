"""Device commands after the handshake: verdicts, guidance given, attendant, next customer, stock.

In: a JSON object the receiver decoded from a text frame (it has a string ``comando``). Handles
``{"comando": "feedback", "id": "<recommendation id>", "aceita": true|false}`` by storing the
verdict against the recommendation (``recommendations.aceita`` / ``feedback_at``), only for
recommendations made at this balcão (checked when the recorder applies it),
``{"comando": "orientado", "id": "<alert id>"}`` by storing when the attendant gave that alert's
guidance (``alerts.orientado_em``, the first time; this balcão's alerts only), and
``{"comando": "atendente", "nome": "…" | null}`` by setting the session's attendant
(`actors.attendant`), ``{"comando": "novo_atendimento"}`` by starting the next customer's
service (`actors.customers`), and ``{"comando": "em_falta", "id": "<recommendation id>"}`` by
marking that suggestion's product out of stock at this balcão's store (`balto.store.em_falta`;
this balcão's recommendations only). Out: nothing is sent back. Raises nothing for bad input:
unknown commands, wrong types and unknown ids are logged and dropped, so a device cannot crash
its own session with a malformed frame.
"""

from __future__ import annotations

from collections.abc import Callable

import psycopg

from actors.attendant import Attendant, declare_attendant
from actors.context import ActorContext
from actors.customers import Customers, next_customer
from actors.ports import Recorder
from balto.store.advice import record_feedback, record_orientation
from balto.store.em_falta import mark_from_recommendation


async def handle_command(
    command: dict[str, object],
    ctx: ActorContext,
    recorder: Recorder,
    attendant: Attendant | None = None,
    customers: Customers | None = None,
) -> None:
    """Handle one device command (the receiver's ``on_control`` hook).

    Args:
        command: The decoded frame; ``comando`` is a string.
        ctx: The receiver's context (session identity, logger).
        recorder: Where it is recorded.
        attendant: The session's attendant cell (``atendente`` commands set it).
        customers: The session's atendimentos (``novo_atendimento`` commands start one).
    """
    comando = command.get("comando")
    if comando == "atendente" and attendant is not None:
        await declare_attendant(command, attendant, ctx, recorder)
        return
    if comando == "novo_atendimento" and customers is not None:
        next_customer(command, customers, ctx)
        return
    if comando == "orientado":
        await _oriented(command, ctx, recorder)
        return
    if comando == "em_falta":
        await _out_of_stock(command, ctx, recorder)
        return
    if comando != "feedback":
        ctx.log.info("ignored command %r", comando)
        return
    rec_id = command.get("id")
    aceita = command.get("aceita")
    if not isinstance(rec_id, str) or not rec_id or not isinstance(aceita, bool):
        ctx.log.warning(
            "ignored feedback with wrong types (id: %s, aceita: %s)",
            type(rec_id).__name__,
            type(aceita).__name__,
        )
        return
    # Recorded, not queried: it then survives an outage, and it lands after the recommendation
    # it names (same writer, same order). A verdict on a recommendation of another balcão, or an
    # unknown id, matches nothing when applied (the recorder logs that).
    await recorder.record(record_feedback, rec_id[:64], ctx.session.balcao_id, aceita)
    # %r: the id is the device's text, and a newline in it would forge a log line
    ctx.log.info("feedback on %r: %s", rec_id[:64], "aceita" if aceita else "recusada")


async def _oriented(command: dict[str, object], ctx: ActorContext, recorder: Recorder) -> None:
    """The attendant gave an alert's guidance: recorded, like feedback, to survive an outage."""
    await _record_by_id(command, ctx, recorder, record_orientation, "alert %r: guidance given")


async def _out_of_stock(command: dict[str, object], ctx: ActorContext, recorder: Recorder) -> None:
    """The attendant said a suggestion's product is not on the shelf: recorded, like feedback.

    The advisor reads the mark with its catalog's version at the next utterance, so the
    product is not suggested again at this store until it runs out or someone says it is back.
    """
    await _record_by_id(
        command, ctx, recorder, mark_from_recommendation, "recommendation %r: out of stock"
    )


async def _record_by_id(
    command: dict[str, object],
    ctx: ActorContext,
    recorder: Recorder,
    store: Callable[[psycopg.Connection, str, str], bool],
    done: str,
) -> None:
    """Record `store(conn, <the command's id>, <this balcão>)`, then log `done`.

    A missing or non-text id is logged and dropped; only this balcão's rows match when the
    recorder applies it.
    """
    row_id = command.get("id")
    if not isinstance(row_id, str) or not row_id:
        ctx.log.warning(
            "ignored %s with a wrong id (%s)", command["comando"], type(row_id).__name__
        )
        return
    await recorder.record(store, row_id[:64], ctx.session.balcao_id)
    ctx.log.info(done, row_id[:64])  # `done` has %r: the id is the device's text
