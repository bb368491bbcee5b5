"""The audit log of admin actions, as routes write it.

One call per action, after the action was decided: what, on which balcão/session, the outcome,
the client address, and who (``ator``: ``operador`` for the admin secret, ``gestor:<e-mail>`` for
a chain's account; null where no one was signed in yet, as for a refused sign-in), with the chain
a gestor's action belongs to, which its colleagues read on Auditoria.
A failing audit write is logged and never turns a done action into an error answer.
"""

from __future__ import annotations

import logging
from typing import Any

from quart import current_app, request

from balto.services import Services
from balto.store.history import record_action
from balto.web.principal import current_or_none

log = logging.getLogger(__name__)


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
    try:
        await services.db.run(
            record_action,
            action,
            balcao_id=balcao_id,
            session_id=session_id,
            remote_addr=request.remote_addr,
            detail=detail,
            ator=ator,
            cliente_id=who.cliente_id if who else None,
        )
    except Exception:
        log.exception("could not write the audit log for %s", action)
