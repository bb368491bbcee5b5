"""Who is speaking, end to end: the real server, a real WebSocket device streaming a dialogue, the
attendant enrolled over the admin API, loopback provider fakes.

An enrolled attendant's dialogue yields a recommendation carrying her name, segments labelled by
role in history and roles in the LLM's dialogue; her name corrected, the next session names her
so; once her voiceprint is erased the next session says nothing of who spoke (``atendente``
null, no labels) and nothing fails.
"""

from __future__ import annotations

import json

import httpx
import trio

from balto.device import stream_file
from tests.conftest import ADMIN, FIXTURES, query, register_balcao, start_server, ws_url
from tests.fakes.elevenlabs import FakeElevenLabs
from tests.fakes.openai_compat import FakeOpenAICompat
from tests.fakes.wiring import provider_env

DIALOGUE = FIXTURES / "speaker_dialogue.webm"
TURNS = json.loads((FIXTURES / "speaker_dialogue.json").read_text())["turns"]
TEXTS = [turn["text"] for turn in TURNS]
PRODUCT = "Dipirona Monoidratada 500 mg"


async def _recommendations(url: str, api_key: str) -> list[dict[str, object]]:
    run = await stream_file(url, api_key, DIALOGUE, linger_s=1.5)
    return [frame for _, frame in run.frames if frame.get("comando") == "recomendar"]


async def _segments(http: httpx.AsyncClient, balcao_id: str) -> list[dict[str, object]]:
    page = await http.get("/admin/history/segments", headers=ADMIN, params={"balcao_id": balcao_id})
    assert page.status_code == 200
    return sorted(page.json()["items"], key=lambda s: (s["created_at"], s["seq"]))


async def test_enrolled_attendant_is_named_and_segments_carry_roles_until_erased(
    nursery: trio.Nursery, database_url: str
) -> None:
    stt = FakeElevenLabs(transcripts=TEXTS * 3)  # three sessions
    llm = FakeOpenAICompat("xai")
    llm.respond = lambda body: {"recomendar": True, "produto": PRODUCT, "explicacao": "Dor."}
    # One front-end worker process: the voice embeddings are made there, as in production.
    env = await provider_env(nursery, stt=stt, llm=llm)
    running = await start_server(nursery, database_url, **env, BALTO_VAD_WORKERS="1")
    assert running.services.pipeline.front_ends is not None
    api_key, balcao_id = await register_balcao(running.base_url)
    ((cliente_id,),) = query(
        database_url, "SELECT cliente_id::text FROM balcoes WHERE id = %s", balcao_id
    )
    async with httpx.AsyncClient(base_url=running.base_url, timeout=30) as http:
        made = await http.post(
            "/admin/atendentes",
            headers=ADMIN,
            json={"cliente_id": cliente_id, "nome": "Ana Paula", "consentimento": True},
        )
        ana = made.json()["id"]
        enrolled = await http.put(
            f"/admin/atendentes/{ana}/voz",
            headers={**ADMIN, "Content-Type": "audio/webm"},
            content=(FIXTURES / "speaker_enroll.webm").read_bytes(),
        )
        assert enrolled.status_code == 200, enrolled.text
        body = enrolled.json()
        assert body["qualidade"] == "boa" and 25 < body["fala_s"] <= body["duracao_s"] <= 60
        # only the voiceprint is kept: a few hundred bytes
        ((size,),) = query(database_url, "SELECT length(print) FROM voiceprints")
        assert size < 1024

        recs = await _recommendations(ws_url(running), api_key)
        assert [(r["produto"], r["atendente"]) for r in recs] == [(PRODUCT, "Ana Paula")]
        segments = await _segments(http, balcao_id)
        assert [(s["transcript"], s["falante"], s["atendente"]) for s in segments] == [
            (TEXTS[0], "atendente", "Ana Paula"),
            (TEXTS[1], "cliente", None),
        ]
        assert segments[0]["atendente_id"] == ana
        assert all(0.0 <= s["falante_score"] <= 1.0 for s in segments)
        # the conversation page's timeline says who spoke too
        conversa = await http.get(
            f"/admin/history/conversas/{segments[0]['session_id']}", headers=ADMIN
        )
        said = [i for i in conversa.json()["itens"] if i["tipo"] == "fala"]
        assert [(i["texto"], i["falante"], i["atendente"]) for i in said] == [
            (TEXTS[0], "atendente", "Ana Paula"),
            (TEXTS[1], "cliente", None),
        ]
        # the LLM read who said what
        dialogue = llm.requests[-1].body["messages"][-1]["content"]
        assert f"[atendente] {TEXTS[0]}" in dialogue and f"[cliente] {TEXTS[1]}" in dialogue

        # her name corrected: the next session names her so, what was stored keeps its name
        renamed = await http.patch(
            f"/admin/atendentes/{ana}", json={"nome": "Ana Paula Souza"}, headers=ADMIN
        )
        assert renamed.status_code == 200, renamed.text
        recs = await _recommendations(ws_url(running), api_key)
        assert [(r["produto"], r["atendente"]) for r in recs] == [(PRODUCT, "Ana Paula Souza")]
        named = [s["atendente"] for s in await _segments(http, balcao_id)]
        assert named == ["Ana Paula", None, "Ana Paula Souza", None]

        erased = await http.delete(f"/admin/atendentes/{ana}/voz", headers=ADMIN)
        assert erased.status_code == 204
        assert (await http.delete(f"/admin/atendentes/{ana}/voz", headers=ADMIN)).status_code == 404
        assert query(database_url, "SELECT count(*) FROM voiceprints") == [(0,)]

        recs = await _recommendations(ws_url(running), api_key)
        assert [(r["produto"], r["atendente"]) for r in recs] == [(PRODUCT, None)]
        later = (await _segments(http, balcao_id))[4:]
        assert [(s["transcript"], s["falante"], s["atendente"]) for s in later] == [
            (TEXTS[0], None, None),
            (TEXTS[1], None, None),
        ]
        dialogue = llm.requests[-1].body["messages"][-1]["content"]
        assert f"[falante] {TEXTS[1]}" in dialogue
    # nothing failed on the way: no actor restarted in any of the three sessions
    # The session row is closed just after the socket, and its supervision totals are recorded
    # just after that (two writes): wait for both.
    for _ in range(50):
        rows = query(database_url, "SELECT restarts FROM sessions WHERE ended_at IS NOT NULL")
        if len(rows) == 3 and all(restarts is not None for (restarts,) in rows):
            break
        await trio.sleep(0.1)
    assert rows == [(0,), (0,), (0,)]


