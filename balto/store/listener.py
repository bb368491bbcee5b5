"""PostgreSQL LISTEN on its own connection, in its own thread, handed into Trio.

psycopg's async API is asyncio-only (STACK-NOTES Q5), so a worker thread owns one autocommit
connection, LISTENs on one channel and hands each payload to Trio with
`trio.from_thread.run_sync`. The pool is never used for this: a LISTENing connection must stay
open and idle, and would be lost the moment the pool recycled it.

In: a DSN and a channel name. Out: payload strings on a Trio send channel, in order. A lost
connection is reopened after `RECONNECT_S` (notifications sent meanwhile are lost: callers bound
their waits). Cancelling `listen` stops the thread within `POLL_S`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from functools import partial

import psycopg
import trio
from psycopg import sql

log = logging.getLogger(__name__)

POLL_S = 0.2  # how often the thread looks at its stop flag between notifications
RECONNECT_S = 1.0  # pause before reopening a lost LISTEN connection


def _listen_blocking(
    dsn: str,
    channel: str,
    deliver: trio.MemorySendChannel[str],
    ready: trio.Event,
    stop: threading.Event,
    token: trio.lowlevel.TrioToken,
) -> None:
    def into_trio(fn: Callable[..., object], *args: object) -> bool:
        try:
            trio.from_thread.run_sync(fn, *args, trio_token=token)
        except trio.RunFinishedError:
            return False
        return True

    while not stop.is_set():
        try:
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
                if not into_trio(ready.set):
                    return
                while not stop.is_set():
                    for note in conn.notifies(timeout=POLL_S):
                        # send_nowait: the consumer's buffer is sized for bursts; a full one
                        # raises WouldBlock, and a command lost that way times out at its sender
                        if not into_trio(_offer, deliver, note.payload):
                            return
        except psycopg.OperationalError as exc:
            if stop.is_set():
                return  # stopping anyway: the database going away is no news
            log.warning("listener on %s lost its connection (%s); reconnecting", channel, exc)
            time.sleep(RECONNECT_S)


def _offer(deliver: trio.MemorySendChannel[str], payload: str) -> None:
    try:
        deliver.send_nowait(payload)
    except trio.WouldBlock:
        log.error("listener: its consumer is behind; dropped a notification")
    except trio.ClosedResourceError:
        pass


async def listen(
    dsn: str,
    channel: str,
    deliver: trio.MemorySendChannel[str],
    *,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """LISTEN on `channel` and send every payload into `deliver` until cancelled.

    Reports started once the first LISTEN is active, so a notification sent after that is seen.
    """
    ready, stop = trio.Event(), threading.Event()
    token = trio.lowlevel.current_trio_token()
    blocking = partial(_listen_blocking, dsn, channel, deliver, ready, stop, token)
    try:
        async with trio.open_nursery() as nursery:
            # abandon_on_cancel: the thread notices `stop` within POLL_S and closes its connection
            nursery.start_soon(partial(trio.to_thread.run_sync, blocking, abandon_on_cancel=True))
            await ready.wait()
            task_status.started()
    finally:
        stop.set()
