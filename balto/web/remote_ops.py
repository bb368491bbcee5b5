"""Admin actions on a session another instance holds, sent over the control plane.

The routes try this instance's registry first (as with one process); when the balcão's live
session is elsewhere they call `forward`, which NOTIFYs the holder and waits for its answer (at
most `supervisors.control.ACK_TIMEOUT_S`): 202 with the holder's status, 404 when no instance
holds the session (or it ended meanwhile), 409 when the holder cannot restart it now, 504 when
the holder does not answer in time.
"""

from __future__ import annotations

import trio
from quart import Response, jsonify

from balto.close_codes import CloseCode
from balto.store.cluster import instances
from balto.web.audit import audit
from balto.web.auth import app_services
from balto.web.errors import error
from supervisors.control import ControlTimeout

NO_SESSION = "nenhuma sessão ativa para este balcão"


async def forward(command: str, balcao_id: str) -> tuple[Response, int]:
    """Send `command` (``restart``, ``disconnect``) to the instance holding `balcao_id`."""
    cluster = app_services().cluster
    row = await cluster.holder(balcao_id)
    if row is None:
        return error(404, "not_found", NO_SESSION)
    facts = {"balcao_id": balcao_id, "session_id": row.session_id}
    try:
        status = await cluster.control.request(row.instance_id, command, *facts.values())
    except ControlTimeout:
        await audit(command, **facts, instance=row.instance_id, outcome="timeout")
        return error(
            504,
            "instance_timeout",
            f"a instância {row.instance_id} não respondeu a tempo",
            instance=row.instance_id,
        )
    await audit(command, **facts, instance=row.instance_id, accepted=status)
    if status == "not_found":
        return error(404, "not_found", NO_SESSION)
    if status == "busy":
        return error(409, "busy", "a sessão não pode ser reiniciada agora; tente de novo")
    body = {"status": status, "session_id": row.session_id, "instance": row.instance_id}
    return jsonify(body), 202


async def revoke_elsewhere(balcao_id: str) -> str | None:
    """Close the revoked balcão's live session on whichever instance holds it; its id or None.

    The key is already revoked in the database, so a holder that does not answer in time only
    delays the close: its device cannot reconnect.
    """
    cluster = app_services().cluster
    row = await cluster.holder(balcao_id)
    if row is None:
        return None
    try:
        status = await cluster.control.request(row.instance_id, "revoke", balcao_id, row.session_id)
    except ControlTimeout:
        return row.session_id
    return row.session_id if status != "not_found" else None


async def close_revoked(balcao_id: str) -> str | None:
    """Close a just-revoked balcão's live session (4003) here or on its holder.

    Returns its id, or None when there was none to close (a session whose device already left
    finishes its drain).
    """
    live = app_services().registry.get(balcao_id)
    if live is None:
        return await revoke_elsewhere(balcao_id)
    code = CloseCode.REVOKED_KEY
    return live.session.info.session_id if live.request_close(code, code.reason) else None


async def close_suspended(cliente_id: str) -> tuple[int, list[str]]:
    """Close every live session of a just-suspended cliente (4009), here and on every instance.

    Returns how many were closed and the instances that did not answer in time (they close
    theirs when they read the command; their devices cannot reconnect meanwhile).
    """
    services = app_services()
    services.keys.forget_cliente(cliente_id)
    closed = services.registry.close_cliente(cliente_id, CloseCode.SUSPENDED)
    others = [i for i in await services.db.run(instances) if i != services.cluster.instance_id]
    counts: list[int] = []
    silent: list[str] = []

    async def ask(instance_id: str) -> None:
        try:
            counts.append(await services.cluster.control.close_cliente(instance_id, cliente_id))
        except ControlTimeout:
            silent.append(instance_id)

    async with trio.open_nursery() as nursery:
        for instance_id in others:
            nursery.start_soon(ask, instance_id)
    return closed + sum(counts), sorted(silent)
