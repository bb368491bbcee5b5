"""The per-balcão session supervisor: wires the pipeline's links and supervises its actors.

    receiver → decoder → vad → transcriber → advisor → sender

Only this module creates links (`supervisors.links.Link`). Each is bounded, and its overflow
policy is chosen here with the reason (see `LINKS`). Every actor incarnation gets fresh ends of
the same links, so one actor can be restarted without its neighbours noticing; the supervisor
holds the originals and closes a finished actor's ends so end-of-stream flows on.

Strategy is one_for_one: links outlive incarnations, so restarting a neighbour would only throw
away its state (the VAD's open segment, the advisor's dialogue) for nothing. Ops restarts
restart every actor while the socket stays open.

Nothing the VAD emits is lost silently: a segment dropped by a full link, one that crashed the
transcriber twice, and any still queued when the session ends are stored as failed with why
(`supervisors.ledger.SegmentLedger`).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import trio

from actors.advisor import run_advisor
from actors.attendant import Attendant
from actors.context import ActorContext, ActorHealth, SessionInfo, SessionStats
from actors.customers import Customers
from actors.decoder import DecoderMemory, run_decoder
from actors.feedback import handle_command
from actors.ports import CatalogSource, DeviceLink, Recorder, VoiceNeed, VoiceSource
from actors.receiver import run_receiver
from actors.sender import run_sender
from actors.transcriber import run_transcriber
from actors.vad import run_vad
from balto.audio.workers import FrontEndPool
from balto.catalog import Catalog
from balto.config import Settings
from balto.messages import AudioChunk, AudioFrame, Recommendation, Segment, Transcript
from balto.providers.ports import Advisor, SpeechToText
from supervisors.faults import FaultPlan, FaultyAdvisor, FaultySpeechToText, SessionFaults
from supervisors.ledger import SegmentLedger
from supervisors.links import Link, Overflow
from supervisors.supervisor import ChildSpec, Supervisor
from supervisors.watched_device import WatchedDevice

ACTORS = ("receiver", "decoder", "vad", "transcriber", "advisor", "sender")


class LinkPlan(NamedTuple):
    """Capacity and overflow policy of one link, with the reason for both."""

    capacity: int
    overflow: Overflow
    reason: str


LINKS: dict[str, LinkPlan] = {
    "chunks": LinkPlan(
        16,
        Overflow.BLOCK,
        "~4 s of 250 ms device frames. Compressed audio cannot lose bytes mid-stream (the decoder "
        "would skip to the next Cluster), so a slow decoder pushes back on the socket (TCP), "
        "and a stuck one is the watchdog's business.",
    ),
    "pcm": LinkPlan(
        8,
        Overflow.BLOCK,
        "~2 s of decoded audio (the decoder sends one block per device chunk). Decoder and VAD "
        "are local and fast; dropping PCM would cut words out of segments.",
    ),
    "segments": LinkPlan(
        4,
        Overflow.DROP_OLDEST,
        "A stalled STT must not stall the audio path or let the session fall behind real time: "
        "past 4 waiting segments the oldest is dropped (stored as failed with the reason); "
        "stale speech is worth less than live speech at a counter.",
    ),
    "transcripts": LinkPlan(
        8,
        Overflow.DROP_OLDEST,
        "Transcripts are stored before they get here; a stalled LLM only loses advice on stale "
        "talk, and must not push back on the transcriber.",
    ),
    "recommendations": LinkPlan(
        8,
        Overflow.BLOCK,
        "Few and valuable; the sender's socket writes are bounded by the send timeout.",
    ),
}


@dataclass(frozen=True, slots=True)
class Pipeline:
    """What a session's actors need from the process: storage, providers, catalog, settings."""

    recorder: Recorder
    catalogs: CatalogSource | None
    stt: Sequence[SpeechToText]
    stt_missing: str | None
    advisors: Sequence[Advisor]
    catalog: Catalog
    settings: Settings
    front_ends: FrontEndPool | None = None
    voices: VoiceSource | None = None


