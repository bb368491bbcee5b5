"""The segment ledger: stores segments that will never reach the STT as failed, with why.

Links call `failed` synchronously (from inside a send, for a dropped segment); a task records the
rows through the recorder (which spools them while the database is away). `close` writes what is
left and marks every segment of the session still `pending` (the transcriber was stopped
mid-call) as failed, so no segment the VAD emitted is silently lost.
"""

from __future__ import annotations

import logging
from collections import deque

import trio

from actors.ports import Recorder
from balto.messages import Segment
from balto.store.supervision import fail_pending_segments, store_failed_segment

log = logging.getLogger("balto.ledger")

RETRY_S = 1.0  # a row could not be recorded (a bug, not an outage): try again soon, keep it


class SegmentLedger:
    """Failed-segment writer for one session."""

    def __init__(self, recorder: Recorder, session_id: str) -> None:
        """Bind to the session."""
        self._recorder = recorder
        self._session_id = session_id
        # Metadata only (no PCM): even hours of drops stay small.
        self._queue: deque[tuple[str, int, float, float, str]] = deque()
        self._wake = trio.Event()
        self._lock = trio.Lock()
        self._closed = False
        self.failed_count = 0

    def failed(self, segment: Segment, reason: str) -> None:
        """Record that `segment` will not be transcribed, and why."""
        self._queue.append((segment.id, segment.seq, segment.start, segment.end, reason))
        self.failed_count += 1
        self._wake.set()

    async def run(self) -> None:
        """Write rows as they come, until `close`."""
        while not self._closed:
            await self._wake.wait()
            self._wake = trio.Event()
            try:
                await self._flush()
            except Exception:
                log.exception("could not store failed segments; retrying")
                await trio.sleep(RETRY_S)
                self._wake.set()

    async def close(self, reason: str) -> None:
        """Write everything left and fail the session's pending segments with `reason`."""
        self._closed = True
        self._wake.set()
        await self._flush()
        async with self._lock:
            await self._recorder.record(fail_pending_segments, self._session_id, reason)

    async def _flush(self) -> None:
        async with self._lock:
            while self._queue:
                segment_id, seq, start, end, reason = self._queue[0]
                await self._recorder.record(
                    store_failed_segment, segment_id, self._session_id, seq, start, end, reason
                )
                self._queue.popleft()
