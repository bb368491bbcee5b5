"""A restarted advisor still marks the next customer the device announced while it was down: the
session's `Customers` cell, not the advisor, remembers which atendimento it last heard."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from actors.context import ActorContext, ActorHealth, SessionInfo
from actors.customers import Customers
from balto.messages import Transcript
from balto.store import Database, open_database
from balto.store.cadastro import create_balcao, create_cliente
from balto.store.sessions import open_session
from tests.actors.advisor_harness import advise_over
from tests.conftest import query


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    async with open_database(database_url) as database:
        yield database


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
    await advise_over(db, ctx, [first], customers=customers)
    customers.next(2.0)  # the attendant turns to the next customer; no advisor is running
    second = Transcript(str(uuid.uuid4()), "Boa tarde.", "elevenlabs", 3.0, 4.0, "pt")
    await advise_over(db, ctx, [second], 1, customers=customers)  # the restarted advisor

    marks = query(
        database_url,
        "SELECT id::text, novo_atendimento FROM segments WHERE session_id = %s"
        " ORDER BY audio_start",
        session_id,
    )
    assert marks == [(first.segment_id, None), (second.segment_id, "balcao")]