@dataclass(slots=True)
class Session:
    """One live device session: identity, per-actor health, links and the supervisor."""

    info: SessionInfo
    connected_at: float = field(default_factory=time.time)
    stats: SessionStats = field(default_factory=SessionStats)
    health: dict[str, ActorHealth] = field(
        default_factory=lambda: {name: ActorHealth(name) for name in ACTORS}
    )
    links: dict[str, Link[Any]] = field(default_factory=dict)
    supervisor: Supervisor | None = None
    # Who the device says is at the counter; outlives actor restarts, like the links.
    attendant: Attendant = field(default_factory=Attendant)
    # Where the device said the next customer is served; outlives restarts too.
    customers: Customers = field(default_factory=Customers)

    def context(self, name: str) -> ActorContext:
        """The context handed to actor `name`."""
        return ActorContext(self.info, self.health[name], self.stats)

    def restart(self, reason: str) -> bool:
        """Restart every pipeline actor (ops); the socket stays open. False if not running."""
        return self.supervisor is not None and self.supervisor.request_restart(reason)

    @property
    def segments_emitted(self) -> int:
        """Segments the VAD has cut so far."""
        return self.health["vad"].messages_out

    @property
    def segments_dropped(self) -> int:
        """Segments a full link dropped so far."""
        link = self.links.get("segments")
        return link.dropped if link is not None else 0

    @property
    def restarts(self) -> int:
        """Actor restarts so far, all actors together."""
        return sum(h.restarts for h in self.health.values())

    def snapshot(self) -> dict[str, object]:
        """A JSON-ready view for admins."""
        now = time.time()
        return {
            "session_id": self.info.session_id,
            "balcao_id": self.info.balcao_id,
            "cliente_id": self.info.cliente_id,
            "nome_balcao": self.info.nome_balcao,
            "connected_since": self.connected_at,
            "audio_format": self.stats.audio_format,
            "audio_seconds": round(self.stats.audio_seconds, 3),
            # the audio clock runs behind the wall clock by whatever is queued or was lost
            "lag_s": round(max(0.0, now - self.connected_at - self.stats.audio_seconds), 3),
            "segments": self.segments_emitted,
            "transcripts": self.health["transcriber"].messages_out,
            "recommendations": self.health["advisor"].messages_out,
            "restarts": self.restarts,
            "links": {
                name: {
                    "capacity": link.capacity,
                    "policy": link.policy,
                    "depth": link.depth,
                    "dropped": link.dropped,
                    "poisoned": link.poisoned,
                }
                for name, link in self.links.items()
            },
            "actors": [self.health[name].snapshot() for name in ACTORS],
        }


_Start = Callable[[ActorContext], Awaitable[None]]


def _spec(
    session: Session,
    name: str,
    start: _Start,
    *,
    inbox: Link[Any] | WatchedDevice | None,
    outbox: Link[Any] | None,
) -> ChildSpec:
    """A child spec whose ends close when the actor is done for good."""

    def close_ends() -> None:
        if isinstance(inbox, Link):
            inbox.close_receiving()
        if outbox is not None:
            outbox.close_sending()

    ctx = session.context(name)
    return ChildSpec(
        name=name,
        start=lambda: start(ctx),
        health=ctx.health,
        on_exit=close_ends,
        on_interrupt=inbox.interrupted if inbox is not None else None,
        owes_progress_since=inbox.owes_progress_since if inbox is not None else None,
    )


def _links(session: Session, ledger: SegmentLedger, faults: SessionFaults | None) -> None:
    consumers = dict(zip(LINKS, ACTORS[1:], strict=True))
    for name, plan in LINKS.items():
        link: Link[Any] = Link(name, plan.capacity, plan.overflow)
        link.consumer = session.health[consumers[name]]
        link.faults = faults
        session.health[consumers[name]].inbox = link
        session.links[name] = link
    segments = session.links["segments"]
    segments.on_drop = ledger.failed
    segments.on_poison = ledger.failed


