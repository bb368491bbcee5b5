"""Logging for the process: human lines or one JSON object per line, tagged with balcão and session.

In: `logging` records from anywhere in the process. The balcão and session a record belongs to come
from the record itself (``extra={"balcao_id": …, "session_id": …}``, as the actors' loggers pass
them) or else from two context variables that the device socket binds for a session's lifetime with
`bind_session`; Trio copies the spawning task's context into every new task, so the session's
supervisor and actors, and their restarted incarnations, log with the ids too.

Out: `configure_logging` installs one stderr handler in the chosen format (``text``, the default, or
``json``: ``{"time", "level", "logger", "message", "balcao_id"?, "session_id"?, "exc"?}``);
`capture_logs` is the test double that collects the JSON objects in a list. Raises nothing.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, TextIO

FORMATS = ("text", "json")
_NOISY = ("httpx", "httpcore", "openai", "hpack", "pgserver")  # their INFO is per request

balcao_id_var: ContextVar[str | None] = ContextVar("balto_balcao_id", default=None)
session_id_var: ContextVar[str | None] = ContextVar("balto_session_id", default=None)


@contextmanager
def bind_session(balcao_id: str, session_id: str) -> Iterator[None]:
    """Tag every record logged in this task, and in tasks it spawns, with the balcão and session."""
    balcao_token = balcao_id_var.set(balcao_id)
    session_token = session_id_var.set(session_id)
    try:
        yield
    finally:
        session_id_var.reset(session_token)
        balcao_id_var.reset(balcao_token)


class SessionContext(logging.Filter):
    """Stamps ``balcao_id`` / ``session_id`` on each record (None when outside a session).

    A handler filter, so it runs in the task that logs, where the context variables are the
    session's, whatever formatter (or capturing handler) comes after.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Fill the ids the record does not already carry; never drops a record."""
        if getattr(record, "balcao_id", None) is None:
            record.balcao_id = balcao_id_var.get()
        if getattr(record, "session_id", None) is None:
            record.session_id = session_id_var.get()
        return True


def _ids(record: logging.LogRecord) -> tuple[str | None, str | None]:
    return getattr(record, "balcao_id", None), getattr(record, "session_id", None)


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line (newlines inside values are escaped)."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as ``{"time", "level", "logger", "message", …}``."""
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        balcao_id, session_id = _ids(record)
        if balcao_id is not None:
            entry["balcao_id"] = balcao_id
        if session_id is not None:
            entry["session_id"] = session_id
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """The console format, with ``[balcao=… session=<8 chars>]`` before a session's messages."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        """Prefix the message with the session's ids when the record has them."""
        balcao_id, session_id = _ids(record)
        line = super().formatMessage(record)
        if balcao_id is None and session_id is None:
            return line
        head, sep, message = line.partition(f"{record.name}: ")
        short = session_id[:8] if session_id else None
        return f"{head}{sep}[balcao={balcao_id} session={short}] {message}"


def configure_logging(level: str, fmt: str = "text", stream: TextIO | None = None) -> None:
    """Send every record at `level` and above to `stream` (stderr) in `fmt` (``text``/``json``)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(SessionContext())
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for noisy in _NOISY:
        logging.getLogger(noisy).setLevel(logging.WARNING)


class _Collect(logging.Handler):
    def __init__(self, into: list[dict[str, Any]]) -> None:
        super().__init__()
        self.into = into
        self.addFilter(SessionContext())
        self.setFormatter(JsonFormatter())

    def emit(self, record: logging.LogRecord) -> None:
        self.into.append(json.loads(self.format(record)))


@contextmanager
def capture_logs(
    logger: str = "balto", level: int = logging.INFO
) -> Iterator[list[dict[str, Any]]]:
    """Collect `logger`'s records at `level` and above as the JSON objects the process would log.

    For tests: the list fills while the block runs; the logger's level is restored afterwards.
    """
    captured: list[dict[str, Any]] = []
    handler = _Collect(captured)
    target = logging.getLogger(logger)
    previous = target.level
    target.addHandler(handler)
    target.setLevel(level)
    try:
        yield captured
    finally:
        target.removeHandler(handler)
        target.setLevel(previous)
