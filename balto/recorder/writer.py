"""The recorder: the one writer of everything sessions record, spooling while the database is away.

Callers ``await recorder.record(store_fn, *args, **kwargs)``; it returns once the event is durable
— committed to PostgreSQL, or appended and fsync'd to the spool — so "stored before sent" still
holds, and an outage costs the caller one fsync instead of a database timeout. One task
(`Recorder.run`, a child of the root nursery) writes: it takes whatever is queued as one batch
(one transaction, one worker thread), so order is kept across all sessions, and a busy server
makes fewer, bigger transactions.

While the spool holds anything, new events go to the spool too (behind the older ones, so order
holds); once a second the writer asks whether the database answers and, if so, replays the spool
oldest-first in batches, advancing the cursor after each commit. When the spool is empty, writes
go straight to the database again. An event applied twice has effect once
(`balto.recorder.apply`).

`close` drains: what is queued is written (to the spool if the database is away) and `run`
returns, so a SIGTERM during an outage keeps every event in the spool for the next start.
"""

from __future__ import annotations

import logging
import math
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Concatenate, ParamSpec

import psycopg
import trio

from balto.recorder.apply import apply_events
from balto.recorder.events import Event
from balto.recorder.spool import Spool
from balto.store.database import Database, DatabaseUnavailable

log = logging.getLogger("balto.recorder")

P = ParamSpec("P")

BATCH_MAX = 256  # events per transaction: big enough to keep up, small enough to replay in steps
RETRY_S = 1.0  # while the spool holds events, how often the database is asked if it is back


@dataclass(frozen=True, slots=True)
class RecorderStats:
    """What `/metrics` shows about the recorder."""

    spool_bytes: int
    spool_events: int
    spooled: int
    replayed: int
    dropped: int
    faults: int
    database_away: bool


class Recorder:
    """Durable, ordered, exactly-once writes for sessions (module docstring)."""

    def __init__(self, db: Database, spool: Spool) -> None:
        """Write through `db`, spooling to `spool` (opened by `run`)."""
        self._db = db
        self._spool = spool
        self._queue: deque[tuple[Event, trio.Event]] = deque()
        self._wake = trio.Event()
        self._closing = False
        self._done = trio.Event()
        self._away = False
        self._spooled = 0
        self._replayed = 0
        self._faults = 0

    async def record(
        self,
        fn: Callable[Concatenate[psycopg.Connection, P], object],
        *args: P.args,
        **kw: P.kwargs,
    ) -> None:
        """Record ``fn(conn, *args, **kw)``; return once it is committed or spooled.

        Raises:
            TypeError: `fn` is not an event kind, or an argument cannot be recorded.
        """
        event = Event.of(fn, args, kw)
        if self._done.is_set():  # a handler outlived the shutdown (a bug): say what was lost
            log.error("recorder: stopped; event not recorded: %r", event.to_line())
            return
        done = trio.Event()
        self._queue.append((event, done))
        self._wake.set()
        await done.wait()

    def stats(self) -> RecorderStats:
        """The spool's size and the recorder's counters."""
        return RecorderStats(
            spool_bytes=self._spool.size,
            spool_events=self._spool.pending_events,
            spooled=self._spooled,
            replayed=self._replayed,
            dropped=self._spool.dropped,
            faults=self._faults,
            database_away=self._away,
        )

    async def close(self) -> None:
        """Write what is queued (spooling it if need be) and stop `run`; wait for that."""
        self._closing = True
        self._wake.set()
        await self._done.wait()

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Replay a spool left by an earlier process, report started, then write until `close`."""
        try:
            await trio.to_thread.run_sync(self._spool.open)
            left = self._spool.pending_events
            while self._spool.pending and await self._survive(self._replay_some):
                pass
            if left:
                log.warning(
                    "recorder: replayed %d spooled event(s) left by an earlier process; %d left",
                    self._replayed,
                    self._spool.pending_events,
                )
            task_status.started()
            await self._loop()
        finally:
            self._done.set()  # from here on `record` refuses (and logs) instead of waiting
            with trio.CancelScope(shield=True):
                # Cancelled with events queued (a crash of the tree): keep them in the spool,
                # and release their writers.
                batch = list(self._queue)
                self._queue.clear()
                if batch:
                    await trio.to_thread.run_sync(self._spool.append, [e for e, _ in batch])
                    self._spooled += len(batch)
                for _, done in batch:
                    done.set()
                await trio.to_thread.run_sync(self._spool.close)

    async def _loop(self) -> None:
        while await self._survive(self._step) is not False:
            pass

    async def _step(self) -> bool:
        """Wait for work, replay some of the spool, write one batch; False once closed."""
        if not self._queue:
            if self._closing:
                return False
            with trio.move_on_after(RETRY_S if self._spool.pending else math.inf):
                await self._wake.wait()
            self._wake = trio.Event()
        if self._spool.pending and not self._closing:
            await self._replay_some()
        batch = [self._queue.popleft() for _ in range(min(BATCH_MAX, len(self._queue)))]
        if batch:
            await self._write(batch)
        return True

    async def _survive(self, step: Callable[[], Awaitable[bool]]) -> bool | None:
        """`step()`, or None after logging what it raised and waiting `RETRY_S`.

        The recorder is a child of the root nursery: an exception escaping it would end every
        session and the process, so one nobody foresaw (a bug, a disk gone strange) is logged,
        counted (`balto_recorder_faults_total`) and tried again instead.
        """
        try:
            return await step()
        except Exception:
            self._faults += 1
            log.exception("recorder: unexpected failure (%d so far); going on", self._faults)
            await trio.sleep(RETRY_S)
            return None

    async def _write(self, batch: list[tuple[Event, trio.Event]]) -> None:
        events = [event for event, _ in batch]
        try:
            if not self._spool.pending and not self._away:
                try:
                    await self._db.run(apply_events, events)
                    return
                except DatabaseUnavailable as exc:
                    self._went_away(exc)
                except Exception:
                    # not an outage, yet the batch did not commit: keep it, retry from the spool
                    log.exception("recorder: batch failed; spooling it")
            try:
                await trio.to_thread.run_sync(self._spool.append, events)
            except Exception:
                # Nowhere left to keep them: the log is their last record.
                log.error("recorder: %d event(s) lost: %r", len(events), events)
                raise
            self._spooled += len(events)
        finally:
            for _, done in batch:
                done.set()

    def _went_away(self, exc: BaseException) -> None:
        if not self._away:
            log.warning(
                "recorder: database unreachable (%s); spooling to %s", exc, self._spool.path
            )
        self._away = True

    async def _replay_some(self) -> bool:
        """Replay one batch if the database answers; whether it did."""
        if self._away and not await self._db.reachable():
            return False
        events, offset = await trio.to_thread.run_sync(self._spool.read, BATCH_MAX)
        try:
            applied = await self._db.run(apply_events, events)
        except DatabaseUnavailable as exc:
            self._went_away(exc)
            return False
        except Exception:
            log.exception("recorder: replay failed; will retry")
            return False
        await trio.to_thread.run_sync(self._spool.advance, offset, len(events))
        self._replayed += len(events)
        log.info(
            "recorder: replayed %d event(s) (%d accepted), %d left",
            len(events),
            applied,
            self._spool.pending_events,
        )
        if not self._spool.pending:
            if self._away:
                log.warning("recorder: database is back; spool replayed, writing directly")
            self._away = False
        return True
