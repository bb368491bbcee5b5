"""Out of stock end to end over real sockets (Hypercorn, PostgreSQL, the decoder, a trio-websocket
device): the attendant's *Em falta* on a suggestion is stored for her balcão's chain, reaches
the live session before the next customer, who gets another product; the admins read it."""

from __future__ import annotations

import io
import json
from typing import Any

import httpx
import openpyxl
import trio
from trio_websocket import open_websocket_url

from balto.device import plan_chunks
from tests.conftest import ADMIN, query, ws_url
from tests.test_advice_e2e import WEBM, admin_get, serve, settled

HEADACHE = [
    "Boa tarde, eu tô com uma dor de cabeça forte desde ontem.",
    "Oi, bom dia, tô com uma dor de cabeça que não passa.",
]


async def test_the_attendants_em_falta_reaches_the_next_customers_suggestion(
    nursery: trio.Nursery, database_url: str
) -> None:
    running, api_key = await serve(nursery, database_url, HEADACHE)
    received: list[dict[str, Any]] = []
    async with open_websocket_url(ws_url(running)) as ws:
        await ws.send_message(json.dumps({"api_key": api_key}))
        t0 = trio.current_time()

        async def read() -> None:
            while True:
                frame = json.loads(await ws.get_message())
                received.append(frame)
                if frame.get("comando") == "recomendar" and len(received) == 1:
                    # not on the shelf: said at once (an id of nothing is ignored)
                    await ws.send_message(json.dumps({"comando": "em_falta", "id": frame["id"]}))
                    await ws.send_message(json.dumps({"comando": "em_falta", "id": "x"}))

        async with trio.open_nursery() as inner:
            inner.start_soon(read)
            sent = False
            for end_at, chunk in plan_chunks(WEBM.read_bytes()):
                if end_at > 4.0 and not sent:  # the next customer, between the two utterances
                    await ws.send_message(json.dumps({"comando": "novo_atendimento"}))
                    sent = True
                await trio.sleep_until(t0 + end_at)
                await ws.send_message(chunk)
            await trio.sleep(2.0)
            inner.cancel_scope.cancel()

    first, second = [f for f in received if f.get("comando") == "recomendar"]
    assert second["produto"] != first["produto"]
    [(produto, origem, por, loja)] = query(
        database_url, "SELECT produto, origem, por, loja_id FROM produtos_em_falta"
    )
    assert (produto, origem, loja) == (first["produto"], "balcao", None)
    assert por is not None and por.startswith("balcão ")
    rows = await settled(
        database_url, "SELECT novo_atendimento FROM segments ORDER BY audio_start", 2
    )
    assert rows == [(None,), ("balcao",)]  # the next customer's, not the same one's cooldown
    [session_id] = [row[0] for row in query(database_url, "SELECT id::text FROM sessions")]
    timeline = await admin_get(running, f"/admin/history/conversas/{session_id}")
    suggested = [i for i in timeline["itens"] if i["tipo"] == "recomendacao"]
    assert [i["em_falta_em"] is not None for i in suggested] == [True, False]
    # the Painel counts it beside the product, and the report's feedback says so too
    painel = await admin_get(running, "/admin/painel/dados")
    by_product = {row["produto"]: row["em_falta"] for row in painel["produtos"]}
    assert by_product == {first["produto"]: 1, second["produto"]: 0}
    async with httpx.AsyncClient(base_url=running.base_url, headers=ADMIN) as http:
        report = await http.get("/api/export/xlsx")
    assert report.status_code == 200, report.text
    sheet = openpyxl.load_workbook(io.BytesIO(report.content), read_only=True)["Interações"]
    header, *rows_ = list(sheet.iter_rows(values_only=True))
    produto_at, feedback_at = header.index("produto"), header.index("feedback")
    verdicts = [(row[produto_at], row[feedback_at]) for row in rows_ if row[produto_at]]
    assert verdicts == [(first["produto"], "em falta no balcão"), (second["produto"], None)]
    [cliente] = [row[0] for row in query(database_url, "SELECT id::text FROM clientes")]
    listed = await admin_get(running, f"/admin/clientes/{cliente}/em-falta")
    assert [(i["produto"], i["origem"]) for i in listed["items"]] == [(first["produto"], "balcao")]
