"""A restarted advisor still marks the next customer the device announced while it was down: the
session's `Customers` cell, not the advisor, remembers which atendimento it last heard."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from actors.advisor import run_advisor
from actors.context import ActorContext, ActorHealth, SessionInfo
from actors.customers import Customers
from balto.catalog import Catalog
from balto.messages import Recommendation, Transcript
from balto.providers.catalog_advisor import CatalogAdvisor
from balto.recorder import DirectRecorder
from balto.store import Database, open_database
from balto.store.cadastro import create_balcao, create_cliente
from balto.store.sessions import add_segment, open_session
from supervisors.links import Link, Overflow
from tests.conftest import query


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    async with open_database(database_url) as database:
        yield database


async def _hear(db: Database, ctx: ActorContext, customers: Customers, said: Transcript) -> None:
    """One advisor's life: it hears `said`, then its inbox closes (the advisor stops)."""
    seq = int(said.start)
    await db.run(add_segment, said.segment_id, ctx.session.session_id, seq, said.start, said.end)
    inbox: Link[Transcript] = Link("transcripts", 4, Overflow.BLOCK)
    tx = inbox.sender()
    await tx.send(said)
    await tx.aclose()
    inbox.close_sending()
    out: Link[Recommendation] = Link("recommendations", 4, Overflow.BLOCK)
    await run_advisor(
        inbox.receiver(),
        out.sender(),
        ctx,
        advisors=[CatalogAdvisor()],
        catalog=Catalog.load(None),
        recorder=DirectRecorder(db),
        cooldown_s=0,
        customers=customers,
    )


async def test_a_boundary_sent_while_the_advisor_was_down_is_marked(
    db: Database, database_url: str
) -> None:
    codigo = await db.run(create_cliente, "a@b.com", "Rede", "1133334444")
    created = await db.run(create_balcao, codigo, "Balcão 1")
    assert created is not None
    session_id = str(uuid.uuid4())
    await db.run(open_session, session_id, created[1])
    ctx = ActorContext(SessionInfo(session_id, created[1], "c", "Balcão 1"), ActorHealth("advisor"))
    customers = Customers()  # the session's: it outlives the advisor
    first = Transcript(str(uuid.uuid4()), "Bom dia.", "elevenlabs", 0.0, 1.0, "pt")
    await _hear(db, ctx, customers, first)
    customers.next(2.0)  # the attendant turns to the next customer; no advisor is running
    second = Transcript(str(uuid.uuid4()), "Boa tarde.", "elevenlabs", 3.0, 4.0, "pt")
    await _hear(db, ctx, customers, second)  # the restarted advisor

    marks = query(
        database_url,
        "SELECT id::text, novo_atendimento FROM segments WHERE session_id = %s"
        " ORDER BY audio_start",
        session_id,
    )
    assert marks == [(first.segment_id, None), (second.segment_id, "balcao")]
