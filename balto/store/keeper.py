"""The embedded PostgreSQL's keeper: a root child that restarts the server when it dies.

In: the started `EmbeddedPostgres`. Every `CHECK_S` it reads the postmaster's pid file; when the
postmaster is gone (killed, crashed, OOM) it logs so, waits ``BALTO_PG_RESTART_S`` (default 1 s:
a server someone is restarting by hand gets the chance to come back first; tests use a longer
wait to hold an outage open) and starts it again through pgserver on the
same data directory and socket, so the URL the pool holds stays valid and the pool reconnects on
its own (its connections are checked as they leave it). Failed starts are retried with backoff
(`BACKOFF_S`, doubling up to `BACKOFF_MAX_S`): a postmaster killed outright leaves backends that
hold its shared memory for a moment, and PostgreSQL refuses to start until they are gone.
Raises nothing; cancellation (shutdown) stops it, and `embedded_postgres` then stops the server.
"""

from __future__ import annotations

import logging

import trio

from balto.store.embedded import EmbeddedPostgres, _alive, postmaster_pid

log = logging.getLogger("balto.store.keeper")

CHECK_S = 0.5  # how often the postmaster is looked at: an outage costs at most this to notice
BACKOFF_S = 0.5  # first wait after a failed start
BACKOFF_MAX_S = 10.0


def _running(pg: EmbeddedPostgres) -> int | None:
    """The live postmaster's pid, or None."""
    pid = postmaster_pid(pg.pgdata)
    # `_alive`, not pgserver's check: a killed postmaster is a zombie until PID 1 reaps it, and
    # pgserver (psutil) counts a zombie as running
    if pid is None or not _alive(pid):
        return None
    return pid


def _restart(pg: EmbeddedPostgres) -> int:
    """Start the server again (pgserver's own start, waiting until it accepts connections).

    While the dead postmaster is still a zombie pgserver believes it runs and starts nothing:
    the check after it fails, and the keeper tries again after its backoff.
    """
    # As root, pgserver runs PostgreSQL as its own user and opened the data directory's parents
    # to it at start; something may have closed one since (pytest re-privates its temporary
    # root at each session's start), and pg_ctl would then answer "Permission denied" forever.
    pg.server.ensure_pgdata_inited()
    pg.server.ensure_postgres_running()
    pid = _running(pg)
    if pid is None:
        raise RuntimeError("PostgreSQL did not stay up after starting")
    return pid


async def keep_embedded(
    pg: EmbeddedPostgres,
    restart_after_s: float = 1.0,
    *,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Watch the embedded server and restart it whenever it dies, until cancelled.

    Args:
        pg: The server to keep.
        restart_after_s: Wait between noticing the death and the first restart.
        task_status: Started at once.
    """
    task_status.started()
    while True:
        await trio.sleep(CHECK_S)
        try:
            if await trio.to_thread.run_sync(_running, pg) is not None:
                continue
        except Exception:  # the keeper must never be what takes the server down
            log.exception("embedded PostgreSQL: its state could not be read; looking again")
            continue
        log.error(
            "embedded PostgreSQL in %s is not running: restarting it in %.1f s",
            pg.pgdata,
            restart_after_s,
        )
        await trio.sleep(restart_after_s)
        if (pid := await trio.to_thread.run_sync(_running, pg)) is not None:
            log.warning("embedded PostgreSQL is back (pid %d), started by someone else", pid)
            continue
        backoff = BACKOFF_S
        attempt = 1
        while True:
            try:
                pid = await trio.to_thread.run_sync(_restart, pg, abandon_on_cancel=True)
            except Exception as exc:
                log.warning(
                    "embedded PostgreSQL restart %d failed (%s): next try in %.1f s",
                    attempt,
                    exc,
                    backoff,
                )
                await trio.sleep(backoff)
                backoff = min(backoff * 2, BACKOFF_MAX_S)
                attempt += 1
                continue
            log.warning("embedded PostgreSQL restarted (pid %d, attempt %d)", pid, attempt)
            break
