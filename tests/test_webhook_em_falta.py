"""A counter's *Em falta* reaching the chain's system (webhook event ``em_falta``): the
suggestion's product, the store and the balcão, sent once when the attendant first says it, only
to the chain's webhooks that asked for it, signed like every event; and the product is marked out
of stock where she stands."""

from __future__ import annotations

from datetime import datetime

import httpx
import psycopg
import trio

from balto.store.em_falta import mark_from_recommendation
from balto.webhooks.signing import HEADER, verify
from tests.admin_seed import seed
from tests.conftest import query, start_server
from tests.webhook_api import PRIVATE, make_hook
from tests.webhook_receiver import receiver

REC_ID = "5b0c1d9e-2a3b-4c5d-8e9f-0a1b2c3d4e5f"


async def test_a_product_found_missing_is_sent_once_to_who_asked_for_it(
    nursery: trio.Nursery, database_url: str
) -> None:
    running = await start_server(nursery, database_url, **PRIVATE)
    ids = seed(database_url)
    with receiver() as missing, receiver() as verdicts, receiver() as other_chain:
        async with httpx.AsyncClient(base_url=running.base_url) as http:
            hook = await make_hook(http, ids["c1"], missing.url, eventos=["em_falta"])
            assert hook["eventos"] == ["em_falta"]
            await make_hook(http, ids["c1"], verdicts.url, eventos=["retorno", "recomendacao"])
            await make_hook(http, ids["c2"], other_chain.url, eventos=["em_falta"])
        query(
            database_url,
            "INSERT INTO recommendations (id, session_id, produto, explicacao,"
            " transcricao_base, source, atendente) VALUES (%s, %s, 'Dorflex',"
            " 'Relaxante muscular.', 'dor nas costas', 'catalog', 'Rui')",
            REC_ID,
            ids["s1"],
        )
        with psycopg.connect(database_url, autocommit=True) as conn:
            assert not mark_from_recommendation(conn, REC_ID, ids["b3"])  # another chain's balcão
            assert not mark_from_recommendation(conn, "not an id", ids["b1"])
            assert mark_from_recommendation(conn, REC_ID, ids["b1"])
            [got] = await missing.wait_for(1)
            assert mark_from_recommendation(conn, REC_ID, ids["b1"])  # again: the first stays
        await trio.sleep(1.5)  # a poll more: nothing else arrives
        assert len(missing.received) == 1
        assert other_chain.received == []
        # the suggestion itself reached who asked for suggestions; its mark did not
        assert [r.json()["evento"] for r in verdicts.received] == ["recomendacao"]

    body = got.json()
    assert body["evento"] == "em_falta" and body["cliente_id"] == ids["c1"]
    assert body["balcao"]["id"] == ids["b1"] and body["sessao_id"] == ids["s1"]
    rec = body["recomendacao"]
    assert (rec["id"], rec["produto"], rec["atendente"]) == (REC_ID, "Dorflex", "Rui")
    [(stored,)] = query(
        database_url, "SELECT em_falta_em FROM recommendations WHERE id = %s", REC_ID
    )
    assert datetime.fromisoformat(rec["em_falta_em"]) == stored
    assert verify(hook["segredo"], got.body, got.headers[HEADER])
    assert got.headers["X-Balto-Evento"] == "em_falta"
    assert query(
        database_url, "SELECT cliente_id::text, loja_id, produto, origem FROM produtos_em_falta"
    ) == [(ids["c1"], None, "Dorflex", "balcao")]
