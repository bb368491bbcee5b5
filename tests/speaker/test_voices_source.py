"""A cliente's voices as sessions read them: cached while unchanged, re-read when any voiceprint
changes (erased, replaced, its attendant removed), and only the cliente's own; at a store's
balcão only that store's and the chain-wide attendants, the store being where the balcão stands
now; and the labeller telling the session's
front end whether anyone's voice needs embedding."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from actors.context import ActorContext, ActorHealth, SessionInfo, SessionStats
from actors.ports import VoiceNeed
from actors.speaker import SpeakerLabeller
from balto.messages import Segment
from balto.recorder import DirectRecorder
from balto.speaker.enroll import enroll
from balto.speaker.source import ClienteVoices
from balto.speaker.voiceprint import MODEL
from balto.store import Database, open_database
from balto.store.atendentes import create_atendente, remove_atendente
from balto.store.cadastro import create_balcao, create_cliente
from balto.store.lojas import create as create_loja
from balto.store.lojas import place_balcao
from balto.store.lojas import remove as remove_loja
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


async def test_a_stores_balcao_hears_its_stores_and_the_chains_attendants_only(
    db: Database, database_url: str
) -> None:
    print_ = enroll((FIXTURES / "speaker_enroll.webm").read_bytes(), "audio/webm").voiceprint
    await db.run(create_cliente, "a@b.com", "Rede", "1133334444")
    ((rede,),) = query(database_url, "SELECT id::text FROM clientes")
    centro = await db.run(create_loja, rede, "Loja Centro")
    praia = await db.run(create_loja, rede, "Loja Praia")
    ana = await db.run(create_atendente, rede, "Ana", centro)
    bia = await db.run(create_atendente, rede, "Bia", praia)
    carla = await db.run(create_atendente, rede, "Carla")  # works at any of the chain's stores
    for who in (ana, bia, carla):
        assert who and await db.run(save_voiceprint, who, MODEL, print_.to_bytes(), 30.0, "boa")
    ((codigo,),) = query(database_url, "SELECT codigo FROM clientes")
    balcoes = {}
    for nome, loja in (("no Centro", centro), ("na Praia", praia), ("da rede", None)):
        made = await db.run(create_balcao, codigo, nome)
        assert made is not None
        balcoes[nome] = made[1]
        assert await db.run(place_balcao, made[1], loja) is None
    voices = ClienteVoices(db)

    async def names(balcao: str | None) -> list[str]:
        return sorted(v.nome for v in await voices.enrolled(rede, balcao))

    assert await names(balcoes["no Centro"]) == ["Ana", "Carla"]
    assert await names(balcoes["na Praia"]) == ["Bia", "Carla"]
    assert await names(balcoes["da rede"]) == ["Ana", "Bia", "Carla"]  # a balcão of no store
    assert await names(None) == ["Ana", "Bia", "Carla"]
    centro_voices = await voices.enrolled(rede, balcoes["no Centro"])
    assert await voices.enrolled(rede, balcoes["no Centro"]) is centro_voices  # nothing re-read

    # the Centro's balcão carried to the Praia mid-session: its next segment hears the Praia's
    assert await db.run(place_balcao, balcoes["no Centro"], praia) is None
    assert await names(balcoes["no Centro"]) == ["Bia", "Carla"]
    assert await db.run(place_balcao, balcoes["no Centro"], centro) is None
    assert await names(balcoes["no Centro"]) == ["Ana", "Carla"]

    # Loja Centro closes: Ana is the chain's now, and heard at Praia's balcão at once; the
    # Centro's balcão is the chain's too, and hears everyone
    assert await db.run(remove_loja, centro)
    assert query(database_url, "SELECT loja_id FROM atendentes WHERE nome = 'Ana'") == [(None,)]
    assert await names(balcoes["na Praia"]) == ["Ana", "Bia", "Carla"]
    assert await names(balcoes["no Centro"]) == ["Ana", "Bia", "Carla"]


async def test_the_labeller_tells_the_front_end_whether_voices_are_needed(
    db: Database, database_url: str
) -> None:
    await db.run(create_cliente, "a@b.com", "Rede", "1133334444")
    ((rede,),) = query(database_url, "SELECT id::text FROM clientes")
    ana = await db.run(create_atendente, rede, "Ana")
    assert ana
    info = SessionInfo(session_id="s" * 36, balcao_id="b", cliente_id=rede, nome_balcao="teste")
    need = VoiceNeed()
    labeller = SpeakerLabeller(
        ClienteVoices(db),
        ActorContext(info, ActorHealth("transcriber"), SessionStats()),
        DirectRecorder(db),
        need,
    )
    segment = Segment(str(uuid.uuid4()), 0, b"", 16_000, 0.0, 1.0, cut_at=0.0)
    assert need.wanted  # until the labeller has looked
    label = await labeller.label(segment)
    assert label.who.falante is None and not need.wanted  # nobody enrolled: no embedding

    data = enroll((FIXTURES / "speaker_enroll.webm").read_bytes(), "audio/webm")
    assert await db.run(save_voiceprint, ana, MODEL, data.voiceprint.to_bytes(), 30.0, "boa")
    label = await labeller.label(segment)  # made while none was wanted: unknown, not wrong
    assert label.who.falante is None and need.wanted
    assert await db.run(delete_voiceprint, ana)
    await labeller.label(segment)
    assert not need.wanted

    # a session whose cliente is not a registered one (no id) labels nothing and embeds nothing
    other = SessionInfo(session_id="t" * 36, balcao_id="b", cliente_id="dev", nome_balcao="x")
    SpeakerLabeller(
        ClienteVoices(db),
        ActorContext(other, ActorHealth("transcriber"), SessionStats()),
        DirectRecorder(db),
        need := VoiceNeed(),
    )
    assert not need.wanted
