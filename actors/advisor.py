"""Advisor: `Transcript`s in, `Recommendation`s (and referral `Alert`s) out.

The decisions are `balto.advice.session.AdviceSession`'s (red flags first, then the needs the
dialogue shows, the advisor chain with fall-through on refused answers, a cooldown, no repeats);
this actor stores them and sends them on. For each utterance:
- new red flags → one `Alert` naming every new sign, stored and sent;
- every advisor call → a ``provider_calls`` row (attempts, latency, cost), and every refused
  answer → an ``advice_refusals`` row with why and what was said;
- a suggestion already shown to this customer that later words rule out (a pregnancy, an
  allergy: `balto.advice.cautions`) → a `Withdrawal` (the ``retirar`` frame), stored and sent
  before any replacement;
- a product → a `Recommendation`, stored and sent, with what the customer said that ruled
  products out (``cuidados``).

The cliente's imported catalog, and the products out of stock at this balcão's store, are read at
start and again whenever their version changed, checked before each utterance
(`actors.ports.CatalogSource.version`): an upload or a product marked missing reaches live
sessions at their next utterance, keeping what the session already suggested and alerted.

Each utterance belongs to a customer's service (*atendimento*): one that began after the device
said the next customer is served (`actors.customers`), or after a pause of `pause_s` with nothing
said, starts afresh (`AdviceSession.new_conversation`), and its segment is marked
(``segments.novo_atendimento``: ``balcao`` or ``pausa``) for the history.

Recommendations and alerts carry the attendant the device had declared when the utterance began
(`actors.attendant`), else the one identified by voice (`Transcript.atendente`); each turn of
the dialogue carries its speaker's role (`Transcript.falante`) for the advisors. Text reaching
here is already redacted by the transcriber; it is redacted again (idempotent) so nothing personal
can reach an LLM whatever feeds this actor.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import trio

from actors._calls import record_failed_attempts, record_failure
from actors.attendant import Attendant
from actors.context import ActorContext, ActorState
from actors.customers import Customers
from actors.ports import CatalogSource, Recorder
from balto.advice import chain
from balto.advice.session import DEFAULT_COOLDOWN_S, DEFAULT_PAUSE_S, AdviceSession
from balto.catalog import Catalog
from balto.messages import Alert, Recommendation, Transcript, Withdrawal
from balto.providers import red_flags
from balto.providers.ports import Advisor
from balto.providers.redaction import redact
from balto.store.advice import add_alert, add_refusal, mark_new_atendimento
from balto.store.em_falta import AdviceVersion
from balto.store.sessions import (
    ProviderCall,
    add_provider_call,
    add_recommendation,
    withdraw_recommendation,
)

_SENT_KEPT = 256  # products a session remembers having suggested (a shift's worth)


async def run_advisor(
    inbox: trio.abc.ReceiveChannel[Transcript],
    outbox: trio.abc.SendChannel[Recommendation],
    ctx: ActorContext,
    *,
    advisors: Sequence[Advisor],
    catalog: Catalog,
    recorder: Recorder,
    catalogs: CatalogSource | None = None,
    cooldown_s: float = DEFAULT_COOLDOWN_S,
    pause_s: float = DEFAULT_PAUSE_S,
    attendant: Attendant | None = None,
    customers: Customers | None = None,
) -> None:
    """Advise on every new utterance.

    Args:
        inbox: Transcripts from the transcriber.
        outbox: Recommendations and alerts for the sender.
        ctx: The actor's context.
        advisors: Advisors in failover order (the catalog advisor last).
        catalog: The default catalog; the cliente's imported one replaces it.
        recorder: Where alerts, recommendations, refusals and provider calls are recorded.
        catalogs: Where the cliente's imported catalog is read (None: the default only).
        cooldown_s: Least time between two recommendations shown (alerts are never held back).
        pause_s: Silence that ends an atendimento (0: only the device's command does).
        attendant: The session's declared attendant (read for each recommendation and alert).
        customers: Where the device said the next customer is served.
    """
    ctx.health.state = ActorState.RUNNING
    session = AdviceSession(catalog, advisors, cooldown_s, pause_s)
    version = await _refresh(ctx, catalogs, session, None, first=True)
    attendant = attendant or Attendant()
    customers = customers or Customers()
    # the product → the id of the last recommendation of it sent, to withdraw it by id
    sent: dict[str, str] = {}
    async with inbox, outbox:
        async for transcript in inbox:
            ctx.took()
            version = await _refresh(ctx, catalogs, session, version)
            text = redact(transcript.text)
            started = trio.current_time()
            current = customers.at(transcript.start)
            # against the last utterance heard, by this advisor or the one before a restart
            asked = customers.served is not None and current != customers.served
            if asked:
                session.new_conversation()
            customers.served = current
            decision = await session.hear(
                text, transcript.start, transcript.end, speaker=transcript.falante
            )
            if asked or decision.paused:
                await recorder.record(
                    mark_new_atendimento,
                    transcript.segment_id,
                    "balcao" if asked else "pausa",
                )
            # who was declared when the utterance began wins over the voice
            atendente = attendant.at(transcript.start) or transcript.atendente
            ctx.health.busy_s += trio.current_time() - started
            if decision.flags:
                await _send_alert(
                    decision.flags, transcript, text, atendente, ctx, recorder, outbox
                )
            if decision.advice is not None:
                await _account(decision.advice, ctx, recorder, transcript)
            for nome, why in decision.withdrawn:
                await _withdraw(sent.get(nome), nome, why, text, atendente, recorder, outbox)
            product, result = decision.product, decision.result
            if product is None or result is None:
                continue
            rec = Recommendation(
                id=str(uuid.uuid4()),
                produto=product.nome,
                explicacao=result.explicacao.strip() or product.explicacao,
                transcricao_base=text,
                atendente=atendente,
                source=result.provider,
                segment_id=transcript.segment_id,
                cuidados=decision.cautions,
            )
            await recorder.record(
                add_recommendation,
                recommendation_id=rec.id,
                session_id=ctx.session.session_id,
                segment_id=rec.segment_id,
                produto=rec.produto,
                explicacao=rec.explicacao,
                transcricao_base=rec.transcricao_base,
                atendente=rec.atendente,
                source=rec.source,
                cuidados=list(rec.cuidados),
            )
            if len(sent) >= _SENT_KEPT:
                del sent[next(iter(sent))]
            sent.pop(rec.produto, None)
            sent[rec.produto] = rec.id
            await outbox.send(rec)
            ctx.gave()


async def _withdraw(
    rec_id: str | None,
    nome: str,
    why: str,
    text: str,
    atendente: str | None,
    recorder: Recorder,
    outbox: trio.abc.SendChannel[Recommendation],
) -> None:
    """Tell the device a suggestion it shows is ruled out, and store it (by its id)."""
    if rec_id is None:  # made before a restart of this actor: nothing on record to name
        return
    motivo = f"{nome} não é indicado: {why}"
    await recorder.record(withdraw_recommendation, rec_id, motivo)
    await outbox.send(
        Withdrawal(
            id=rec_id,
            produto=nome,
            explicacao=motivo,
            transcricao_base=text,
            atendente=atendente,
            source="cuidados",
        )
    )


async def _refresh(
    ctx: ActorContext,
    catalogs: CatalogSource | None,
    session: AdviceSession,
    had: AdviceVersion | None,
    *,
    first: bool = False,
) -> AdviceVersion | None:
    """Read again what changed since `had` (`first`: everything); the version now held.

    A part that could not be read keeps its old version, so a later utterance tries again.
    At start, with the database away, the source's last copies are used (or the defaults);
    later, an unreadable version reads nothing (an outage must not slow every utterance).
    """
    if catalogs is None or not _registered(ctx):
        return None
    latest = await catalogs.version(ctx.session.cliente_id, ctx.session.balcao_id)
    if not first and (latest is None or latest == had):
        return had
    catalog_read, stock_read = (None, "") if had is None else (had.catalog, had.stock)
    if latest is None or had is None or latest.catalog != had.catalog:
        fresh = await catalogs.cliente_catalog(ctx.session.cliente_id)
        if fresh is not None:
            if had is not None:
                ctx.log.info("cliente catalog changed: %d products", len(fresh))
            session.replace_catalog(fresh)
        if latest is not None and (fresh is not None or latest.catalog is None):
            catalog_read = latest.catalog
    if latest is None or had is None or latest.stock != had.stock:
        missing = await catalogs.missing(ctx.session.cliente_id, ctx.session.balcao_id)
        if missing is not None:
            if missing != session.missing:
                ctx.log.info("products out of stock here: %d", len(missing))
            session.replace_missing(missing)
            if latest is not None:
                stock_read = latest.stock
    return None if latest is None else AdviceVersion(catalog_read, stock_read)


def _registered(ctx: ActorContext) -> bool:
    """Whether the session's cliente is a registered one (tests and the bench use other ids)."""
    try:
        uuid.UUID(ctx.session.cliente_id)
    except ValueError:
        return False
    return True


async def _send_alert(
    flags: Sequence[red_flags.RedFlag],
    transcript: Transcript,
    text: str,
    atendente: str | None,
    ctx: ActorContext,
    recorder: Recorder,
    outbox: trio.abc.SendChannel[Recommendation],
) -> None:
    """Store and send one referral alert naming every sign in `flags` (the first is `sinal`)."""
    first = flags[0]
    alert = Alert(
        id=str(uuid.uuid4()),
        produto="",
        explicacao=first.orientacao,
        transcricao_base=text,
        atendente=atendente,
        source="red_flags",
        segment_id=transcript.segment_id,
        sinal=first.code,
        motivo="; ".join(flag.motivo for flag in flags),
        sinais=tuple(flag.code for flag in flags),
    )
    ctx.log.warning("red flags %s: referral alert instead of a product", list(alert.sinais))
    await recorder.record(
        add_alert,
        alert_id=alert.id,
        session_id=ctx.session.session_id,
        segment_id=alert.segment_id,
        sinal=alert.sinal,
        motivo=alert.motivo,
        orientacao=alert.explicacao,
        transcricao_base=text,
        sinais=alert.sinais,
        atendente=atendente,
    )
    await outbox.send(alert)
    ctx.gave()


async def _account(
    advice: chain.Advice, ctx: ActorContext, recorder: Recorder, transcript: Transcript
) -> None:
    """Store every call the chain made (attempts, cost) and every refused answer with why."""
    session_id, segment_id = ctx.session.session_id, transcript.segment_id
    for asked in advice.asked:
        if asked.error is not None:
            ctx.health.last_error = f"ProviderError: {asked.error}"
            ctx.log.warning("advisor %s failed: %s", asked.advisor, asked.error)
            await record_failure(
                recorder,
                "llm",
                asked.model,
                asked.error,
                asked.latency_s,
                session_id=session_id,
                segment_id=segment_id,
            )
        elif asked.result is not None:
            result = asked.result
            await record_failed_attempts(
                recorder,
                "llm",
                result.model,
                result.failed_attempts,
                session_id=session_id,
                segment_id=segment_id,
            )
            call = ProviderCall(
                kind="llm",
                provider=result.provider,
                model=result.model,
                ok=True,
                latency_ms=result.latency_s * 1000,
                cost_usd=result.cost_usd,
                input_tokens=result.input_tokens,
                output_tokens=result.output_tokens,
            )
            await recorder.record(
                add_provider_call, call, session_id=session_id, segment_id=segment_id
            )
        if asked.refusal is not None:
            # what it said is stored with the refusal (and erased with the conversation), not
            # logged: it may quote the customer
            ctx.log.warning(
                "refused the answer of %s/%s (%s): %d characters",
                asked.advisor,
                asked.model,
                asked.refusal.reason,
                len(asked.refusal.said),
            )
            await recorder.record(
                add_refusal,
                session_id=session_id,
                segment_id=segment_id,
                provider=asked.advisor,
                model=asked.model,
                reason=asked.refusal.reason,
                said=redact(asked.refusal.said),
            )
