"""Advisor: `Transcript`s in, `Recommendation`s (and referral `Alert`s) out.

Keeps a rolling dialogue window (one turn per utterance) and, for each new utterance:
1. Red flags first (`balto.providers.red_flags`): chest pain, shortness of breath, stroke signs,
   fever in a baby, … produce a referral `Alert` for the attendant, once per sign per session,
   and no product is suggested while the sign is in the window.
2. Otherwise, unless a recommendation was shown less than `cooldown_s` ago, the advisors are asked
   in order (guarded LLMs first, the catalog advisor last); the first that answers decides.
3. The answer is validated against the catalog of the session's cliente (its imported catalog, or
   the default): a product that is not in it, or needs a prescription, is dropped and logged.
4. A product already suggested in this session is not suggested again.

Text reaching here is already redacted by the transcriber; it is redacted again (idempotent) so
nothing personal can reach an LLM whatever feeds this actor.
"""

from __future__ import annotations

import uuid
from collections import deque
from collections.abc import Sequence

import trio

from actors._calls import record_failed_attempts, record_failure
from actors.context import ActorContext, ActorState
from balto.catalog import Catalog, normalize
from balto.errors import ProviderError
from balto.messages import Alert, Recommendation, Transcript
from balto.providers import red_flags
from balto.providers.ports import AdviceResult, Advisor, Turn
from balto.providers.redaction import redact
from balto.store import Database
from balto.store.advice import add_alert, load_cliente_catalog
from balto.store.sessions import ProviderCall, add_provider_call, add_recommendation

WINDOW_S = 120.0  # a counter conversation rarely runs longer; older talk is another customer
MAX_TURNS = 16  # bounds the prompt size whatever the window holds
# Two suggestions less than this apart would replace each other on the screen before the
# attendant has read the first.
DEFAULT_COOLDOWN_S = 2.0


async def run_advisor(
    inbox: trio.abc.ReceiveChannel[Transcript],
    outbox: trio.abc.SendChannel[Recommendation],
    ctx: ActorContext,
    *,
    advisors: Sequence[Advisor],
    catalog: Catalog,
    db: Database,
    cooldown_s: float = DEFAULT_COOLDOWN_S,
) -> None:
    """Advise on every new utterance.

    Args:
        inbox: Transcripts from the transcriber.
        outbox: Recommendations and alerts for the sender.
        ctx: The actor's context.
        advisors: Advisors in failover order (the catalog advisor last).
        catalog: The default catalog; the cliente's imported one replaces it.
        db: Storage.
        cooldown_s: Least time between two recommendations shown (alerts are never held back).
    """
    ctx.health.state = ActorState.RUNNING
    catalog = await _cliente_catalog(ctx, db) or catalog
    dialogue: deque[Turn] = deque(maxlen=MAX_TURNS)
    suggested: set[str] = set()
    alerted: set[str] = set()
    last_shown: float | None = None
    async with inbox, outbox:
        async for transcript in inbox:
            ctx.took()
            text = redact(transcript.text)
            dialogue.append(Turn(text, None, transcript.start, transcript.end))
            while dialogue and dialogue[-1].end - dialogue[0].end > WINDOW_S:
                dialogue.popleft()
            flag = red_flags.detect(list(dialogue))
            if flag is not None:
                if flag.code in alerted:
                    ctx.log.info("red flag %s still in the window: no product", flag.code)
                    continue
                alerted.add(flag.code)
                await _send_alert(flag, transcript, text, ctx, db, outbox)
                continue
            if last_shown is not None and trio.current_time() - last_shown < cooldown_s:
                ctx.log.info("cooldown: no advice %.2f s after the last one", cooldown_s)
                continue
            started = trio.current_time()
            advice = await _advise(list(dialogue), advisors, catalog, ctx, db, transcript)
            ctx.health.busy_s += trio.current_time() - started
            produto = _vet(advice, catalog, ctx)
            if advice is None or produto is None:
                continue
            key = normalize(produto)
            if key in suggested:
                ctx.log.info("not repeating %r in this session", produto)
                continue
            suggested.add(key)
            rec = Recommendation(
                id=str(uuid.uuid4()),
                produto=produto,
                explicacao=advice.explicacao.strip() or _explanation(produto, catalog),
                transcricao_base=text,
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
            last_shown = trio.current_time()
            ctx.gave()


async def _cliente_catalog(ctx: ActorContext, db: Database) -> Catalog | None:
    """The cliente's imported catalog, if it has one."""
    try:
        uuid.UUID(ctx.session.cliente_id)
    except ValueError:
        return None
    return await db.run(load_cliente_catalog, ctx.session.cliente_id)


async def _send_alert(
    flag: red_flags.RedFlag,
    transcript: Transcript,
    text: str,
    ctx: ActorContext,
    db: Database,
    outbox: trio.abc.SendChannel[Recommendation],
) -> None:
    """Store and send the referral alert for `flag`."""
    alert = Alert(
        id=str(uuid.uuid4()),
        produto="",
        explicacao=flag.orientacao,
        transcricao_base=text,
        atendente=None,
        source="red_flags",
        segment_id=transcript.segment_id,
        sinal=flag.code,
        motivo=flag.motivo,
    )
    ctx.log.warning("red flag %s: referral alert instead of a product", flag.code)
    await db.run(
        add_alert,
        alert_id=alert.id,
        session_id=ctx.session.session_id,
        segment_id=alert.segment_id,
        sinal=alert.sinal,
        motivo=alert.motivo,
        orientacao=alert.explicacao,
        transcricao_base=text,
    )
    await outbox.send(alert)
    ctx.gave()


def _vet(advice: AdviceResult | None, catalog: Catalog, ctx: ActorContext) -> str | None:
    """The canonical catalog name of the advised product, or None when it may not be shown."""
    if advice is None or advice.produto is None:
        return None
    if not isinstance(advice.produto, str) or not isinstance(advice.explicacao, str):
        ctx.log.warning("dropped an answer from %s that breaks the schema", advice.provider)
        return None
    product = catalog.find(advice.produto)
    if product is None:
        ctx.log.warning("dropped %r from %s: not in the catalog", advice.produto, advice.provider)
        return None
    if product.prescription_only:
        ctx.log.warning("dropped %r from %s: needs a prescription", product.nome, advice.provider)
        return None
    return product.nome


def _explanation(produto: str, catalog: Catalog) -> str:
    product = catalog.find(produto)
    return product.explicacao if product is not None else ""


async def _advise(
    dialogue: list[Turn],
    advisors: Sequence[Advisor],
    catalog: Catalog,
    ctx: ActorContext,
    db: Database,
    transcript: Transcript,
) -> AdviceResult | None:
    """The first answer from the advisors in order; every attempt is accounted."""
    session_id = ctx.session.session_id
    for advisor in advisors:
        started = trio.current_time()
        try:
            advice = await advisor.advise(dialogue, catalog)
        except ProviderError as exc:
            ctx.health.last_error = f"ProviderError: {exc}"
            ctx.log.warning("advisor %s failed: %s", advisor.name, exc)
            await record_failure(
                db,
                "llm",
                advisor.model,
                exc,
                trio.current_time() - started,
                session_id=session_id,
                segment_id=transcript.segment_id,
            )
            continue
        await record_failed_attempts(
            db,
            "llm",
            advice.model,
            advice.failed_attempts,
            session_id=session_id,
            segment_id=transcript.segment_id,
        )
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
