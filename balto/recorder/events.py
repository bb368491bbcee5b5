"""Recorder events: one durable write, as a value that survives a restart.

An `Event` names a store function (a plain sync function of a connection from `balto.store`,
listed in `KINDS`) and the arguments to call it with, plus a unique id and the wall-clock time
it happened. It encodes to one line of JSON (the spool's format) and decodes back; the store
functions that take an ``at`` keyword get the event's time, so a row written by a replay carries
the time it happened, not the time it was replayed; those that take ``event_id`` (inserts of rows
with no key of their own) get the event's id, so applying an event twice inserts once. Every other
kind is idempotent by itself (inserts keyed on the row's UUID with ON CONFLICT DO NOTHING,
updates that set values), so re-applying a spooled suffix of events in order leaves the same rows.

Arguments must be JSON values or one of the dataclasses in `_DATACLASSES`; `Event.of` raises
`TypeError` at the call site otherwise, so a bad argument fails where it was written.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from balto.store.advice import (
    SttOutcome,
    add_alert,
    add_comparison,
    add_refusal,
    alert_sent,
    mark_new_atendimento,
    record_feedback,
    record_orientation,
    set_session_attendant,
)
from balto.store.em_falta import mark_from_recommendation
from balto.store.sessions import (
    ProviderCall,
    add_provider_call,
    add_recommendation,
    add_segment,
    close_session,
    open_session,
    recommendation_sent,
    segment_failed,
    segment_transcribed,
    withdraw_recommendation,
)
from balto.store.supervision import fail_pending_segments, record_supervision, store_failed_segment
from balto.store.voiceprints import set_segment_speaker

StoreFn = Callable[..., object]

# Every write a session makes. A function not listed here cannot be recorded (a spooled event
# must name something the next process can still call).
KINDS: Mapping[str, StoreFn] = {
    fn.__name__: fn
    for fn in (
        open_session,
        close_session,
        record_supervision,
        add_segment,
        segment_transcribed,
        segment_failed,
        store_failed_segment,
        fail_pending_segments,
        add_recommendation,
        recommendation_sent,
        withdraw_recommendation,
        add_alert,
        alert_sent,
        add_refusal,
        add_provider_call,
        add_comparison,
        set_session_attendant,
        record_feedback,
        record_orientation,
        mark_new_atendimento,
        mark_from_recommendation,
        set_segment_speaker,
    )
}
_DATACLASSES: Mapping[str, type[Any]] = {cls.__name__: cls for cls in (ProviderCall, SttOutcome)}
_TAG = "__dataclass__"
_TAKES_AT = frozenset(
    name for name, fn in KINDS.items() if "at" in inspect.signature(fn).parameters
)
_TAKES_ID = frozenset(
    name for name, fn in KINDS.items() if "event_id" in inspect.signature(fn).parameters
)


def _encode(value: object) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        name = type(value).__name__
        if name not in _DATACLASSES:
            raise TypeError(f"cannot record a {name}")
        fields = {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {_TAG: name, **fields}
    if isinstance(value, tuple | list):
        return [_encode(item) for item in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"cannot record a {type(value).__name__}")


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and _TAG in value:
        fields = {k: v for k, v in value.items() if k != _TAG}
        return _DATACLASSES[value[_TAG]](**fields)
    if isinstance(value, list):
        return [_decode(item) for item in value]
    return value


@dataclasses.dataclass(frozen=True, slots=True)
class Event:
    """One write to make: `kind` (a `KINDS` name) called with `args`/`kwargs`.

    Attributes:
        id: Unique (a UUID): the exactly-once key of rows with no key of their own.
        kind: The store function's name.
        at: When it happened (seconds since the epoch).
        args: Positional arguments after the connection, JSON-encoded.
        kwargs: Keyword arguments, JSON-encoded.
    """

    id: str
    kind: str
    at: float
    args: tuple[Any, ...]
    kwargs: Mapping[str, Any]

    @classmethod
    def of(cls, fn: StoreFn, args: tuple[object, ...], kwargs: Mapping[str, object]) -> Event:
        """The event of calling ``fn(conn, *args, **kwargs)`` now.

        Raises:
            TypeError: `fn` is not a recordable kind, or an argument cannot be encoded.
        """
        kind = getattr(fn, "__name__", "")
        if KINDS.get(kind) is not fn:
            raise TypeError(f"{kind or fn!r} is not a recorder event kind")
        return cls(
            id=str(uuid.uuid4()),
            kind=kind,
            at=time.time(),
            args=tuple(_encode(list(args))),
            kwargs={key: _encode(value) for key, value in kwargs.items()},
        )

    def to_line(self) -> bytes:
        """One spool line (JSON, newline-terminated)."""
        body = {"id": self.id, "kind": self.kind, "at": self.at, "args": list(self.args)}
        body["kwargs"] = dict(self.kwargs)
        text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
        try:
            return text.encode() + b"\n"
        except UnicodeEncodeError:
            # A lone surrogate that got past the edges: escaped, the line still reads back as the
            # same event (refused when applied) instead of stopping the recorder that spools it.
            return json.dumps(body, separators=(",", ":")).encode() + b"\n"

    @classmethod
    def from_line(cls, line: bytes) -> Event:
        """Decode a spool line (raises `ValueError`/`KeyError` on a corrupt one)."""
        body = json.loads(line)
        if body["kind"] not in KINDS:
            raise ValueError(f"unknown event kind {body['kind']!r}")
        return cls(
            id=str(body["id"]),
            kind=str(body["kind"]),
            at=float(body["at"]),
            args=tuple(body["args"]),
            kwargs=dict(body["kwargs"]),
        )

    def call(self, conn: Any) -> object:
        """Apply the write on `conn` (inside the caller's transaction); the function's result."""
        kwargs = {key: _decode(value) for key, value in self.kwargs.items()}
        if self.kind in _TAKES_AT:
            kwargs["at"] = datetime.fromtimestamp(self.at, UTC)
        if self.kind in _TAKES_ID:
            kwargs["event_id"] = self.id
        return KINDS[self.kind](conn, *_decode(list(self.args)), **kwargs)
