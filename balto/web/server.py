"""Hypercorn configuration and serving inside our nursery.

Two things beyond Hypercorn's defaults: the port falls back from 8765 to 8766 when 8765 is taken
and ``PORT`` was not set, and every accepted socket inherits ``TCP_USER_TIMEOUT``, because Hypercorn
shields socket sends: without it a device that stops reading would block its handler and the
shutdown for as long as the kernel keeps retrying (STACK-NOTES Q2).
"""

from __future__ import annotations

import errno
import logging
import socket
from collections.abc import Awaitable, Callable
from typing import Any

import trio
from hypercorn.config import Config, Sockets
from hypercorn.middleware import ProxyFixMiddleware
from hypercorn.trio import serve

from balto.config import FALLBACK_PORT, Settings
from balto.web import connection_guard, ws_protocol
from balto.web.final_send import finish_responses

log = logging.getLogger(__name__)


class BaltoConfig(Config):
    """Hypercorn config with the port fallback and TCP_USER_TIMEOUT on accepted sockets."""

    tcp_user_timeout_ms: int = 10_000
    fallback_bind: list[str] | None = None

    def create_sockets(self) -> Sockets:
        """Bind, falling back once when the primary port is taken."""
        try:
            sockets = super().create_sockets()
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE or not self.fallback_bind:
                raise
            log.warning("%s is in use; falling back to %s", self.bind[0], self.fallback_bind[0])
            self.bind = self.fallback_bind
            sockets = super().create_sockets()
        for sock in sockets.insecure_sockets:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT, self.tcp_user_timeout_ms)
        return sockets


def make_config(settings: Settings, port: int | None = None) -> BaltoConfig:
    """Hypercorn config for `settings` (`port` overrides, e.g. 0 in tests)."""
    config = BaltoConfig()
    chosen = settings.port if port is None else port
    config.bind = [f"{settings.host}:{chosen}"]
    if port is None and not settings.port_explicit:
        config.fallback_bind = [f"{settings.host}:{FALLBACK_PORT}"]
    config.tcp_user_timeout_ms = settings.tcp_user_timeout_ms
    config.websocket_max_message_size = settings.ws_max_message_bytes
    config.graceful_timeout = 5.0
    config.accesslog = None
    config.errorlog = logging.getLogger("hypercorn.error")
    return config


def behind_proxies(app: Any, hops: int) -> Any:
    """`app` reading the client's address (and scheme, host) from `hops` trusted proxies.

    The last `hops` entries of ``X-Forwarded-For`` are the proxies' own view, so the one they
    name is the client: the cadastro rate limit and the audit log then see devices, not nginx.
    With 0 the headers are ignored, since anyone could send them.
    """
    if hops <= 0:
        return app
    return ProxyFixMiddleware(app, mode="legacy", trusted_hops=hops)


async def serve_app(
    app: Any,
    config: BaltoConfig,
    shutdown_trigger: Callable[[], Awaitable[None]],
    *,
    task_status: trio.TaskStatus[list[str]] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve `app` until `shutdown_trigger` returns; report the bound URLs through task_status.

    Bad device frames fail the connection with a close frame (`balto.web.ws_protocol`); a
    response's last write is not cut short by a cancel (`balto.web.final_send`); a connection
    that fails inside Hypercorn ends alone (`balto.web.connection_guard`).
    """
    ws_protocol.install()
    connection_guard.install()
    await serve(
        finish_responses(app), config, shutdown_trigger=shutdown_trigger, task_status=task_status
    )
