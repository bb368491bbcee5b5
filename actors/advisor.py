"""Advisor: `Transcript`s in, `Recommendation`s out.

Keeps a rolling dialogue window and asks the configured advisors in order (LLMs first, the catalog
advisor last); the first that answers decides. A product already suggested in this session is not
suggested again, so the attendant's screen is not spammed.
"""

from __future__ import annotations

import uuid
from collections import deque
from collections.abc import Sequence

import trio

from actors.context import ActorContext, ActorState
from balto.catalog import Catalog, normalize
from balto.errors import ProviderError
from balto.messages import Recommendation, Transcript
from balto.providers.ports import AdviceResult, Advisor, Turn
from balto.store import Database
from balto.store.sessions import ProviderCall, add_provider_call, add_recommendation

WINDOW_S = 120.0  # a counter conversation rarely runs longer; older talk is another customer
MAX_TURNS = 16  # bounds the prompt size whatever the window holds


async def run_advisor(
    inbox: trio.abc.ReceiveChannel[Transcript],
    outbox: trio.abc.SendChannel[Recommendation],
    ctx: ActorContext,
    *,
    advisors: Sequence[Advisor],
    catalog: Catalog,
    db: Database,
) -> None:
    """Advise on every new utterance."""
    ctx.health.state = ActorState.RUNNING
    dialogue: deque[Turn] = deque(maxlen=MAX_TURNS)
    suggested: set[str] = set()
    async with inbox, outbox:
        async for transcript in inbox:
            ctx.took()
            dialogue.append(Turn(transcript.text, None, transcript.start, transcript.end))
            while dialogue and dialogue[-1].end - dialogue[0].end > WINDOW_S:
                dialogue.popleft()
            started = trio.current_time()
            advice = await _advise(list(dialogue), advisors, catalog, ctx, db, transcript)
            ctx.health.busy_s += trio.current_time() - started
            if advice is None or advice.produto is None:
                continue
            key = normalize(advice.produto)
            if key in suggested:
                ctx.log.info("not repeating %r in this session", advice.produto)
                continue
            suggested.add(key)
            rec = Recommendation(
                id=str(uuid.uuid4()),
                produto=advice.produto,
                explicacao=advice.explicacao,
                transcricao_base=transcript.text,
                atendente=None,
                source=advice.provider,
                segment_id=transcript.segment_id,
            )
            await db.run(
                add_recommendation,
                recommendation_id=rec.id,
                session_id=ctx.session.session_id,
                segment_id=rec.segment_id,
                produto=rec.produto,
                explicacao=rec.explicacao,
                transcricao_base=rec.transcricao_base,
                atendente=rec.atendente,
                source=rec.source,
            )
            await outbox.send(rec)
            ctx.gave()


async def _advise(
    dialogue: list[Turn],
    advisors: Sequence[Advisor],
    catalog: Catalog,
    ctx: ActorContext,
    db: Database,
    transcript: Transcript,
) -> AdviceResult | None:
    session_id = ctx.session.session_id
    for advisor in advisors:
        started = trio.current_time()
        try:
            advice = await advisor.advise(dialogue, catalog)
        except ProviderError as exc:
            ctx.health.last_error = f"ProviderError: {exc}"
            ctx.log.warning("advisor %s failed: %s", advisor.name, exc)
            latency = trio.current_time() - started
            call = ProviderCall.failed("llm", advisor.model, latency, exc)
            await db.run(
                add_provider_call, call, session_id=session_id, segment_id=transcript.segment_id
            )
            continue
        call = ProviderCall(
            kind="llm",
            provider=advice.provider,
            model=advice.model,
            ok=True,
            latency_ms=advice.latency_s * 1000,
            cost_usd=advice.cost_usd,
            input_tokens=advice.input_tokens,
            output_tokens=advice.output_tokens,
        )
        await db.run(
            add_provider_call, call, session_id=session_id, segment_id=transcript.segment_id
        )
        return advice
    return None
