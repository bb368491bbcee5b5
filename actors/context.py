"""What every actor gets besides its channels: identity, health counters and a logger."""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass, field
from typing import NoReturn, Protocol

import trio

from actors.histogram import Histogram


class ActorState(enum.StrEnum):
    """Lifecycle of one actor, as admins see it."""

    STARTING = "starting"
    RUNNING = "running"
    DEGRADED = "degraded"  # running, but without something it needs (e.g. no STT credentials)
    RESTARTING = "restarting"
    STOPPED = "stopped"
    FAILED = "failed"


class InboxGauge(Protocol):
    """What an actor's inbox tells admins: how full it is, how stale, what it dropped."""

    @property
    def capacity(self) -> int:
        """Items the link holds before its overflow policy applies."""
        ...

    @property
    def policy(self) -> str:
        """The overflow policy's name (`block` or `drop_oldest`)."""
        ...

    @property
    def depth(self) -> int:
        """Items queued now (including senders blocked on a full link)."""
        ...

    @property
    def dropped(self) -> int:
        """Items dropped by the overflow policy so far."""
        ...

    def oldest_age(self, now: float) -> float | None:
        """Seconds the oldest queued item has waited, or None when empty."""
        ...


@dataclass(slots=True)
class ActorHealth:
    """Live counters of one actor; written by the actor and its links, read by the registry.

    Times (`last_activity`, `last_error_at`) are on `trio.current_time()`; `snapshot` turns them
    into ages so they mean something outside the process.
    """

    name: str
    state: ActorState = ActorState.STARTING
    restarts: int = 0
    last_error: str | None = None
    last_error_type: str | None = None
    last_error_at: float | None = None
    detail: str | None = None
    messages_in: int = 0
    messages_out: int = 0
    busy_s: float = 0.0
    last_activity: float | None = None
    latency: Histogram = field(default_factory=Histogram)
    inbox: InboxGauge | None = None

    def record_error(self, exc: BaseException) -> None:
        """Remember `exc` as the last error (type and message)."""
        self.last_error_type = type(exc).__name__
        self.last_error = f"{self.last_error_type}: {exc}"
        self.last_error_at = trio.current_time()

    def snapshot(self) -> dict[str, object]:
        """A JSON-ready copy."""
        now = trio.current_time()
        inbox = self.inbox
        return {
            "name": self.name,
            "state": self.state.value,
            "restarts": self.restarts,
            "last_error": self.last_error,
            "last_error_type": self.last_error_type,
            "last_error_age_s": _age(now, self.last_error_at),
            "detail": self.detail,
            "messages_in": self.messages_in,
            "messages_out": self.messages_out,
            "queue_depth": inbox.depth if inbox else 0,
            "queue_capacity": inbox.capacity if inbox else None,
            "queue_policy": inbox.policy if inbox else None,
            "queue_dropped": inbox.dropped if inbox else 0,
            "oldest_item_age_s": _round(inbox.oldest_age(now)) if inbox else None,
            "busy_s": round(self.busy_s, 4),
            "latency": self.latency.snapshot(),
            "idle_s": _age(now, self.last_activity),
        }


def raise_sole_error(group: BaseExceptionGroup[BaseException]) -> NoReturn:
    """Raise the one error nested single-error groups wrap; `group` itself when it holds more.

    An actor's nurseries wrap what it raises, but the supervisor classifies an actor's error by
    its type: an actor raises this instead of the wrapper.
    """
    error: BaseException = group
    while isinstance(error, BaseExceptionGroup) and len(error.exceptions) == 1:
        error = error.exceptions[0]
    if error is group:
        raise group
    raise error from None


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _age(now: float, then: float | None) -> float | None:
    return None if then is None else round(now - then, 3)


@dataclass(frozen=True, slots=True)
class SessionInfo:
    """Who this session is for."""

    session_id: str
    balcao_id: str
    cliente_id: str
    nome_balcao: str


class SessionLogger(logging.LoggerAdapter[logging.Logger]):
    """Puts the balcão and session on each record as ``balcao_id`` / ``session_id`` attributes.

    Fields rather than a text prefix, so the JSON log (`balto.logs`) carries them as keys and the
    text log prints them in front of the message. Explicit here, not only from the context
    variables the device socket binds, because actors also run outside a socket (contract tests,
    benchmarks) and the attribute names are the whole contract with the formatter.
    """

    def __init__(self, logger: logging.Logger, session: SessionInfo) -> None:
        """Bind `logger` to `session`."""
        super().__init__(logger, {"balcao_id": session.balcao_id, "session_id": session.session_id})


@dataclass(slots=True)
class SessionStats:
    """Per-session facts the actors keep current (the decoder owns the audio fields)."""

    audio_format: str | None = None
    audio_seconds: float = 0.0


@dataclass(slots=True)
class ActorContext:
    """An actor's context: session identity, its own health record, session stats and logger."""

    session: SessionInfo
    health: ActorHealth
    stats: SessionStats = field(default_factory=SessionStats)
    log: logging.LoggerAdapter[logging.Logger] = field(init=False)

    def __post_init__(self) -> None:
        """Bind the logger to this actor and session."""
        self.log = SessionLogger(logging.getLogger(f"balto.actor.{self.health.name}"), self.session)

    def took(self) -> None:
        """Count one message in."""
        self.health.messages_in += 1
        self.health.last_activity = trio.current_time()

    def gave(self) -> None:
        """Count one message out."""
        self.health.messages_out += 1
        self.health.last_activity = trio.current_time()
