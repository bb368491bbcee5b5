"""The ``control`` node: ops commands addressed to this instance, over PostgreSQL LISTEN/NOTIFY.

Every instance LISTENs on its own channel (`channel_of` its id). An admin route on instance A that
targets a session held by instance B NOTIFYs B's channel with a command (`restart`, `disconnect`,
`revoke`, `replace`) and, for the first three, waits up to `ACK_TIMEOUT_S` for B's acknowledgement
on A's channel. B applies the command to its own registry, exactly as a local route would.

Payloads are JSON objects: ``{"cmd", "balcao_id", "session_id", "from", "id"}`` for a command,
``{"cmd": "ack", "id", "status"}`` for an answer. ``status`` is what the route reports:
``restarting``, ``disconnecting``, ``revoked``, ``replaced``, ``busy`` or ``not_found``. A
cliente's suspension goes to every instance as ``{"cmd": "suspend", "cliente_id", "from", "id"}``
and is answered with the number of sessions closed there.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Callable
from typing import Any

import trio

from balto.close_codes import CloseCode
from balto.errors import BaltoError
from balto.store import Database
from balto.store.cluster import notify
from balto.store.listener import listen
from supervisors.registry import Registry

log = logging.getLogger(__name__)

ACK_TIMEOUT_S = 1.0  # the bound: a command is answered within a second, or 504
INBOX = 256  # notifications buffered between the listener thread and the handler: bursts only
COMMANDS = frozenset({"restart", "disconnect", "revoke", "replace"})  # each for one balcão
SUSPEND = "suspend"  # every session of one cliente: ``{"cmd", "cliente_id"}``, status the count
_CLOSES = {
    "disconnect": (CloseCode.DISCONNECTED_BY_OPERATOR, "disconnecting"),
    "revoke": (CloseCode.REVOKED_KEY, "revoked"),
    "replace": (CloseCode.REPLACED, "replaced"),
}


class ControlTimeout(BaltoError):
    """The instance holding the session did not acknowledge a command in time."""


def channel_of(instance_id: str) -> str:
    """The LISTEN channel of an instance: fixed length, whatever characters its id holds."""
    return "balto_ctl_" + hashlib.sha256(instance_id.encode()).hexdigest()[:24]


def apply_command(registry: Registry, command: str, balcao_id: str, session_id: str | None) -> str:
    """Apply one command to this instance's live session of `balcao_id`; return its status.

    `session_id`, when given, must be the live one: a command for a session that has since been
    replaced does not touch its successor.
    """
    live = registry.get(balcao_id)
    if live is None or (session_id and live.session.info.session_id != session_id):
        return "not_found"
    if command == "restart":
        return "restarting" if live.session.restart("requested by an admin") else "busy"
    code, status = _CLOSES[command]
    # an operator's disconnect also ends a drain (one stuck on a stalled provider, say); a revoked
    # key or a new connection leaves a departed device's session to finish its drain
    asked = live.request_close(code, code.reason, even_draining=command == "disconnect")
    return status if asked else "not_found"


class ControlPlane:
    """This instance's end of the control plane: serve commands, send them, wait for answers."""

    def __init__(self, db: Database, dsn: str, instance_id: str, registry: Registry) -> None:
        """Bind to the database (NOTIFY through the pool, LISTEN on its own connection)."""
        self._db = db
        self._dsn = dsn
        self.instance_id = instance_id
        self._registry = registry
        self._waiting: dict[str, tuple[trio.Event, list[str]]] = {}
        self._nursery: trio.Nursery | None = None
        # what else forgets a suspended cliente here (the device keys' cache, set by the root)
        self.on_suspend: Callable[[str], object] | None = None

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Listen and serve commands until cancelled; started once the LISTEN is active."""
        send, receive = trio.open_memory_channel[str](INBOX)
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            await nursery.start(listen, self._dsn, channel_of(self.instance_id), send)
            task_status.started()
            async with receive:
                async for payload in receive:
                    self._handle(payload)

    def _handle(self, payload: str) -> None:
        try:
            message: dict[str, Any] = json.loads(payload)
            command = str(message["cmd"])
        except (ValueError, KeyError, TypeError):
            log.warning("control: ignored a malformed notification: %.200s", payload)
            return
        if command == "ack":
            waiter = self._waiting.get(str(message.get("id")))
            if waiter is not None:
                waiter[1].append(str(message.get("status")))
                waiter[0].set()
            return
        if command == SUSPEND:
            cliente_id = str(message.get("cliente_id"))
            if self.on_suspend is not None:
                self.on_suspend(cliente_id)
            status = str(self._registry.close_cliente(cliente_id, CloseCode.SUSPENDED))
            log.info("control: cliente %s suspended: %s sessions closed here", cliente_id, status)
        elif command in COMMANDS:
            balcao_id, session_id = str(message.get("balcao_id")), message.get("session_id")
            status = apply_command(self._registry, command, balcao_id, session_id)
            log.info(
                "control: %s of balcao %s from instance %s: %s",
                command,
                balcao_id,
                message.get("from"),
                status,
            )
        else:
            log.warning("control: unknown command %r", command)
            return
        if message.get("id") and message.get("from") and self._nursery is not None:
            answer = json.dumps({"cmd": "ack", "id": message["id"], "status": status})
            self._nursery.start_soon(self._send, str(message["from"]), answer)

    async def _send(self, instance_id: str, payload: str) -> None:
        try:
            await self._db.run(notify, channel_of(instance_id), payload)
        except Exception:
            # the asker times out (504) and says so; nothing else to do here
            log.exception("control: could not answer instance %s", instance_id)

    async def tell(self, instance_id: str, command: str, balcao_id: str, session_id: str) -> None:
        """Send a command without waiting for an answer (a replaced session's close)."""
        message = {"cmd": command, "balcao_id": balcao_id, "session_id": session_id}
        await self._send(instance_id, json.dumps({**message, "from": self.instance_id}))

    async def request(
        self, instance_id: str, command: str, balcao_id: str, session_id: str | None
    ) -> str:
        """Send `command` to `instance_id`, return its status; `ControlTimeout` past the bound."""
        message = {"cmd": command, "balcao_id": balcao_id, "session_id": session_id}
        return await self._ask(instance_id, message)

    async def close_cliente(self, instance_id: str, cliente_id: str) -> int:
        """Have `instance_id` close its sessions of a suspended cliente (4009); how many it closed.

        Raises `ControlTimeout` past the bound (the instance still closes them when it reads it).
        """
        status = await self._ask(instance_id, {"cmd": SUSPEND, "cliente_id": cliente_id})
        return int(status) if status.isdigit() else 0

    async def _ask(self, instance_id: str, message: dict[str, Any]) -> str:
        command = message["cmd"]
        request_id = uuid.uuid4().hex
        done, answer = trio.Event(), list[str]()
        self._waiting[request_id] = (done, answer)
        message = {**message, "from": self.instance_id, "id": request_id}
        try:
            with trio.move_on_after(ACK_TIMEOUT_S):
                await self._db.run(notify, channel_of(instance_id), json.dumps(message))
                await done.wait()
        finally:
            del self._waiting[request_id]
        if not answer:
            raise ControlTimeout(f"instance {instance_id} did not answer {command} in time")
        return answer[0]
