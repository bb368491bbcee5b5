"""A cliente's voices as sessions read them: cached while unchanged, re-read when any voiceprint
changes (erased, replaced, its attendant removed), and only the cliente's own."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from balto.speaker.enroll import enroll
from balto.speaker.source import ClienteVoices
from balto.speaker.voiceprint import MODEL
from balto.store import Database, open_database
from balto.store.atendentes import create_atendente, remove_atendente
from balto.store.cadastro import create_cliente
from balto.store.voiceprints import delete_voiceprint, save_voiceprint
from tests.conftest import FIXTURES, query


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    async with open_database(database_url) as database:
        yield database


async def test_voices_follow_every_change_of_the_clientes_voiceprints(
    db: Database, database_url: str
) -> None:
    data = enroll((FIXTURES / "speaker_enroll.webm").read_bytes(), "audio/webm")
    print_ = data.voiceprint.to_bytes()
    for razao in ("Rede", "Outra"):
        await db.run(create_cliente, "a@b.com", razao, "1133334444")
    ((rede,), (outra,)) = query(
        database_url, "SELECT id::text FROM clientes ORDER BY razao_social DESC"
    )
    ana = await db.run(create_atendente, rede, "Ana")
    bia = await db.run(create_atendente, rede, "Bia")
    other = await db.run(create_atendente, outra, "Carla")
    assert ana and bia and other
    voices = ClienteVoices(db)
    assert await voices.enrolled(rede) == ()

    for who in (ana, bia, other):
        assert await db.run(save_voiceprint, who, MODEL, print_, 30.0, "boa")
    assert sorted(v.nome for v in await voices.enrolled(rede)) == ["Ana", "Bia"]
    cached = await voices.enrolled(rede)
    assert await voices.enrolled(rede) is cached  # unchanged: nothing re-read

    assert await db.run(delete_voiceprint, ana)
    assert [v.nome for v in await voices.enrolled(rede)] == ["Bia"]
    assert await db.run(remove_atendente, bia)  # the trigger erases her voiceprint too
    assert await voices.enrolled(rede) == ()
    assert [v.nome for v in await voices.enrolled(outra)] == ["Carla"]
    # a voiceprint of another model is not compared
    assert await db.run(save_voiceprint, ana, "other-model", print_, 30.0, "boa")
    assert await voices.enrolled(rede) == ()
    assert not await db.run(save_voiceprint, bia, MODEL, print_, 30.0, "boa")  # removed
