"""The per-balcão session supervisor: wires the pipeline's channels and supervises its actors.

    receiver → decoder → vad → transcriber → advisor → sender

Only this module creates channels. Each link is bounded; the policy for now is `block` everywhere,
so a slow stage pushes back upstream until the socket's TCP window closes (STACK-NOTES Q4) and
memory per session stays bounded whatever a provider does. Every actor incarnation gets clones of
the same channel ends, so one actor can be restarted without its neighbours noticing; the
supervisor holds the originals and closes a finished actor's ends so end-of-stream flows on.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import trio

from actors.advisor import run_advisor
from actors.context import ActorContext, ActorHealth, SessionInfo, SessionStats
from actors.decoder import run_decoder
from actors.ports import DeviceLink
from actors.receiver import run_receiver
from actors.sender import run_sender
from actors.transcriber import run_transcriber
from actors.vad import run_vad
from balto.catalog import Catalog
from balto.config import Settings
from balto.messages import AudioChunk, PcmFrame, Recommendation, Segment, Transcript
from balto.providers.ports import Advisor, SpeechToText
from balto.store import Database
from supervisors.supervisor import ChildSpec, Supervisor

# Link capacities (items). Each is the most a stage may run ahead of the next one.
CHUNK_BUFFER = 16  # device frames: ~4 s of 250 ms chunks before the socket is pushed back
PCM_BUFFER = 32  # decoded blocks; ffmpeg emits per Opus packet (20 ms), so ~0.6–4 s
SEGMENT_BUFFER = 8  # speech segments waiting for STT: a minute of talk at worst
TRANSCRIPT_BUFFER = 8  # the advisor answers in well under a second per utterance
RECOMMENDATION_BUFFER = 8  # the device reads them as they come

ACTORS = ("receiver", "decoder", "vad", "transcriber", "advisor", "sender")


@dataclass(frozen=True, slots=True)
class Pipeline:
    """What a session's actors need from the process: storage, providers, catalog, settings."""

    db: Database
    stt: Sequence[SpeechToText]
    stt_missing: str | None
    advisors: Sequence[Advisor]
    catalog: Catalog
    settings: Settings


@dataclass(slots=True)
class Session:
    """One live device session: identity, per-actor health and counters."""

    info: SessionInfo
    connected_at: float = field(default_factory=time.time)
    stats: SessionStats = field(default_factory=SessionStats)
    health: dict[str, ActorHealth] = field(
        default_factory=lambda: {name: ActorHealth(name) for name in ACTORS}
    )

    def context(self, name: str) -> ActorContext:
        """The context handed to actor `name`."""
        return ActorContext(self.info, self.health[name], self.stats)

    def snapshot(self) -> dict[str, object]:
        """A JSON-ready view for admins."""
        now = time.time()
        return {
            "session_id": self.info.session_id,
            "balcao_id": self.info.balcao_id,
            "nome_balcao": self.info.nome_balcao,
            "connected_since": self.connected_at,
            "audio_format": self.stats.audio_format,
            "audio_seconds": round(self.stats.audio_seconds, 3),
            "lag_s": round(max(0.0, now - self.connected_at - self.stats.audio_seconds), 3),
            "segments": self.health["vad"].messages_out,
            "transcripts": self.health["transcriber"].messages_out,
            "recommendations": self.health["advisor"].messages_out,
            "actors": [self.health[name].snapshot() for name in ACTORS],
        }


_End = trio.MemorySendChannel[Any] | trio.MemoryReceiveChannel[Any]


def _spec(
    session: Session, name: str, start: Callable[[ActorContext], Awaitable[None]], *ends: _End
) -> ChildSpec:
    """A child spec whose normal exit closes the supervisor's originals of the actor's ends."""

    def close_ends() -> None:
        for end in ends:
            end.close()

    ctx = session.context(name)
    return ChildSpec(name=name, start=lambda: start(ctx), health=ctx.health, on_exit=close_ends)


async def run_session(session: Session, device: DeviceLink, pipeline: Pipeline) -> None:
    """Run the pipeline until the device leaves and every stage has drained.

    Raises `supervisors.supervisor.Escalation` (inside an ExceptionGroup) when an actor cannot be
    kept up.
    """
    chunk_tx, chunk_rx = trio.open_memory_channel[AudioChunk](CHUNK_BUFFER)
    pcm_tx, pcm_rx = trio.open_memory_channel[PcmFrame](PCM_BUFFER)
    seg_tx, seg_rx = trio.open_memory_channel[Segment](SEGMENT_BUFFER)
    text_tx, text_rx = trio.open_memory_channel[Transcript](TRANSCRIPT_BUFFER)
    rec_tx, rec_rx = trio.open_memory_channel[Recommendation](RECOMMENDATION_BUFFER)
    cfg = pipeline.settings
    specs = [
        _spec(
            session,
            "receiver",
            lambda ctx: run_receiver(chunk_tx.clone(), ctx, device=device),
            chunk_tx,
        ),
        _spec(
            session,
            "decoder",
            lambda ctx: run_decoder(chunk_rx.clone(), pcm_tx.clone(), ctx),
            chunk_rx,
            pcm_tx,
        ),
        _spec(
            session,
            "vad",
            lambda ctx: run_vad(
                pcm_rx.clone(),
                seg_tx.clone(),
                ctx,
                pause_s=cfg.vad_pause_s,
                max_segment_s=cfg.vad_max_segment_s,
            ),
            pcm_rx,
            seg_tx,
        ),
        _spec(
            session,
            "transcriber",
            lambda ctx: run_transcriber(
                seg_rx.clone(),
                text_tx.clone(),
                ctx,
                stt=pipeline.stt,
                db=pipeline.db,
                missing_reason=pipeline.stt_missing,
            ),
            seg_rx,
            text_tx,
        ),
        _spec(
            session,
            "advisor",
            lambda ctx: run_advisor(
                text_rx.clone(),
                rec_tx.clone(),
                ctx,
                advisors=pipeline.advisors,
                catalog=pipeline.catalog,
                db=pipeline.db,
            ),
            text_rx,
            rec_tx,
        ),
        _spec(
            session,
            "sender",
            lambda ctx: run_sender(rec_rx.clone(), ctx, device=device, db=pipeline.db),
            rec_rx,
        ),
    ]
    await Supervisor(specs).run()
