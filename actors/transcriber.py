"""Transcriber: `Segment`s in, `Transcript`s out, through the configured STT providers in order.

Every segment is stored before it is sent anywhere and ends as `transcribed` or `failed` with its
reason, so none is silently lost. With no STT provider configured the actor runs `degraded`: it
says so in its health and the log, and stores each segment as failed with that reason.
"""

from __future__ import annotations

from collections.abc import Sequence

import trio

from actors.context import ActorContext, ActorState
from balto.errors import ProviderError
from balto.messages import Segment, Transcript
from balto.providers.ports import SpeechToText
from balto.store import Database
from balto.store.sessions import (
    ProviderCall,
    add_provider_call,
    add_segment,
    segment_failed,
    segment_transcribed,
)


async def run_transcriber(
    inbox: trio.abc.ReceiveChannel[Segment],
    outbox: trio.abc.SendChannel[Transcript],
    ctx: ActorContext,
    *,
    stt: Sequence[SpeechToText],
    db: Database,
    missing_reason: str | None = None,
) -> None:
    """Transcribe each segment with the first provider that answers."""
    if stt:
        ctx.health.state = ActorState.RUNNING
    else:
        reason = missing_reason or "no STT provider configured"
        ctx.health.state = ActorState.DEGRADED
        ctx.health.detail = reason
        ctx.log.error("transcriber degraded: %s; segments are stored untranscribed", reason)
    session_id = ctx.session.session_id
    async with inbox, outbox:
        async for segment in inbox:
            ctx.took()
            await db.run(
                add_segment, segment.id, session_id, segment.seq, segment.start, segment.end
            )
            if not stt:
                await db.run(segment_failed, segment.id, f"stt_not_configured: {ctx.health.detail}")
                continue
            transcript = await _transcribe(segment, stt, ctx, db)
            if transcript is not None and transcript.text.strip():
                await outbox.send(transcript)
                ctx.gave()


async def _transcribe(
    segment: Segment, stt: Sequence[SpeechToText], ctx: ActorContext, db: Database
) -> Transcript | None:
    failures: list[str] = []
    session_id = ctx.session.session_id
    for provider in stt:
        started = trio.current_time()
        try:
            result = await provider.transcribe(segment.pcm, segment.sample_rate)
        except ProviderError as exc:
            failures.append(f"{exc.provider}: {exc.category.value}: {exc.message}")
            ctx.health.last_error = f"ProviderError: {exc}"
            ctx.log.warning("STT %s failed for segment %d: %s", provider.name, segment.seq, exc)
            latency = trio.current_time() - started
            call = ProviderCall.failed("stt", provider.model, latency, exc, segment.duration)
            await db.run(add_provider_call, call, session_id=session_id, segment_id=segment.id)
            continue
        finally:
            ctx.health.busy_s += trio.current_time() - started
        call = ProviderCall(
            kind="stt",
            provider=result.provider,
            model=result.model,
            ok=True,
            latency_ms=result.latency_s * 1000,
            cost_usd=result.cost_usd,
            audio_seconds=result.audio_seconds,
        )
        await db.run(add_provider_call, call, session_id=session_id, segment_id=segment.id)
        await db.run(segment_transcribed, segment.id, result.text, result.provider, result.language)
        return Transcript(
            segment_id=segment.id,
            text=result.text,
            provider=result.provider,
            start=segment.start,
            end=segment.end,
            language=result.language,
        )
    await db.run(segment_failed, segment.id, "; ".join(failures))
    return None
