"""The ports the actors see: the device side of the pipeline, and the recorder."""

from __future__ import annotations

from collections.abc import Callable
from typing import Concatenate, ParamSpec, Protocol, TypeVar, runtime_checkable

import psycopg

from balto.catalog import Catalog
from balto.speaker.identify import Enrolled

P = ParamSpec("P")
T_co = TypeVar("T_co", covariant=True)


@runtime_checkable
class Batching(Protocol[T_co]):
    """An inbox that can hand more items without waiting, after one taken by ``receive``.

    Raises `trio.WouldBlock` when none is ready to be batched, `trio.EndOfChannel` at the end:
    a Trio memory channel, or a supervised link (`supervisors.links.LinkReceiver`, which keeps
    the batch in flight for redelivery).
    """

    def receive_nowait(self) -> T_co:
        """The next item, if one can be taken now."""
        ...


class DeviceLink(Protocol):
    """One device's socket: frames in, text frames out.

    Both methods raise `balto.errors.DeviceGone` once the device has disconnected.
    """

    async def receive(self) -> bytes | str:
        """The next frame from the device."""
        ...

    async def send_text(self, text: str) -> None:
        """Send one text frame to the device."""
        ...


class Recorder(Protocol):
    """Where actors record what happened (`balto.recorder`): durable once `record` returns.

    `record` takes a store function of `balto.store` and its arguments, like `Database.run`,
    and never raises because the database is away (the server's recorder spools instead).
    """

    async def record(
        self,
        fn: Callable[Concatenate[psycopg.Connection, P], object],
        *args: P.args,
        **kw: P.kwargs,
    ) -> None:
        """Record ``fn(conn, *args, **kw)``."""
        ...


class CatalogSource(Protocol):
    """Where the advisor finds a cliente's imported catalog (`balto.store.catalogs`)."""

    async def cliente_catalog(self, cliente_id: str) -> Catalog | None:
        """The cliente's catalog; None when it has none, or it cannot be read now."""
        ...

    async def version(self, cliente_id: str) -> str | None:
        """The version of the cliente's catalog; None when it has none or it cannot be read."""
        ...


class VoiceNeed:
    """Whether a session's segments need their voice embedding: one flag the stages share.

    The transcriber's labeller sets it from the cliente's enrolled voices at every segment; the
    VAD reads it before each front-end call. With nobody enrolled the embedding (~1.2 ms CPU per
    audio-second in the front end) is skipped; a voiceprint enrolled mid-session turns it back on
    from the next front-end call (the segment that saw it goes unlabelled: unknown, not wrong).
    """

    __slots__ = ("wanted",)

    def __init__(self) -> None:
        """Wanted until the labeller has looked (a session's first segment is embedded)."""
        self.wanted = True


class VoiceSource(Protocol):
    """Where the transcriber finds a cliente's enrolled voices (`balto.speaker.source`)."""

    async def enrolled(self, cliente_id: str) -> tuple[Enrolled, ...]:
        """The cliente's attendants with a voiceprint now (empty: none, or unreadable)."""
        ...
