"""Who spoke each segment, for the transcriber: label, record, and remember the attendant.

In: `Segment`s and their voice embeddings (made in the front end after the cut, `balto.speaker`,
delivered through the session's `VoiceNeed`), and the
cliente's enrolled voices from a `VoiceSource`, read per segment (a voiceprint erased anywhere
stops being used at the next segment). Out: a `Label` per segment, recorded on the segment's row
(``falante``, ``atendente``, ``falante_score``). Scoring is a few 42 × 42 products per segment, on
the Trio thread (microseconds); the embedding's CPU was spent in the front-end worker.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from actors.context import ActorContext
from actors.ports import Recorder, VoiceNeed, VoiceSource
from balto.messages import Segment
from balto.speaker import embedding_of
from balto.speaker.identify import Identification, identify
from balto.store.voiceprints import set_segment_speaker

VOICE_WAIT_S = 5.0
"""Longest a segment's label waits for its voice embedding (made in ~10 ms; minutes of backlog
in a stuck worker would hold the transcript): then it is unknown."""


@dataclass(frozen=True, slots=True)
class Label:
    """One segment's speaker, and the attendant identified at the counter as of it."""

    who: Identification
    atendente: str | None


class SpeakerLabeller:
    """Labels one session's segments (one per transcriber incarnation)."""

    def __init__(
        self,
        voices: VoiceSource | None,
        ctx: ActorContext,
        recorder: Recorder,
        need: VoiceNeed | None = None,
    ) -> None:
        """Label against `voices` (None: nothing is labelled); keep `need` up to date."""
        self._voices = voices
        self._need = need or VoiceNeed()
        self._ctx = ctx
        self._recorder = recorder
        self._last: tuple[str, str] | None = None  # (id, name) of the last attendant identified
        try:
            uuid.UUID(ctx.session.cliente_id)
            self._cliente: str | None = ctx.session.cliente_id
        except ValueError:
            self._cliente = None
        if voices is None or self._cliente is None:
            self._need.wanted = False

    async def label(self, segment: Segment) -> Label:
        """Identify the speaker of `segment` and record it (its row must exist)."""
        if self._voices is None or self._cliente is None:
            return Label(Identification(), None)
        enrolled = await self._voices.enrolled(self._cliente, self._ctx.session.balcao_id)
        self._need.wanted = bool(enrolled)
        voice = segment.voice
        if voice is None and enrolled:  # made after the segment went on: the VAD delivers it
            voice = await self._need.voice(segment.id, VOICE_WAIT_S)
        who = identify(embedding_of(voice), enrolled)
        if who.falante == "atendente" and who.atendente_id is not None and who.nome is not None:
            self._last = (who.atendente_id, who.nome)
        elif self._last is not None and all(e.atendente_id != self._last[0] for e in enrolled):
            self._last = None  # erased or removed: forget her at once
        if who.score is not None:
            await self._recorder.record(
                set_segment_speaker, segment.id, who.falante, who.atendente_id, who.nome, who.score
            )
            self._ctx.log.info(
                "segment %d: falante %s%s (score %.2f)",
                segment.seq,
                who.falante or "desconhecido",
                f" ({who.nome})" if who.nome else "",
                who.score,
            )
        return Label(who, None if self._last is None else self._last[1])
