"""The ports the actors see: the device side of the pipeline, and the recorder."""

from __future__ import annotations

from collections.abc import Callable
from typing import Concatenate, ParamSpec, Protocol, TypeVar, runtime_checkable

import psycopg
import trio

from balto.catalog import Catalog
from balto.speaker.identify import Enrolled
from balto.store.em_falta import AdviceVersion

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
    """Where the advisor finds what a balcão sells (`balto.store.catalogs`).

    The cliente's imported catalog, and the products out of stock at the balcão's store.
    """

    async def cliente_catalog(self, cliente_id: str) -> Catalog | None:
        """The cliente's catalog; None when it has none, or it cannot be read now."""
        ...

    async def version(self, cliente_id: str, balcao_id: str | None = None) -> AdviceVersion | None:
        """What the balcão's advice is made from (catalog, stock, store); None if unreadable."""
        ...

    async def missing(self, cliente_id: str, balcao_id: str | None) -> frozenset[str] | None:
        """Normalized names out of stock at the balcão; None when it cannot be read now."""
        ...


class VoiceNeed:
    """What a session's stages share about voice embeddings: whether wanted, and the embeddings.

    The embeddings travel beside the segments rather than with them. The transcriber's labeller
    sets `wanted` from the cliente's enrolled voices at every segment; the VAD reads it at each
    cut. With nobody enrolled the embedding (~1.2 ms CPU per audio-second) is skipped; a
    voiceprint enrolled mid-session turns it back on from the next cut (the segment that saw it
    goes unlabelled: unknown, not wrong).

    Why beside the segment: the embedding is made after the segment has gone on to the STT
    (`expect`, then `deliver`), so the request is not held for it (capacity bench, N = 150 with an
    enrolled attendant: arrival → STT p99 337-718 ms when the cut waited for it, against 121-160
    with nobody enrolled); the labeller, which runs beside the STT call, waits for it (`voice`).
    """

    __slots__ = ("_voices", "wanted")

    def __init__(self) -> None:
        """Wanted until the labeller has looked (a session's first segment is embedded)."""
        self.wanted = True
        self._voices: dict[str, _Voice] = {}  # by segment id, oldest first

    def expect(self, segment_id: str) -> None:
        """A voice for `segment_id` is being made (the VAD, before handing the segment on)."""
        self._voices[segment_id] = _Voice()
        while len(self._voices) > _VOICES_KEPT:  # a labeller that never asks leaks nothing
            self._voices.pop(next(iter(self._voices))).settle(None)

    def deliver(self, segment_id: str, voice: bytes | None) -> None:
        """The voice made for `segment_id` (None: too little speech, or it could not be made)."""
        slot = self._voices.get(segment_id)
        if slot is not None:
            slot.settle(voice)

    async def voice(self, segment_id: str, timeout_s: float) -> bytes | None:
        """The voice of `segment_id`, waiting up to `timeout_s` for it; None when none comes.

        Kept after it is read: a segment handed again after a crash is labelled again.
        """
        slot = self._voices.get(segment_id)
        if slot is None:
            return None
        with trio.move_on_after(timeout_s):
            await slot.ready.wait()
        return slot.value


_VOICES_KEPT = 32  # segments in flight between the VAD and the labeller: a handful at most


class _Voice:
    """One segment's voice, once made."""

    __slots__ = ("ready", "value")

    def __init__(self) -> None:
        self.ready = trio.Event()
        self.value: bytes | None = None

    def settle(self, value: bytes | None) -> None:
        if not self.ready.is_set():
            self.value = value
            self.ready.set()


class VoiceSource(Protocol):
    """Where the transcriber finds a cliente's enrolled voices (`balto.speaker.source`)."""

    async def enrolled(self, cliente_id: str, balcao_id: str | None = None) -> tuple[Enrolled, ...]:
        """The cliente's attendants with a voiceprint now (empty: none, or unreadable).

        With `balcao_id`: at a balcão of a store (as it stands now), only that store's and the
        chain-wide ones.
        """
        ...
