"""The attendant's verdict on a suggestion reaching the chain's system (webhook event ``retorno``):
sent once per change of verdict, only to webhooks that asked for it, signed like every event;
over real sockets, a counter's ``feedback`` frame is heard by the chain within the same poll."""

from __future__ import annotations

import json
from typing import Any

import httpx
import trio
from trio_websocket import open_websocket_url

from balto.device import plan_chunks
from balto.webhooks.signing import HEADER, verify
from tests.admin_seed import seed
from tests.conftest import query, start_server, ws_url
from tests.fakes.openai_compat import FakeOpenAICompat
from tests.test_advice_e2e import ALLERGY, WEBM, says, serve
from tests.webhook_api import PRIVATE, make_hook
from tests.webhook_receiver import receiver

REC_ID = "1c0b8f7e-0b5e-4d7e-8a8e-5b1f3f0c2a22"


async def test_each_change_of_verdict_is_sent_once_to_who_asked_for_it(
    nursery: trio.Nursery, database_url: str
) -> None:
    running = await start_server(nursery, database_url, **PRIVATE)
    ids = seed(database_url)
    with receiver() as verdicts, receiver() as alerts_only, receiver() as other_chain:
        async with httpx.AsyncClient(base_url=running.base_url) as http:
            hook = await make_hook(http, ids["c1"], verdicts.url, eventos=["retorno"])
            assert hook["eventos"] == ["retorno"]
            await make_hook(http, ids["c1"], alerts_only.url)
            await make_hook(http, ids["c2"], other_chain.url, eventos=["retorno"])
        query(
            database_url,
            "INSERT INTO recommendations (id, session_id, produto, explicacao,"
            " transcricao_base, source, atendente) VALUES (%s, %s, 'Loratadina 10 mg',"
            " 'Para a rinite.', 'espirrando o dia inteiro', 'xai', 'Rui')",
            REC_ID,
            ids["s1"],
        )
        verdict = "UPDATE recommendations SET aceita = %s, feedback_at = now() WHERE id = %s"
        query(database_url, verdict, True, REC_ID)
        [accepted] = await verdicts.wait_for(1)
        query(database_url, verdict, True, REC_ID)  # the same verdict again: nothing new
        query(database_url, "UPDATE recommendations SET explicacao = 'x' WHERE id = %s", REC_ID)
        query(database_url, verdict, False, REC_ID)  # changed: sent again
        got = await verdicts.wait_for(2)
        await trio.sleep(1.5)  # a poll more: nothing else arrives
        assert len(verdicts.received) == 2
        assert alerts_only.received == [] and other_chain.received == []

    body = accepted.json()
    assert body["evento"] == "retorno" and body["cliente_id"] == ids["c1"]
    sent = body["recomendacao"]
    assert (sent["id"], sent["produto"], sent["aceita"], sent["atendente"]) == (
        REC_ID,
        "Loratadina 10 mg",
        True,
        "Rui",
    )
    assert sent["retorno_em"] is not None and body["balcao"]["id"] == ids["b1"]
    assert got[1].json()["recomendacao"]["aceita"] is False
    for r in got:
        assert verify(hook["segredo"], r.body, r.headers[HEADER])
        assert r.headers["X-Balto-Evento"] == "retorno"


async def test_a_counters_feedback_frame_reaches_the_chains_system(
    nursery: trio.Nursery, database_url: str
) -> None:
    xai = FakeOpenAICompat("xai")
    xai.respond = says("loratadina 10mg")
    running, api_key = await serve(nursery, database_url, ALLERGY, xai, **PRIVATE)
    [(cliente,)] = query(database_url, "SELECT cliente_id::text FROM balcoes")
    with receiver() as chain:
        async with httpx.AsyncClient(base_url=running.base_url) as http:
            await make_hook(http, cliente, chain.url, eventos=["recomendacao", "retorno"])
        suggested: list[dict[str, Any]] = []
        async with open_websocket_url(ws_url(running)) as ws:
            await ws.send_message(json.dumps({"api_key": api_key}))
            t0 = trio.current_time()

            async def answer() -> None:
                # the attendant accepts the first suggestion as soon as it shows
                while True:
                    frame = json.loads(await ws.get_message())
                    if frame.get("comando") == "recomendar" and not suggested:
                        suggested.append(frame)
                        feedback = {"comando": "feedback", "id": frame["id"], "aceita": True}
                        await ws.send_message(json.dumps(feedback))

            async with trio.open_nursery() as inner:
                inner.start_soon(answer)
                for end_at, chunk in plan_chunks(WEBM.read_bytes()):
                    await trio.sleep_until(t0 + end_at)
                    await ws.send_message(chunk)
                got = await chain.wait_for(2)
                inner.cancel_scope.cancel()
    by_event = {r.json()["evento"]: r.json() for r in got}
    [rec] = suggested
    assert by_event["recomendacao"]["recomendacao"]["id"] == rec["id"]
    assert by_event["retorno"]["recomendacao"]["id"] == rec["id"]
    assert by_event["retorno"]["recomendacao"]["aceita"] is True
