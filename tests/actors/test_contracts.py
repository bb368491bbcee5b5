"""Messages in, messages out: the contract of every actor, run on the session's real links.

Each test hands an actor a script of inputs through `supervisors.links.Link` ends (what the
session supervisor gives it), lets it run to end-of-stream, and checks exactly what came out,
what it stored and what its health says. The decoder's and VAD's contracts, which need real
audio, live in test_decoder.py and test_vad_frontend.py.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
import pytest
import trio

from actors.context import ActorContext, ActorHealth, ActorState, SessionInfo
from actors.receiver import run_receiver
from actors.sender import run_sender
from actors.transcriber import run_transcriber
from balto.errors import DeviceGone
from balto.messages import Alert, AudioChunk, Recommendation, Segment, Transcript
from balto.pricing import DEFAULT_PRICING
from balto.providers.elevenlabs import ElevenLabsScribe
from balto.recorder import DirectRecorder
from balto.store import Database, open_database
from balto.store.cadastro import create_balcao, create_cliente
from balto.store.sessions import add_recommendation, open_session
from supervisors.links import Link, Overflow
from tests.actors.advisor_harness import advise_over
from tests.conftest import query
from tests.fakes.elevenlabs import FakeElevenLabs
from tests.fakes.server import serve_app

T = TypeVar("T")


@dataclass
class ScriptedDevice:
    """A device socket's two directions as the receiver and sender see them (the real socket is
    covered end to end); it raises `DeviceGone` once its script runs out, like a disconnect."""

    frames: list[bytes | str]
    sent: list[dict[str, Any]] = field(default_factory=list)
    gone_after_sends: int | None = None

    async def receive(self) -> bytes | str:
        await trio.lowlevel.checkpoint()
        if not self.frames:
            raise DeviceGone(1000)
        return self.frames.pop(0)

    async def send_text(self, text: str) -> None:
        await trio.lowlevel.checkpoint()
        if self.gone_after_sends is not None and len(self.sent) >= self.gone_after_sends:
            raise DeviceGone(None)
        self.sent.append(json.loads(text))


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    async with open_database(database_url) as database:
        yield database


async def _ctx(db: Database, actor: str) -> ActorContext:
    codigo = await db.run(create_cliente, "a@b.com", "Rede", "1133334444")
    created = await db.run(create_balcao, codigo, "Balcão 1")
    assert created is not None
    session_id = str(uuid.uuid4())
    await db.run(open_session, session_id, created[1])
    return ActorContext(SessionInfo(session_id, created[1], "c", "Balcão 1"), ActorHealth(actor))


async def _filled(name: str, items: Sequence[T]) -> Link[T]:
    link: Link[T] = Link(name, max(8, len(items)), Overflow.BLOCK)
    tx = link.sender()
    for item in items:
        await tx.send(item)
    await tx.aclose()
    link.close_sending()  # end-of-stream after the script
    return link


async def _collect(link: Link[T]) -> list[T]:
    link.close_sending()
    return link.drain()


def _segment(seq: int) -> Segment:
    return Segment(
        str(uuid.uuid4()), seq, b"\x10\x00" * 16_000, 16_000, seq * 3.0, seq * 3.0 + 1, 0
    )


def _transcript(text: str, start: float) -> Transcript:
    return Transcript(str(uuid.uuid4()), text, "elevenlabs", start, start + 1.0, "pt")


async def test_receiver_contract() -> None:
    commands: list[dict[str, object]] = []
    device = ScriptedDevice(
        [
            b"\x1a\x45\xdf\xa3 webm",
            b"",  # empty binary frames carry nothing
            "not json",
            json.dumps({"sem": "comando"}),
            json.dumps({"comando": "feedback", "id": "r1", "aceita": True}),
            b"more audio",
        ]
    )

    async def on_control(command: dict[str, object]) -> None:
        commands.append(command)

    out: Link[AudioChunk] = Link("chunks", 8, Overflow.BLOCK)
    ctx = ActorContext(SessionInfo("s", "b", "c", "n"), ActorHealth("receiver"))
    await run_receiver(out.sender(), ctx, device=device, on_control=on_control)
    chunks = await _collect(out)
    assert [(c.seq, c.data) for c in chunks] == [(0, b"\x1a\x45\xdf\xa3 webm"), (1, b"more audio")]
    assert commands == [{"comando": "feedback", "id": "r1", "aceita": True}]
    assert (ctx.health.messages_in, ctx.health.messages_out) == (6, 2)
    assert ctx.health.state is ActorState.RUNNING


async def test_transcriber_contract(nursery: trio.Nursery, db: Database, database_url: str) -> None:
    stt_fake = FakeElevenLabs(transcripts=["Bom dia.", "  ", "Tem dipirona?"])
    base = await serve_app(nursery, stt_fake.app)
    ctx = await _ctx(db, "transcriber")
    segments = [_segment(i) for i in range(3)]
    inbox = await _filled("segments", segments)
    out: Link[Transcript] = Link("transcripts", 8, Overflow.BLOCK)
    async with httpx.AsyncClient() as http:
        stt = ElevenLabsScribe(
            api_key=stt_fake.api_key,
            base_url=base,
            model="scribe_v2",
            pricing=DEFAULT_PRICING,
            http=http,
            timeout_s=5,
        )
        await run_transcriber(
            inbox.receiver(), out.sender(), ctx, stt=[stt], recorder=DirectRecorder(db)
        )
    transcripts = await _collect(out)
    # a blank transcript is stored but not passed on: the advisor has nothing to read in it
    assert [(t.segment_id, t.text) for t in transcripts] == [
        (segments[0].id, "Bom dia."),
        (segments[2].id, "Tem dipirona?"),
    ]
    rows = query(database_url, "SELECT seq, status FROM segments ORDER BY seq")
    assert rows == [(0, "transcribed"), (1, "transcribed"), (2, "transcribed")]
    assert (ctx.health.messages_in, ctx.health.messages_out) == (3, 2)
    assert len(stt_fake.requests) == 3


async def test_transcriber_without_stt_stores_every_segment_failed(
    db: Database, database_url: str
) -> None:
    ctx = await _ctx(db, "transcriber")
    inbox = await _filled("segments", [_segment(0), _segment(1)])
    out: Link[Transcript] = Link("transcripts", 8, Overflow.BLOCK)
    await run_transcriber(
        inbox.receiver(),
        out.sender(),
        ctx,
        stt=[],
        recorder=DirectRecorder(db),
        missing_reason="no key",
    )
    assert await _collect(out) == []
    rows = query(database_url, "SELECT status, error FROM segments ORDER BY seq")
    assert rows == [("failed", "stt_not_configured: no key")] * 2
    assert ctx.health.state is ActorState.DEGRADED


async def test_advisor_contract(db: Database, database_url: str) -> None:
    ctx = await _ctx(db, "advisor")
    texts = [
        _transcript("Bom dia, tudo bem?", 0.0),
        _transcript("Estou com muita dor de cabeça desde ontem.", 5.0),
        _transcript("Minha dor de cabeça não passa.", 10.0),  # the same product: not repeated
        _transcript("Meu pai está com uma dor no peito forte agora.", 15.0),
    ]
    recs = await advise_over(db, ctx, texts)
    products = [r for r in recs if not isinstance(r, Alert)]
    alerts = [r for r in recs if isinstance(r, Alert)]
    assert len(products) == 1 and "ipirona" in products[0].produto
    assert products[0].transcricao_base == texts[1].text
    assert [a.sinal for a in alerts] == ["dor_no_peito"]
    stored = query(database_url, "SELECT produto FROM recommendations")
    assert [p for (p,) in stored] == [products[0].produto]
    assert (ctx.health.messages_in, ctx.health.messages_out) == (4, 2)


async def test_sender_contract(db: Database, database_url: str) -> None:
    ctx = await _ctx(db, "sender")
    recs = []
    for i in range(3):
        rec = Recommendation(
            id=str(uuid.uuid4()),
            produto=f"Produto {i}",
            explicacao="porque sim",
            transcricao_base=f"fala {i}",
            atendente=None,
            source="catalog",
        )
        await db.run(
            add_recommendation,
            recommendation_id=rec.id,
            session_id=ctx.session.session_id,
            segment_id=None,
            produto=rec.produto,
            explicacao=rec.explicacao,
            transcricao_base=rec.transcricao_base,
            atendente=None,
            source="catalog",
        )
        recs.append(rec)
    device = ScriptedDevice([], gone_after_sends=2)  # the device leaves after two frames
    inbox = await _filled("recommendations", recs)
    await run_sender(inbox.receiver(), ctx, device=device, recorder=DirectRecorder(db))
    assert [f["produto"] for f in device.sent] == ["Produto 0", "Produto 1"]
    assert set(device.sent[0]) == {
        "comando",
        "produto",
        "explicacao",
        "transcricao_base",
        "atendente",
        "id",
    }
    sent = query(
        database_url, "SELECT produto, sent_at IS NOT NULL FROM recommendations ORDER BY produto"
    )
    assert sent == [("Produto 0", True), ("Produto 1", True), ("Produto 2", False)]
    assert (ctx.health.messages_in, ctx.health.messages_out) == (3, 2)
