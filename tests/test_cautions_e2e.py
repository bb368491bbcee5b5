"""Contraindications end to end over real sockets (Hypercorn, PostgreSQL, the decoder, a
trio-websocket device, a loopback LLM that names the ruled-out product anyway): the suggestion
on the screen is withdrawn (``retirar``) when the customer then tells her allergy, the next one
says why and what it considered, and the admins read both."""

from __future__ import annotations

import io

import httpx
import openpyxl
import trio

from balto.device import stream_file
from tests.conftest import ADMIN, query, ws_url
from tests.fakes.openai_compat import FakeOpenAICompat
from tests.test_advice_e2e import WEBM, admin_get, frames, says, serve, settled

HEADACHE_THEN_ALLERGY = [
    "Boa tarde, eu tô com uma dor de cabeça forte desde ontem.",
    "Ah, e eu sou alérgica a dipirona, viu.",
]


async def test_a_suggestion_ruled_out_by_the_customers_allergy_is_withdrawn_and_replaced(
    nursery: trio.Nursery, database_url: str
) -> None:
    llm = FakeOpenAICompat("xai")
    llm.respond = says("Dipirona Monoidratada 500 mg")  # the first time right; then ruled out
    running, api_key = await serve(
        nursery, database_url, HEADACHE_THEN_ALLERGY, llm, BALTO_LLM="xai,catalog"
    )

    run = await stream_file(ws_url(running), api_key, WEBM, linger_s=2.0)

    first, second = frames(run, "recomendar")
    [withdrawn] = frames(run, "retirar")
    assert first["produto"] == "Dipirona Monoidratada 500 mg" and "cuidados" not in first
    assert withdrawn == {
        "comando": "retirar",
        "id": first["id"],
        "produto": "Dipirona Monoidratada 500 mg",
        "motivo": "Dipirona Monoidratada 500 mg não é indicado: alergia a dipirona",
        "atendente": None,
    }
    assert second["produto"] == "Paracetamol 750 mg"
    assert second["cuidados"] == ["alergia a dipirona"]
    assert second["explicacao"].startswith(
        "Dipirona Monoidratada 500 mg não é indicado (alergia a dipirona); no lugar dele: "
    )
    order = [(frame.get("comando"), frame.get("id")) for _, frame in run.frames]
    # withdrawn, then replaced
    assert order.index(("retirar", first["id"])) < order.index(("recomendar", second["id"]))
    assert query(database_url, "SELECT reason, said FROM advice_refusals") == [
        ("contraindicado", "Dipirona Monoidratada 500 mg")
    ]
    rows = await settled(
        database_url,
        "SELECT produto, cuidados, retirada_em IS NOT NULL, retirada_motivo"
        " FROM recommendations ORDER BY created_at",
        2,
    )
    assert rows == [
        ("Dipirona Monoidratada 500 mg", None, True, withdrawn["motivo"]),
        ("Paracetamol 750 mg", ["alergia a dipirona"], False, None),
    ]
    [session_id] = [row[0] for row in query(database_url, "SELECT id::text FROM sessions")]
    timeline = await admin_get(running, f"/admin/history/conversas/{session_id}")
    suggested = [i for i in timeline["itens"] if i["tipo"] == "recomendacao"]
    assert [(i["retirada_motivo"], i["cuidados"]) for i in suggested] == [
        (withdrawn["motivo"], None),
        (None, ["alergia a dipirona"]),
    ]
    async with httpx.AsyncClient(base_url=running.base_url, headers=ADMIN) as http:
        report = await http.get("/api/export/xlsx")
    assert report.status_code == 200, report.text
    sheet = openpyxl.load_workbook(io.BytesIO(report.content), read_only=True)["Interações"]
    header, *cells = list(sheet.iter_rows(values_only=True))
    at = [header.index(name) for name in ("produto", "feedback", "cuidados")]
    assert [tuple(row[i] for i in at) for row in cells if row[at[0]]] == [
        ("Dipirona Monoidratada 500 mg", f"retirada: {withdrawn['motivo']}", None),
        ("Paracetamol 750 mg", None, "alergia a dipirona"),
    ]