async def run_session(
    session: Session,
    device: DeviceLink,
    pipeline: Pipeline,
    *,
    faults: FaultPlan | None = None,
) -> None:
    """Run the pipeline until the device leaves and every stage has drained.

    Raises `supervisors.supervisor.Escalation` (inside an ExceptionGroup) when an actor cannot be
    kept up. However it ends, every segment the VAD emitted is stored, transcribed or failed.
    """
    cfg = pipeline.settings
    session_faults = faults.for_session(session.info.balcao_id) if faults is not None else None
    stt: Sequence[SpeechToText] = pipeline.stt
    advisors: Sequence[Advisor] = pipeline.advisors
    if session_faults is not None:
        stt = [FaultySpeechToText(p, session_faults) for p in stt]
        advisors = [FaultyAdvisor(a, session_faults) for a in advisors]
    ledger = SegmentLedger(pipeline.recorder, session.info.session_id)
    _links(session, ledger, session_faults)
    links = session.links
    chunks: Link[AudioChunk] = links["chunks"]
    pcm: Link[AudioFrame] = links["pcm"]
    segments: Link[Segment] = links["segments"]
    texts: Link[Transcript] = links["transcripts"]
    recs: Link[Recommendation] = links["recommendations"]
    watched = WatchedDevice(device, session.health["receiver"], session_faults)
    # The stream's header and clock outlive a decoder incarnation, so a restart resumes the stream.
    decoder_memory = DecoderMemory()
    # Whether anyone will score the voices: with nobody enrolled the front end skips embeddings.
    voice_need = VoiceNeed()
    specs = [
        _spec(
            session,
            "receiver",
            lambda ctx: run_receiver(
                chunks.sender(),
                ctx,
                device=watched,
                on_control=lambda command: handle_command(
                    command, ctx, pipeline.recorder, session.attendant, session.customers
                ),
            ),
            inbox=watched,
            outbox=chunks,
        ),
        _spec(
            session,
            "decoder",
            lambda ctx: run_decoder(
                chunks.receiver(),
                pcm.sender(),
                ctx,
                memory=decoder_memory,
                workers=pipeline.front_ends,
            ),
            inbox=chunks,
            outbox=pcm,
        ),
        _spec(
            session,
            "vad",
            lambda ctx: run_vad(
                pcm.receiver(),
                segments.sender(),
                ctx,
                pause_s=cfg.vad_pause_s,
                max_segment_s=cfg.vad_max_segment_s,
                denoise=cfg.vad_denoise,
                front_ends=pipeline.front_ends,
                voice_need=voice_need,
            ),
            inbox=pcm,
            outbox=segments,
        ),
        _spec(
            session,
            "transcriber",
            lambda ctx: run_transcriber(
                segments.receiver(),
                texts.sender(),
                ctx,
                stt=stt,
                recorder=pipeline.recorder,
                missing_reason=pipeline.stt_missing,
                compare_share=cfg.stt_compare_share,
                voices=pipeline.voices,
                voice_need=voice_need,
            ),
            inbox=segments,
            outbox=texts,
        ),
        _spec(
            session,
            "advisor",
            lambda ctx: run_advisor(
                texts.receiver(),
                recs.sender(),
                ctx,
                advisors=advisors,
                catalog=pipeline.catalog,
                recorder=pipeline.recorder,
                catalogs=pipeline.catalogs,
                cooldown_s=cfg.advice_cooldown_s,
                pause_s=cfg.advice_pause_s,
                attendant=session.attendant,
                customers=session.customers,
            ),
            inbox=texts,
            outbox=recs,
        ),
        _spec(
            session,
            "sender",
            lambda ctx: run_sender(
                recs.receiver(), ctx, device=watched, recorder=pipeline.recorder
            ),
            inbox=recs,
            outbox=None,
        ),
    ]
    session.supervisor = Supervisor(
        specs,
        intensity=cfg.restart_intensity,
        period=cfg.restart_period_s,
        hang_timeout=cfg.watchdog_s or None,
    )
    async with trio.open_nursery() as nursery:
        nursery.start_soon(ledger.run)
        try:
            await session.supervisor.run()
        finally:
            with trio.CancelScope(shield=True):
                for segment in segments.drain():
                    ledger.failed(segment, "session ended before transcription")
                await ledger.close("session ended before transcription finished")
