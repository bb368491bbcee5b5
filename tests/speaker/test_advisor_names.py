"""The advisor names the attendant: a name the device declared wins over the voice's, the voice's
fills in when none is declared, and the dialogue's turns carry the roles."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from actors.attendant import Attendant
from actors.context import ActorContext, ActorHealth, SessionInfo
from balto.advice.session import AdviceSession
from balto.catalog import Catalog
from balto.messages import Recommendation, Transcript
from balto.providers.catalog_advisor import CatalogAdvisor
from balto.store import Database, open_database
from balto.store.cadastro import create_balcao, create_cliente
from balto.store.sessions import open_session
from tests.actors.advisor_harness import advise_over


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    async with open_database(database_url) as database:
        yield database


def _said(text: str, start: float, falante: str | None, atendente: str | None) -> Transcript:
    return Transcript(
        str(uuid.uuid4()), text, "elevenlabs", start, start + 1.0, "pt", falante, atendente
    )


async def _advise(db: Database, declared: str | None) -> list[Recommendation]:
    codigo = await db.run(create_cliente, "a@b.com", "Rede", "1133334444")
    created = await db.run(create_balcao, codigo, "Balcão 1")
    assert created is not None
    session_id = str(uuid.uuid4())
    await db.run(open_session, session_id, created[1])
    ctx = ActorContext(SessionInfo(session_id, created[1], "c", "Balcão 1"), ActorHealth("advisor"))
    texts = [
        _said("Bom dia, em que posso ajudar?", 0.0, "atendente", "Ana Paula"),
        _said("Estou com muita dor de cabeça desde ontem.", 3.0, "cliente", "Ana Paula"),
    ]
    return await advise_over(db, ctx, texts, attendant=Attendant(declared))


async def test_the_voice_names_the_attendant_unless_the_device_declared_one(db: Database) -> None:
    (by_voice,) = await _advise(db, None)
    assert by_voice.atendente == "Ana Paula"
    (declared,) = await _advise(db, "Bia")
    assert declared.atendente == "Bia"


async def test_turns_carry_their_roles() -> None:
    session = AdviceSession(Catalog.load(None), [CatalogAdvisor()], cooldown_s=0)
    await session.hear("Bom dia, em que posso ajudar?", 0.0, 1.0, speaker="atendente")
    await session.hear("Estou com dor de cabeça.", 2.0, 3.0, speaker="cliente")
    await session.hear("Desde ontem.", 4.0, 5.0)
    assert [t.speaker for t in session.dialogue] == ["atendente", "cliente", None]
