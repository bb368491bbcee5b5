"""A counter's word that an alert's guidance was given reaching the chain's system (webhook event
``orientacao``): sent once, when it is first stored, only to the chain's webhooks that asked for
it, signed like every event, carrying the alert and when its guidance was given."""

from __future__ import annotations

from datetime import datetime

import httpx
import psycopg
import trio

from balto.webhooks.signing import HEADER, verify
from tests.admin_seed import seed
from tests.conftest import ADMIN, query, start_server
from tests.webhook_api import PRIVATE, make_hook
from tests.webhook_receiver import receiver

ALERT_ID = "7d1f2b9a-3c4e-4f5a-9b8c-1d2e3f4a5b6c"


async def test_guidance_given_is_sent_once_to_who_asked_for_it(
    nursery: trio.Nursery, database_url: str
) -> None:
    running = await start_server(nursery, database_url, **PRIVATE)
    ids = seed(database_url)
    with receiver() as told, receiver() as verdicts, receiver() as other_chain:
        async with httpx.AsyncClient(base_url=running.base_url) as http:
            hook = await make_hook(http, ids["c1"], told.url, eventos=["orientacao"])
            assert hook["eventos"] == ["orientacao"]
            await make_hook(http, ids["c1"], verdicts.url, eventos=["retorno"])
            await make_hook(http, ids["c2"], other_chain.url, eventos=["orientacao"])
            wrong = await http.post(
                f"/admin/clientes/{ids['c1']}/webhooks",
                headers=ADMIN,
                json={"url": told.url + "/x", "eventos": ["orientado"]},
            )
            assert wrong.status_code == 400 and wrong.json()["field"] == "eventos"
            assert "orientacao" in wrong.json()["message"]
        query(
            database_url,
            "INSERT INTO alerts (id, session_id, sinal, sinais, motivo, orientacao,"
            " transcricao_base, atendente) VALUES (%s, %s, 'dor_no_peito',"
            " ARRAY['dor_no_peito'], 'Dor ou aperto no peito', 'Procure o pronto-socorro.',"
            " 'meu pai está com dor no peito', 'Rui')",
            ALERT_ID,
            ids["s1"],
        )
        query(database_url, "UPDATE alerts SET ciente_em = now() WHERE id = %s", ALERT_ID)
        given = "UPDATE alerts SET orientado_em = coalesce(orientado_em, now()) WHERE id = %s"
        query(database_url, given, ALERT_ID)
        [got] = await told.wait_for(1)
        query(database_url, given, ALERT_ID)  # said again: the first time stays, nothing new
        await trio.sleep(1.5)  # a poll more: nothing else arrives
        assert len(told.received) == 1
        assert verdicts.received == [] and other_chain.received == []

    body = got.json()
    assert body["evento"] == "orientacao" and body["cliente_id"] == ids["c1"]
    assert body["balcao"]["id"] == ids["b1"] and body["sessao_id"] == ids["s1"]
    alert = body["alerta"]
    assert (alert["id"], alert["sinal"], alert["atendente"]) == (ALERT_ID, "dor_no_peito", "Rui")
    [(stored,)] = query(database_url, "SELECT orientado_em FROM alerts WHERE id = %s", ALERT_ID)
    assert datetime.fromisoformat(alert["orientado_em"]) == stored
    assert verify(hook["segredo"], got.body, got.headers[HEADER])
    assert got.headers["X-Balto-Evento"] == "orientacao"


async def _woken(listener: psycopg.Connection, wait_s: float) -> list[str]:
    """The channels of the first notification `listener` gets within `wait_s` (off the loop:
    the server runs in this Trio run)."""
    got = await trio.to_thread.run_sync(
        lambda: list(listener.notifies(timeout=wait_s, stop_after=1))
    )
    return [n.channel for n in got]


async def test_guidance_given_wakes_the_deliverers_at_once(
    nursery: trio.Nursery, database_url: str
) -> None:
    # as an alert does: a NOTIFY in the same commit, not the one-second poll; only when a
    # webhook asked for it, and only the first time
    running = await start_server(nursery, database_url, **PRIVATE)
    ids = seed(database_url)
    query(
        database_url,
        "INSERT INTO alerts (id, session_id, sinal, sinais, motivo, orientacao,"
        " transcricao_base) VALUES (%s, %s, 'dor_no_peito', ARRAY['dor_no_peito'], 'Dor',"
        " 'Procure o pronto-socorro.', 'dor no peito')",
        ALERT_ID,
        ids["s1"],
    )
    given = "UPDATE alerts SET orientado_em = coalesce(orientado_em, now()) WHERE id = %s"
    with psycopg.connect(database_url, autocommit=True) as listener:
        listener.execute("LISTEN balto_webhooks")
        query(database_url, given, ALERT_ID)  # nobody asked: nothing queued, nobody woken
        assert await _woken(listener, 0.5) == []
        query(database_url, "UPDATE alerts SET orientado_em = NULL WHERE id = %s", ALERT_ID)
        with receiver() as told:
            async with httpx.AsyncClient(base_url=running.base_url) as http:
                await make_hook(http, ids["c1"], told.url, eventos=["orientacao"])
            query(database_url, given, ALERT_ID)
            assert await _woken(listener, 5) == ["balto_webhooks"]
            query(database_url, given, ALERT_ID)  # said again: nothing new, nobody woken
            assert await _woken(listener, 0.5) == []
            await told.wait_for(1)
