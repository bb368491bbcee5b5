"""The embedded PostgreSQL (the `pgserver` wheel), used when no ``BALTO_DATABASE_URL`` is given.

pgserver bundles PostgreSQL 16 and serves on a unix socket. As root it runs the server as a system
user ``pgserver`` (created on first use) and opens read/execute on the data directory's parents
(STACK-NOTES Q5); the README says so.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import trio

log = logging.getLogger(__name__)


def _ensure_runtime_dir() -> None:
    # platformdirs warns (and pgserver keeps its lock file there) when XDG_RUNTIME_DIR is unset
    if not os.environ.get("XDG_RUNTIME_DIR"):
        path = Path(tempfile.gettempdir()) / f"balto-runtime-{os.getuid()}"
        path.mkdir(mode=0o700, exist_ok=True)
        os.environ["XDG_RUNTIME_DIR"] = str(path)


def _start(pgdata: Path) -> Any:
    _ensure_runtime_dir()
    # imported late: platformdirs reads XDG_RUNTIME_DIR when pgserver is imported
    from pgserver.postgres_server import get_server

    pgdata.mkdir(parents=True, exist_ok=True)
    return get_server(pgdata, cleanup_mode="stop")


@contextlib.asynccontextmanager
async def embedded_postgres(pgdata: Path) -> AsyncIterator[str]:
    """Start (or join) the embedded server on `pgdata`; yield its URL; stop it on exit."""
    pgdata = Path(await trio.Path(pgdata).resolve())
    log.info("starting embedded PostgreSQL in %s", pgdata)
    server = await trio.to_thread.run_sync(_start, pgdata)
    try:
        yield str(server.get_uri())
    finally:
        with trio.CancelScope(shield=True):
            await trio.to_thread.run_sync(server.cleanup)
            log.info("embedded PostgreSQL stopped")