async def test_an_attendant_is_named_at_her_stores_balcoes_only(
    nursery: trio.Nursery, database_url: str
) -> None:
    """Ana works at Loja Centro: at Loja Praia's balcão her voice names nobody (nobody of that
    store is enrolled, so nothing is labelled); the same balcão placed in Centro names her."""
    stt = FakeElevenLabs(transcripts=TEXTS * 2)
    llm = FakeOpenAICompat("xai")
    llm.respond = lambda body: {"recomendar": True, "produto": PRODUCT, "explicacao": "Dor."}
    env = await provider_env(nursery, stt=stt, llm=llm)
    running = await start_server(nursery, database_url, **env, BALTO_VAD_WORKERS="1")
    api_key, balcao_id = await register_balcao(running.base_url)
    ((cliente_id,),) = query(
        database_url, "SELECT cliente_id::text FROM balcoes WHERE id = %s", balcao_id
    )
    async with httpx.AsyncClient(base_url=running.base_url, timeout=30) as http:
        lojas = {}
        for nome in ("Loja Centro", "Loja Praia"):
            made = await http.post(
                f"/admin/clientes/{cliente_id}/lojas", headers=ADMIN, json={"nome": nome}
            )
            assert made.status_code == 201, made.text
            lojas[nome] = made.json()["id"]
        made = await http.post(
            "/admin/atendentes",
            headers=ADMIN,
            json={
                "cliente_id": cliente_id,
                "nome": "Ana Paula",
                "consentimento": True,
                "loja_id": lojas["Loja Centro"],
            },
        )
        assert made.status_code == 201, made.text
        enrolled = await http.put(
            f"/admin/atendentes/{made.json()['id']}/voz",
            headers={**ADMIN, "Content-Type": "audio/webm"},
            content=(FIXTURES / "speaker_enroll.webm").read_bytes(),
        )
        assert enrolled.status_code == 200, enrolled.text

        names = []
        for loja in ("Loja Praia", "Loja Centro"):
            placed = await http.put(
                f"/admin/balcoes/{balcao_id}/loja", headers=ADMIN, json={"loja_id": lojas[loja]}
            )
            assert placed.status_code == 200, placed.text
            recs = await _recommendations(ws_url(running), api_key)
            names.append([(r["produto"], r["atendente"]) for r in recs])
        assert names == [[(PRODUCT, None)], [(PRODUCT, "Ana Paula")]]
        segments = await _segments(http, balcao_id)
        assert [(s["falante"], s["atendente"]) for s in segments] == [
            (None, None),
            (None, None),
            ("atendente", "Ana Paula"),
            ("cliente", None),
        ]
