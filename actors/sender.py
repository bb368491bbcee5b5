"""Sender: `Recommendation`s and `Alert`s in, JSON text frames out to the device.

A recommendation frame carries the seed's keys exactly (`comando`, `produto`, `explicacao`,
`transcricao_base`, `atendente`) plus `id`; an alert frame is `comando: alerta` (see
`balto.messages.Alert.to_frame`), a withdrawal `comando: retirar` (`Withdrawal.to_frame`).
Anything made after the device left stays stored, marked unsent.
"""

from __future__ import annotations

import json

import trio

from actors.context import ActorContext, ActorState
from actors.ports import DeviceLink, Recorder
from balto.errors import DeviceGone
from balto.messages import Alert, Recommendation, Withdrawal
from balto.store.advice import alert_sent
from balto.store.sessions import recommendation_sent


async def run_sender(
    inbox: trio.abc.ReceiveChannel[Recommendation],
    ctx: ActorContext,
    *,
    device: DeviceLink,
    recorder: Recorder,
) -> None:
    """Deliver every recommendation and alert; record when each one left."""
    ctx.health.state = ActorState.RUNNING
    gone = False
    async with inbox:
        async for rec in inbox:
            ctx.took()
            if gone:
                continue
            try:
                await device.send_text(json.dumps(rec.to_frame(), ensure_ascii=False))
            except DeviceGone:
                gone = True
                ctx.log.info("device gone; %s stored but not delivered", rec.id)
                continue
            ctx.gave()
            if isinstance(rec, Withdrawal):
                continue  # stored as withdrawn by the advisor; its recommendation was sent
            if isinstance(rec, Alert):
                await recorder.record(alert_sent, rec.id)
            else:
                await recorder.record(recommendation_sent, rec.id)
