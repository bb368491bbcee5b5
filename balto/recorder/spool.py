"""The spool: an append-only file of recorder events kept while the database is away.

Files, under ``BALTO_DATA_DIR``:
- ``recorder.spool``: one JSON event per line (`balto.recorder.events.Event.to_line`), appended
  and fsync'd before the writers are told their event is safe.
- ``recorder.cursor``: the byte offset of the first event not yet replayed, replaced atomically
  (write, fsync, rename) after each replayed batch commits. A crash between the commit and the
  cursor replays that batch again, to no further effect (`balto.recorder.apply`).

When everything is replayed both are emptied. A torn last line (a crash mid-append) is cut off at
open: its writer was never told it was safe. The file is capped (``BALTO_SPOOL_MAX_MB``): past the
cap new events are dropped, counted and logged, because blocking would stall every session; so
are events the disk refuses (full or failing), and a cursor it refuses is kept in memory.

All methods are blocking file I/O: the recorder calls them from a worker thread, one at a time.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Sequence
from pathlib import Path

from balto.recorder.events import Event

log = logging.getLogger("balto.recorder")

SPOOL_NAME = "recorder.spool"
CURSOR_NAME = "recorder.cursor"
READ_CHUNK = 1 << 20  # bytes per read while replaying


class Spool:
    """One process's spool file and replay cursor (module docstring)."""

    def __init__(self, directory: Path, max_bytes: int) -> None:
        """Bind to `directory` (created on `open`); `max_bytes` caps the file."""
        self.path = directory / SPOOL_NAME
        self.cursor_path = directory / CURSOR_NAME
        self.max_bytes = max_bytes
        self.size = 0  # bytes in the file
        self.cursor = 0  # bytes already replayed
        self.pending_events = 0
        self.dropped = 0  # events refused past the cap (since this process started)
        self._fd = -1

    @property
    def pending(self) -> bool:
        """Whether events wait to be replayed."""
        return self.cursor < self.size

    def open(self) -> None:
        """Open (or create) the files; cut a torn tail; count what waits for replay."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        data = self.path.read_bytes()
        whole = data.rfind(b"\n") + 1
        if whole < len(data):
            log.warning("recorder spool: cut a torn last line (%d bytes)", len(data) - whole)
            os.ftruncate(self._fd, whole)
            os.fsync(self._fd)
        self.size = whole
        try:
            self.cursor = int(self.cursor_path.read_text().strip() or 0)
        except (OSError, ValueError):
            self.cursor = 0
        if self.cursor > self.size or data[self.cursor - 1 : self.cursor] not in (b"", b"\n"):
            log.warning(
                "recorder spool: cursor %d does not fit the file; replaying from 0", self.cursor
            )
            self.cursor = 0  # replayed events apply to no further effect (balto.recorder.apply)
        self.pending_events = data[self.cursor : whole].count(b"\n")
        if self.pending:
            log.warning(
                "recorder spool %s holds %d event(s) to replay", self.path, self.pending_events
            )

    def close(self) -> None:
        """Close the file (it stays on disk)."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def append(self, events: Sequence[Event]) -> int:
        """Append and fsync `events`, as many as the cap allows; how many were dropped."""
        lines = []
        room = self.max_bytes - self.size
        dropped = 0
        for event in events:
            line = event.to_line()
            if len(line) > room:
                dropped += 1
                continue
            room -= len(line)
            lines.append(line)
        if dropped:
            self.dropped += dropped
            log.error(
                "recorder spool full (%d bytes, cap %d): dropped %d event(s), %d so far",
                self.size,
                self.max_bytes,
                dropped,
                self.dropped,
            )
        if lines:
            self._relink_if_removed()
        if lines and not self._write_whole(b"".join(lines), len(lines)):
            return dropped + len(lines)
        return dropped

    def _relink_if_removed(self) -> None:
        """If the spool file was removed from under the process, write what waits to a new one.

        Appending to a removed file would keep events only as long as this process lives; the
        next process would find nothing to replay.
        """
        if os.fstat(self._fd).st_nlink > 0:
            return
        pending = os.pread(self._fd, self.size - self.cursor, self.cursor)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC, 0o600)
        except OSError as exc:
            log.error(
                "recorder spool: %s was removed and cannot be made again (%s)", self.path, exc
            )
            return
        os.close(self._fd)
        self._fd, self.size, self.cursor = fd, 0, 0
        with contextlib.suppress(OSError):
            self.cursor_path.unlink(missing_ok=True)
        if pending and not self._write_whole(pending, pending.count(b"\n"), replace=True):
            return
        log.warning(
            "recorder spool: %s was removed while in use; made it again with the %d event(s) "
            "still to replay",
            self.path,
            self.pending_events,
        )

    def _write_whole(self, blob: bytes, events: int, *, replace: bool = False) -> bool:
        """Append `blob` (`events` whole lines) and fsync; False when the disk refused it.

        A full or failing disk usually comes with the database away (it is often the same
        disk): these events are then lost, counted and logged, but the recorder, and every
        session with it, goes on. A partial write is cut off so the file stays whole lines.
        `replace`: the events are already counted as waiting (`_relink_if_removed`).
        """
        try:
            written = 0
            while written < len(blob):
                written += os.write(self._fd, blob[written:])
            os.fsync(self._fd)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, self.size)
            self.dropped += events
            if replace:
                self.pending_events = max(0, self.pending_events - events)
            log.error(
                "recorder spool: write failed (%s): dropped %d event(s), %d so far",
                exc,
                events,
                self.dropped,
            )
            return False
        self.size += len(blob)
        if not replace:
            self.pending_events += events
        return True

    def read(self, max_events: int) -> tuple[list[Event], int]:
        """Up to `max_events` events from the cursor, and the offset just after them.

        Read through the open file, not its path: a spool removed from under the process (a
        temp cleaner, an operator) still replays what this process holds.
        """
        events: list[Event] = []
        offset = self.cursor
        data = b""
        start = 0  # where the next line begins in `data`
        while len(events) < max_events and offset < self.size:
            end = data.find(b"\n", start)
            if end < 0:
                read_at = offset + len(data) - start
                chunk = os.pread(self._fd, min(READ_CHUNK, self.size - read_at), read_at)
                if not chunk:
                    break
                data = data[start:] + chunk
                start = 0
                continue
            line = data[start : end + 1]
            start = end + 1
            offset += len(line)
            try:
                events.append(Event.from_line(line))
            except (ValueError, KeyError, TypeError) as exc:
                log.error("recorder spool: unreadable line skipped (%s): %r", exc, line)
        return events, offset

    def advance(self, offset: int, replayed: int) -> None:
        """Record that everything before `offset` (`replayed` events) is in the database."""
        self.pending_events = max(0, self.pending_events - replayed)
        if offset >= self.size:
            # Empty the file first: a crash before the cursor goes leaves cursor > size, which
            # `open` reads as "start again" on an empty file.
            os.ftruncate(self._fd, 0)
            os.fsync(self._fd)
            self.size = self.cursor = self.pending_events = 0
            self.cursor_path.unlink(missing_ok=True)
            return
        self.cursor = offset
        tmp = self.cursor_path.with_suffix(".tmp")
        try:
            with tmp.open("w") as file:
                file.write(str(offset))
                file.flush()
                os.fsync(file.fileno())
            tmp.replace(self.cursor_path)
        except OSError as exc:
            # A full disk: the cursor is kept in memory; after a crash the batches since the
            # last cursor on disk replay again, to no further effect (balto.recorder.apply).
            log.error("recorder spool: cursor not saved (%s); kept in memory", exc)
