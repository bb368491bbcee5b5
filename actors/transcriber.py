"""Transcriber: `Segment`s in, `Transcript`s out, through the configured STT providers in order.

Every segment is stored and ends as `transcribed` or `failed` with its reason, so none is silently
lost. Its row is written while the first provider is already working on it: the insert waits its
turn for a pooled connection (up to ~25 ms at p99 with 100 sessions, docs/BENCHMARKS.md), which the
attendant would otherwise wait for too; nothing about the call is written before the row exists.
With no STT provider configured the actor runs `degraded`: it says so in its health and the log,
and stores each segment as failed with that reason.

Failover: the providers are tried in order; each one is normally guarded (retries, budget, circuit
breaker: `balto.providers.guard`), so a provider whose breaker is open is skipped at no cost. Every
attempt that reached a provider is accounted with its latency and cost. Text is redacted (CPF,
phone, e-mail) before it is stored or sent on, so personal data never reaches an LLM or the
database. A share of segments (`compare_share`) also goes to the next provider in the chain for
comparison, in the background, so comparison never delays the advisor.

Each segment's speaker (attendant or customer, by voice: `actors.speaker`) is labelled and
recorded right after its row, while the STT works, and travels on with its transcript.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import trio

from actors._calls import record_failed_attempts, record_failure
from actors.context import ActorContext, ActorState, raise_sole_error
from actors.ports import Recorder, VoiceNeed, VoiceSource
from actors.speaker import Label, SpeakerLabeller
from balto.errors import ProviderError
from balto.messages import Segment, Transcript
from balto.providers.ports import SpeechToText, SttResult
from balto.providers.redaction import redact
from balto.providers.wer import word_error_rate
from balto.store.advice import SttOutcome, add_comparison
from balto.store.sessions import (
    ProviderCall,
    add_provider_call,
    add_segment,
    segment_failed,
    segment_transcribed,
)

# Comparisons in flight per session; beyond this a segment is not compared (bounded memory and
# spend when the secondary is slow).
MAX_COMPARISONS_IN_FLIGHT = 2


async def run_transcriber(
    inbox: trio.abc.ReceiveChannel[Segment],
    outbox: trio.abc.SendChannel[Transcript],
    ctx: ActorContext,
    *,
    stt: Sequence[SpeechToText],
    recorder: Recorder,
    missing_reason: str | None = None,
    compare_share: float = 0.0,
    voices: VoiceSource | None = None,
    voice_need: VoiceNeed | None = None,
) -> None:
    """Transcribe each segment with the first provider that answers.

    Args:
        inbox: Segments from the VAD.
        outbox: Transcripts (redacted) for the advisor.
        ctx: The actor's context.
        stt: Providers in failover order.
        recorder: Where segments, transcripts and provider calls are recorded.
        missing_reason: Why `stt` is empty, for health and the stored failure reason.
        compare_share: Fraction (0–1) of transcribed segments also sent to the next provider in
            the chain, both transcripts stored with the word error rate between them.
        voices: The clientes' enrolled voices, to label each segment's speaker (None: no labels).
        voice_need: Set to whether the cliente has enrolled voices (the VAD skips embeddings
            nobody would score).
    """
    if stt:
        ctx.health.state = ActorState.RUNNING
    else:
        reason = missing_reason or "no STT provider configured"
        ctx.health.state = ActorState.DEGRADED
        ctx.health.detail = reason
        ctx.log.error("transcriber degraded: %s; segments are stored untranscribed", reason)
    try:
        # The comparisons' nursery is outermost, so end-of-stream reaches the advisor at once and
        # only the actor's exit waits for comparisons still in flight.
        async with trio.open_nursery() as comparisons:
            labeller = SpeakerLabeller(voices, ctx, recorder, voice_need)
            await _loop(inbox, outbox, ctx, stt, recorder, compare_share, comparisons, labeller)
    except BaseExceptionGroup as group:
        # The supervisor classifies an actor's error by its type (a permanent ProviderError
        # escalates); hand it the error itself, not the nurseries' wrappers.
        raise_sole_error(group)


async def _loop(
    inbox: trio.abc.ReceiveChannel[Segment],
    outbox: trio.abc.SendChannel[Transcript],
    ctx: ActorContext,
    stt: Sequence[SpeechToText],
    recorder: Recorder,
    compare_share: float,
    comparisons: trio.Nursery,
    labeller: SpeakerLabeller,
) -> None:
    session_id = ctx.session.session_id
    transcribed = 0
    async with inbox, outbox:
        async for segment in inbox:
            ctx.took()
            stored = trio.Event()
            labels: list[Label] = []

            async def store(
                segment: Segment = segment,
                stored: trio.Event = stored,
                labels: list[Label] = labels,
            ) -> None:
                await recorder.record(
                    add_segment, segment.id, session_id, segment.seq, segment.start, segment.end
                )
                stored.set()
                labels.append(await labeller.label(segment))

            # A failed insert raises out of this nursery and cancels the provider call with it.
            async with trio.open_nursery() as storing:
                storing.start_soon(store)
                if not stt:
                    await stored.wait()
                    reason = f"stt_not_configured: {ctx.health.detail}"
                    await recorder.record(segment_failed, segment.id, reason)
                    continue
                answered = await _transcribe(segment, stt, ctx, recorder, stored)
            if answered is None:
                continue
            provider, result, text = answered
            transcribed += 1
            if _selected(transcribed, compare_share):
                secondary = next((p for p in stt if p is not provider), None)
                in_flight = len(comparisons.child_tasks)
                if secondary is not None and in_flight < MAX_COMPARISONS_IN_FLIGHT:
                    comparisons.start_soon(
                        _compare, segment, result, text, secondary, ctx, recorder
                    )
            if text.strip():
                await outbox.send(
                    Transcript(
                        segment_id=segment.id,
                        text=text,
                        provider=result.provider,
                        start=segment.start,
                        end=segment.end,
                        language=result.language,
                        falante=labels[0].who.falante if labels else None,
                        atendente=labels[0].atendente if labels else None,
                    )
                )
                ctx.gave()


def _selected(n: int, share: float) -> bool:
    """Whether the `n`-th transcribed segment (from 1) is compared: evenly spread, deterministic."""
    return share > 0 and math.floor(n * share + 1e-9) > math.floor((n - 1) * share + 1e-9)


async def _transcribe(
    segment: Segment,
    stt: Sequence[SpeechToText],
    ctx: ActorContext,
    recorder: Recorder,
    stored: trio.Event,
) -> tuple[SpeechToText, SttResult, str] | None:
    """The provider that answered, its result and the redacted text; None when all failed.

    Rows about the segment are written only once `stored` is set (its own row exists).
    """
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
            await stored.wait()
            await record_failure(
                recorder,
                "stt",
                provider.model,
                exc,
                trio.current_time() - started,
                session_id=session_id,
                segment_id=segment.id,
                audio_seconds=segment.duration,
            )
            continue
        finally:
            ctx.health.busy_s += trio.current_time() - started
        await stored.wait()
        await _account(result, segment, ctx, recorder)
        text = redact(result.text)
        await recorder.record(
            segment_transcribed, segment.id, text, result.provider, result.language
        )
        return provider, result, text
    await stored.wait()
    await recorder.record(segment_failed, segment.id, "; ".join(failures))
    return None


async def _account(
    result: SttResult, segment: Segment, ctx: ActorContext, recorder: Recorder
) -> None:
    """Store the failed attempts before `result` and the successful call itself."""
    session_id = ctx.session.session_id
    await record_failed_attempts(
        recorder,
        "stt",
        result.model,
        result.failed_attempts,
        session_id=session_id,
        segment_id=segment.id,
        audio_seconds=segment.duration,
    )
    call = ProviderCall(
        kind="stt",
        provider=result.provider,
        model=result.model,
        ok=True,
        latency_ms=result.latency_s * 1000,
        cost_usd=result.cost_usd,
        audio_seconds=result.audio_seconds,
    )
    await recorder.record(add_provider_call, call, session_id=session_id, segment_id=segment.id)


async def _compare(
    segment: Segment,
    primary: SttResult,
    primary_text: str,
    secondary: SpeechToText,
    ctx: ActorContext,
    recorder: Recorder,
) -> None:
    """Transcribe `segment` with `secondary` too; store both texts, latencies, costs and the WER."""
    started = trio.current_time()
    try:
        result = await secondary.transcribe(segment.pcm, segment.sample_rate)
    except ProviderError as exc:
        latency = trio.current_time() - started
        ctx.log.info(
            "comparison with %s failed for segment %d: %s", secondary.name, segment.seq, exc
        )
        await record_failure(
            recorder,
            "stt",
            secondary.model,
            exc,
            latency,
            session_id=ctx.session.session_id,
            segment_id=segment.id,
            audio_seconds=segment.duration,
        )
        other = SttOutcome(exc.provider, secondary.model, None, latency * 1000, 0.0, str(exc))
        wer = None
    else:
        await _account(result, segment, ctx, recorder)
        text = redact(result.text)
        other = SttOutcome(
            result.provider, result.model, text, result.latency_s * 1000, result.cost_usd
        )
        wer = word_error_rate(primary_text, text)
    await recorder.record(
        add_comparison,
        session_id=ctx.session.session_id,
        segment_id=segment.id,
        primary=SttOutcome(
            primary.provider,
            primary.model,
            primary_text,
            primary.latency_s * 1000,
            primary.cost_usd,
        ),
        secondary=other,
        wer=wer,
    )
