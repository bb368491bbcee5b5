"""The audit log of admin actions, as routes write it.

One call per action, after the action was decided: what, on which balcão/session, the outcome,
the client address, and who (``ator``: ``operador`` for the admin secret, ``gestor:<e-mail>`` for
a chain's account; null where no one was signed in yet, as for a refused sign-in), with the chain
a gestor's action belongs to, which its colleagues read on Auditoria.
A failing audit write is logged and never turns a done action into an error answer. A done
action is audited even when its client has gone: Quart-Trio cancels a request's handler when the
client disconnects, which can fall between the action and its audit row, so the write is
shielded (for at most `SHIELD_S`).
"""

from __future__ import annotations

import logging
from typing import Any

import trio
from quart import current_app, request

from balto.services import Services
from balto.store.history import record_action
from balto.web.principal import current_or_none

log = logging.getLogger(__name__)

SHIELD_S = 5.0  # the database's own waits are shorter (BALTO_DB_TIMEOUT_S)


async def audit(
    action: str,
    *,
    balcao_id: str | None = None,
    session_id: str | None = None,
    ator: str | None = None,
    **detail: Any,
) -> None:
    """Record an admin action (``restart``, ``disconnect``, ``revoke``, ``fault_add``, ...).

    Args:
        action: What the admin did.
        balcao_id: The balcão it was about, if any.
        session_id: The live session it touched, if any.
        ator: Who, when no admin hook resolved it (a sign-in); else the request's principal.
        **detail: JSON-ready facts about the outcome.
    """
    services: Services = current_app.config["BALTO_SERVICES"]
    who = current_or_none()
    ator = ator or (who.actor if who else None)
    log.info("admin action %s balcao=%s session=%s %s", action, balcao_id, session_id, detail)
    remote_addr = request.remote_addr
    with trio.CancelScope(deadline=trio.current_time() + SHIELD_S, shield=True) as scope:
        try:
            await services.db.run(
                record_action,
                action,
                balcao_id=balcao_id,
                session_id=session_id,
                remote_addr=remote_addr,
                detail=detail,
                ator=ator,
                cliente_id=who.cliente_id if who else None,
            )
        except Exception:
            log.exception("could not write the audit log for %s", action)
    if scope.cancelled_caught:
        log.error("the audit log for %s took over %.0f s: not written", action, SHIELD_S)
