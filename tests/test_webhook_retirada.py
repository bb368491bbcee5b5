"""A suggestion withdrawn because the customer's words ruled its product out reaching the chain's
system (webhook event ``retirada``): the suggestion with when and why, sent once, only to the
chain's webhooks that asked for it, signed like every event; every suggestion's payload says
what had been ruled out (``cuidados``)."""

from __future__ import annotations

from datetime import datetime

import httpx
import psycopg
import trio

from balto.store.sessions import withdraw_recommendation
from balto.webhooks.signing import HEADER, verify
from tests.admin_seed import seed
from tests.conftest import ADMIN, query, start_server
from tests.webhook_api import PRIVATE, make_hook
from tests.webhook_receiver import receiver

REC_ID = "6c1d2e3f-3b4c-4d5e-9f0a-1b2c3d4e5f60"
WHY = "Ibuprofeno 400 mg não é indicado: gravidez"


async def test_a_withdrawn_suggestion_is_sent_once_to_who_asked_for_it(
    nursery: trio.Nursery, database_url: str
) -> None:
    running = await start_server(nursery, database_url, **PRIVATE)
    ids = seed(database_url)
    with receiver() as withdrawn, receiver() as suggestions, receiver() as other_chain:
        async with httpx.AsyncClient(base_url=running.base_url) as http:
            hook = await make_hook(http, ids["c1"], withdrawn.url, eventos=["retirada"])
            assert hook["eventos"] == ["retirada"]
            await make_hook(http, ids["c1"], suggestions.url, eventos=["recomendacao"])
            await make_hook(http, ids["c2"], other_chain.url, eventos=["retirada"])
            refused = await http.post(
                f"/admin/clientes/{ids['c1']}/webhooks",
                json={"url": withdrawn.url + "/x", "eventos": ["retiradas"]},
                headers=ADMIN,
            )
        assert refused.status_code == 400 and refused.json()["field"] == "eventos"
        assert "retirada" in refused.json()["message"]
        query(
            database_url,
            "INSERT INTO recommendations (id, session_id, produto, explicacao,"
            " transcricao_base, source, atendente, cuidados) VALUES (%s, %s, 'Ibuprofeno 400 mg',"
            " 'Anti-inflamatório.', 'dor de dente', 'catalog', 'Rui', NULL)",
            REC_ID,
            ids["s1"],
        )
        with psycopg.connect(database_url, autocommit=True) as conn:
            withdraw_recommendation(conn, REC_ID, WHY)
            [got] = await withdrawn.wait_for(1)
            withdraw_recommendation(conn, REC_ID, "outro motivo")  # again: the first stays
        await trio.sleep(1.5)  # a poll more: nothing else arrives
        assert len(withdrawn.received) == 1
        assert other_chain.received == []
        [made] = await suggestions.wait_for(1)
        assert made.json()["recomendacao"]["cuidados"] == []  # nothing ruled out when made

    body = got.json()
    assert body["evento"] == "retirada" and body["cliente_id"] == ids["c1"]
    assert body["balcao"]["id"] == ids["b1"] and body["sessao_id"] == ids["s1"]
    rec = body["recomendacao"]
    assert (rec["id"], rec["produto"], rec["retirada_motivo"]) == (REC_ID, "Ibuprofeno 400 mg", WHY)
    [(stored,)] = query(
        database_url, "SELECT retirada_em FROM recommendations WHERE id = %s", REC_ID
    )
    assert datetime.fromisoformat(rec["retirada_em"]) == stored
    assert verify(hook["segredo"], got.body, got.headers[HEADER])
    assert got.headers["X-Balto-Evento"] == "retirada"
