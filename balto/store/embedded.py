"""The embedded PostgreSQL (the `pgserver` wheel), used when no ``BALTO_DATABASE_URL`` is given.

pgserver bundles PostgreSQL 16 and serves on a unix socket. As root it runs the server as a system
user ``pgserver`` (created on first use) and opens read/execute on the data directory's parents
(STACK-NOTES Q5); the README says so.

A Balto killed outright (SIGKILL, OOM) leaves its PostgreSQL running, and its pid in pgserver's
handle list (``.handle_pids.json``). pgserver would silently reuse that server, and since the
dead pid never leaves the list, it would never stop it again: every later Balto would exit
leaving PostgreSQL behind. So before starting, `_reclaim` drops dead pids from the list and,
when a server runs on the data directory with no live process holding it, stops it (fast
shutdown) and logs so; pgserver then starts a fresh one. A server still held by a live process
is joined, with a warning. Pid liveness is by pid (a zombie counts as dead); a recycled pid would
be taken for alive, which errs on the safe side (join, do not stop). Single-host by nature.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
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


STOP_TIMEOUT_S = 15.0  # a fast shutdown of an orphan; then SIGQUIT (immediate shutdown)


def _alive(pid: int) -> bool:
    """True while `pid` runs (a zombie, killed but not yet reaped, counts as dead)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process, and alive
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc: trust the signal test
    return stat.rpartition(")")[2].split()[0] != "Z"


def postmaster_pid(pgdata: Path) -> int | None:
    """The pid in `pgdata`'s ``postmaster.pid``, or None when there is none (yet).

    Read here rather than through pgserver's `PostmasterInfo`, which asserts all eight lines:
    PostgreSQL writes the file in steps while it starts (and removes it when it stops), so a
    read at the wrong moment sees a part of it, and must not raise.
    """
    try:
        first = (pgdata / "postmaster.pid").read_text().partition("\n")[0]
        return int(first)
    except (OSError, ValueError):
        return None


def _stop_orphan(pid: int) -> None:
    """Shut down the postmaster `pid`: fast (SIGINT), then immediate (SIGQUIT) if it lingers."""
    for signum in (signal.SIGINT, signal.SIGQUIT):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)
        deadline = time.monotonic() + STOP_TIMEOUT_S
        while time.monotonic() < deadline:
            if not _alive(pid):
                return
            time.sleep(0.05)  # a worker thread; the postmaster is not our child to wait for
        log.error("orphaned PostgreSQL %d still runs after %s", pid, signum.name)


def _reclaim(pgdata: Path) -> None:
    """Clean up after a Balto that died on `pgdata` (module docstring)."""
    from pgserver.utils import PostmasterInfo

    handles = pgdata / ".handle_pids.json"
    pids: list[int] = json.loads(handles.read_text()) if handles.exists() else []
    holders = [pid for pid in pids if pid != os.getpid() and _alive(pid)]
    dead = [pid for pid in pids if pid not in holders]
    if dead:
        log.warning("embedded PostgreSQL: process(es) %s died holding %s", dead, pgdata)
        handles.write_text(json.dumps(holders))
    info = PostmasterInfo.read_from_pgdata(pgdata)
    if info is None or not info.is_running():
        return
    if holders:
        log.warning(
            "embedded PostgreSQL (pid %d) in %s is in use by live process(es) %s: joining it",
            info.pid,
            pgdata,
            holders,
        )
        return
    log.warning(
        "found an orphaned embedded PostgreSQL (pid %d) in %s, left by a Balto that died: "
        "stopping it and starting a fresh one",
        info.pid,
        pgdata,
    )
    _stop_orphan(info.pid)
    log.info("orphaned embedded PostgreSQL %d stopped", info.pid)


def _start(pgdata: Path) -> Any:
    _ensure_runtime_dir()
    # imported late: platformdirs reads XDG_RUNTIME_DIR when pgserver is imported
    from pgserver.postgres_server import get_server

    pgdata.mkdir(parents=True, exist_ok=True)
    _reclaim(pgdata)
    return get_server(pgdata, cleanup_mode="stop")


@dataclass(frozen=True, slots=True)
class EmbeddedPostgres:
    """A started embedded server: its URL, data directory and pgserver handle (for the keeper)."""

    url: str
    pgdata: Path
    server: Any


@contextlib.asynccontextmanager
async def embedded_postgres(pgdata: Path) -> AsyncIterator[EmbeddedPostgres]:
    """Start (or join) the embedded server on `pgdata`; yield it; stop it on exit.

    While it runs, `balto.store.keeper.keep_embedded` restarts it if it dies.
    """
    pgdata = Path(await trio.Path(pgdata).resolve())
    log.info("starting embedded PostgreSQL in %s", pgdata)
    server = await trio.to_thread.run_sync(_start, pgdata)
    try:
        yield EmbeddedPostgres(str(server.get_uri()), pgdata, server)
    finally:
        with trio.CancelScope(shield=True):
            await trio.to_thread.run_sync(server.cleanup)
            log.info("embedded PostgreSQL stopped")


@contextlib.asynccontextmanager
async def server_database(
    database_url: str | None, data_dir: Path
) -> AsyncIterator[tuple[str, EmbeddedPostgres | None]]:
    """The database ``balto serve`` uses: `database_url`, else the embedded one under `data_dir`.

    Yields its URL and, for the embedded one, the started server (for the keeper).
    """
    if database_url:
        yield database_url, None
        return
    async with embedded_postgres(data_dir / "pg") as pg:
        yield pg.url, pg
