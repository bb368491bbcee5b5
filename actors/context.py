"""What every actor gets besides its channels: identity, health counters and a logger."""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass, field

import trio


class ActorState(enum.StrEnum):
    """Lifecycle of one actor, as admins see it."""

    STARTING = "starting"
    RUNNING = "running"
    DEGRADED = "degraded"  # running, but without something it needs (e.g. no STT credentials)
    RESTARTING = "restarting"
    STOPPED = "stopped"
    FAILED = "failed"


@dataclass(slots=True)
class ActorHealth:
    """Live counters of one actor; written by the actor, read by the registry."""

    name: str
    state: ActorState = ActorState.STARTING
    restarts: int = 0
    last_error: str | None = None
    detail: str | None = None
    messages_in: int = 0
    messages_out: int = 0
    busy_s: float = 0.0
    last_activity: float | None = None

    def snapshot(self) -> dict[str, object]:
        """A JSON-ready copy."""
        return {
            "name": self.name,
            "state": self.state.value,
            "restarts": self.restarts,
            "last_error": self.last_error,
            "detail": self.detail,
            "messages_in": self.messages_in,
            "messages_out": self.messages_out,
            "busy_s": round(self.busy_s, 4),
            "last_activity": self.last_activity,
        }


@dataclass(frozen=True, slots=True)
class SessionInfo:
    """Who this session is for."""

    session_id: str
    balcao_id: str
    cliente_id: str
    nome_balcao: str


class SessionLogger(logging.LoggerAdapter[logging.Logger]):
    """Prefixes each line with the balcão and session, so one counter can be followed in the log."""

    def process(self, msg: object, kwargs: object) -> tuple[str, object]:  # type: ignore[override]  # LoggerAdapter's stub types kwargs as MutableMapping
        """Prefix the message."""
        extra = self.extra or {}
        return f"[balcao={extra.get('balcao')} session={extra.get('session')}] {msg}", kwargs


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
        base = logging.getLogger(f"balto.actor.{self.health.name}")
        self.log = SessionLogger(
            base, {"balcao": self.session.balcao_id, "session": self.session.session_id[:8]}
        )

    def took(self) -> None:
        """Count one message in."""
        self.health.messages_in += 1
        self.health.last_activity = trio.current_time()

    def gave(self) -> None:
        """Count one message out."""
        self.health.messages_out += 1
        self.health.last_activity = trio.current_time()
