"""A chain's webhooks over real HTTP and PostgreSQL, to a real HTTP receiver on loopback: what the
database writes is queued by its trigger and sent signed, failures retried and given up, sent
again on request, one send per delivery across instances, paused while the chain is suspended,
and a red flag at a real counter heard by the chain's system (refusals: test_webhook_refusals)."""

from __future__ import annotations

import httpx
import trio

from balto.device import stream_file
from balto.webhooks.deliverer import PER_WEBHOOK
from balto.webhooks.signing import HEADER, verify
from tests.admin_seed import seed
from tests.conftest import ADMIN, query, start_server, ws_url
from tests.fakes.openai_compat import FakeOpenAICompat
from tests.test_advice_e2e import WEBM, frames, says, serve
from tests.webhook_api import PRIVATE, log_of, log_until, make_hook
from tests.webhook_receiver import receiver


async def test_what_the_database_writes_is_sent_signed_once_to_each_subscriber(
    nursery: trio.Nursery, database_url: str
) -> None:
    running = await start_server(nursery, database_url, **PRIVATE)
    with receiver() as alerts_only, receiver() as both:
        async with httpx.AsyncClient(base_url=running.base_url) as http:
            ids = seed(database_url)  # before any webhook: nothing queued for these rows
            hook_a = await make_hook(http, ids["c1"], alerts_only.url)
            hook_b = await make_hook(
                http, ids["c1"], both.url, eventos=["recomendacao", "alerta"], descricao="CRM"
            )
            assert hook_a["eventos"] == ["alerta"] and hook_b["eventos"] == [
                "alerta",
                "recomendacao",
            ]
            assert hook_a["segredo"].startswith("whsec_")
            # another chain's webhook hears nothing of this one's counters
            with receiver() as other:
                await make_hook(http, ids["c2"], other.url, eventos=["alerta", "recomendacao"])
                alert_id = "7f8e3c52-4a43-4c8e-9d3e-2b7c0e0a9d11"
                query(
                    database_url,
                    "INSERT INTO alerts (id, session_id, sinal, sinais, motivo, orientacao,"
                    " transcricao_base, atendente) VALUES (%s, %s, 'dor_no_peito',"
                    " '{dor_no_peito}', 'Dor no peito', 'Encaminhar ao pronto-socorro',"
                    " 'meu pai está com um aperto no peito', 'Rui')",
                    alert_id,
                    ids["s1"],
                )
                rec_id = "1c0b8f7e-0b5e-4d7e-8a8e-5b1f3f0c2a22"
                query(
                    database_url,
                    "INSERT INTO recommendations (id, session_id, produto, explicacao,"
                    " transcricao_base, source) VALUES (%s, %s, 'Loratadina 10 mg',"
                    " 'Para a rinite.', 'espirrando o dia inteiro', 'xai')",
                    rec_id,
                    ids["s2"],
                )
                [got_a] = await alerts_only.wait_for(1)
                got_b = await both.wait_for(2)
                await trio.sleep(1.5)  # a poll more: nothing else arrives
                assert other.received == []
            assert len(alerts_only.received) == 1 and len(both.received) == 2

            body = got_a.json()
            assert body["evento"] == "alerta" and body["cliente_id"] == ids["c1"]
            assert body["alerta"] == {
                "id": alert_id,
                "sinal": "dor_no_peito",
                "sinais": ["dor_no_peito"],
                "motivo": "Dor no peito",
                "orientacao": "Encaminhar ao pronto-socorro",
                "atendente": "Rui",
                "transcricao_base": "meu pai está com um aperto no peito",
                "criado_em": body["alerta"]["criado_em"],
            }
            assert body["balcao"] == {
                "id": ids["b1"],
                "nome": "Balcão b1",
                "loja_id": None,
                "loja": None,
            }
            assert body["sessao_id"] == ids["s1"]
            headers = {k.lower(): v for k, v in got_a.headers.items()}
            assert headers["x-balto-evento"] == "alerta"
            assert headers["x-balto-entrega"] == body["id"]
            assert headers["content-type"].startswith("application/json")
            assert verify(hook_a["segredo"], got_a.body, headers[HEADER.lower()])
            assert not verify(hook_b["segredo"], got_a.body, headers[HEADER.lower()])
            assert not verify(hook_a["segredo"], got_a.body + b" ", headers[HEADER.lower()])

            by_event = {r.json()["evento"]: r.json() for r in got_b}
            assert by_event["recomendacao"]["recomendacao"]["produto"] == "Loratadina 10 mg"
            assert by_event["recomendacao"]["recomendacao"]["aceita"] is None
            assert by_event["recomendacao"]["balcao"]["id"] == ids["b2"]
            assert by_event["alerta"]["alerta"]["id"] == alert_id

            [entry] = await log_until(http, hook_a["id"], lambda log: log[0]["entregue_em"])
            assert (entry["evento"], entry["objeto_id"], entry["tentativas"]) == (
                "alerta",
                alert_id,
                1,
            )
            assert (entry["ultimo_status"], entry["ultimo_erro"], entry["proxima_em"]) == (
                200,
                None,
                None,
            )
            listed = (await http.get(f"/admin/clientes/{ids['c1']}/webhooks", headers=ADMIN)).json()
            by_url = {item["url"]: item for item in listed["items"]}
            assert by_url[both.url]["entregues_24h"] == 2 and by_url[both.url]["pendentes"] == 0
            assert by_url[both.url]["descricao"] == "CRM"
            assert all("segredo" not in item for item in listed["items"])


async def test_a_failing_receiver_is_retried_given_up_and_sent_again_on_request(
    nursery: trio.Nursery, database_url: str
) -> None:
    running = await start_server(
        nursery,
        database_url,
        **PRIVATE,
        BALTO_WEBHOOK_RETRY_S="0.1",
        BALTO_WEBHOOK_ATTEMPTS="3",
        BALTO_WEBHOOK_TIMEOUT_S="0.5",
    )
    ids = seed(database_url)
    with receiver() as flaky:
        async with httpx.AsyncClient(base_url=running.base_url) as http:
            hook = await make_hook(http, ids["c1"], flaky.url)
            flaky.answers = [500, 503, 500]
            sent = await http.post(f"/admin/webhooks/{hook['id']}/teste", headers=ADMIN)
            assert sent.status_code == 202, sent.text
            entrega = sent.json()["entrega_id"]
            [entry] = await log_until(http, hook["id"], lambda log: log[0]["desistida_em"])
            assert (entry["id"], entry["evento"], entry["tentativas"]) == (entrega, "teste", 3)
            assert entry["ultimo_status"] == 500
            assert entry["ultimo_erro"] == "o receptor respondeu HTTP 500"
            assert [r.status for r in flaky.received] == [500, 503, 500]
            listed = (await http.get(f"/admin/clientes/{ids['c1']}/webhooks", headers=ADMIN)).json()
            assert listed["items"][0]["desistidas_24h"] == 1

            # sent again on request: its attempts start afresh, and it arrives
            again = await http.post(
                f"/admin/webhooks/{hook['id']}/entregas/{entrega}/reenviar", headers=ADMIN
            )
            assert again.status_code == 202, again.text
            [arrived] = await flaky.wait_for(1)
            assert arrived.json()["id"] == entrega and arrived.json()["evento"] == "teste"
            [entry] = await log_until(http, hook["id"], lambda log: log[0]["entregue_em"])
            listed = (await http.get(f"/admin/clientes/{ids['c1']}/webhooks", headers=ADMIN)).json()
            assert (listed["items"][0]["entregues_24h"], listed["items"][0]["desistidas_24h"]) == (
                1,
                0,
            )
            assert (entry["tentativas"], entry["ultimo_status"], entry["desistida_em"]) == (
                1,
                200,
                None,
            )

            # a receiver that holds the request past the time limit: tried again, so it may
            # see one delivery twice, under the same X-Balto-Entrega (at least once)
            flaky.hold_s = 1.0
            slow = (await http.post(f"/admin/webhooks/{hook['id']}/teste", headers=ADMIN)).json()
            [sending, _] = await log_until(http, hook["id"], lambda log: log[0]["em_envio"])
            assert sending["proxima_em"] is None and sending["entregue_em"] is None
            await log_until(
                http,
                hook["id"],
                lambda log: log[0]["ultimo_erro"] == "sem resposta no tempo limite",
            )
            flaky.hold_s = 0.0
            await log_until(http, hook["id"], lambda log: log[0]["entregue_em"])
            twice = [r for r in flaky.received if r.json()["id"] == slow["entrega_id"]]
            assert len(twice) >= 2
            assert {r.headers["X-Balto-Entrega"] for r in twice} == {slow["entrega_id"]}

            # a pending delivery cannot be "sent again"; another webhook's id is unknown
            assert (
                await http.post(
                    f"/admin/webhooks/{hook['id']}/entregas/{ids['s1']}/reenviar", headers=ADMIN
                )
            ).status_code == 404


async def test_a_new_secret_signs_beside_the_old_for_a_day_then_alone(
    nursery: trio.Nursery, database_url: str
) -> None:
    running = await start_server(nursery, database_url, **PRIVATE)
    ids = seed(database_url)
    with receiver() as chain:
        async with httpx.AsyncClient(base_url=running.base_url) as http:
            hook = await make_hook(http, ids["c1"], chain.url)
            first = hook["segredo"]
            rotated = await http.post(f"/admin/webhooks/{hook['id']}/segredo", headers=ADMIN)
            assert rotated.status_code == 200, rotated.text
            second = rotated.json()["segredo"]
            assert second.startswith("whsec_") and second != first
            listed = (await http.get(f"/admin/clientes/{ids['c1']}/webhooks", headers=ADMIN)).json()
            until = listed["items"][0]["segredo_anterior_ate"]
            assert until == rotated.json()["segredo_anterior_ate"]
            await http.post(f"/admin/webhooks/{hook['id']}/teste", headers=ADMIN)
            [both] = await chain.wait_for(1)
            signature = both.headers[HEADER]
            assert signature.count("v1=") == 2
            assert verify(second, both.body, signature) and verify(first, both.body, signature)

            # once the overlap is over, the new secret signs alone
            query(database_url, "UPDATE webhooks SET segredo_anterior_ate = now()")
            await http.post(f"/admin/webhooks/{hook['id']}/teste", headers=ADMIN)
            alone = (await chain.wait_for(2))[1]
            assert alone.headers[HEADER].count("v1=") == 1
            assert verify(second, alone.body, alone.headers[HEADER])
            assert not verify(first, alone.body, alone.headers[HEADER])
            listed = (await http.get(f"/admin/clientes/{ids['c1']}/webhooks", headers=ADMIN)).json()
            assert listed["items"][0]["segredo_anterior_ate"] is None

            # asked twice: two secrets at most ever sign, the newest two
            third = (await http.post(f"/admin/webhooks/{hook['id']}/segredo", headers=ADMIN)).json()
            fourth = (
                await http.post(f"/admin/webhooks/{hook['id']}/segredo", headers=ADMIN)
            ).json()
            await http.post(f"/admin/webhooks/{hook['id']}/teste", headers=ADMIN)
            last = (await chain.wait_for(3))[2]
            assert verify(fourth["segredo"], last.body, last.headers[HEADER])
            assert verify(third["segredo"], last.body, last.headers[HEADER])
            assert not verify(second, last.body, last.headers[HEADER])
            unknown = await http.post(f"/admin/webhooks/{ids['s1']}/segredo", headers=ADMIN)
            assert unknown.status_code == 404
    rotations = query(
        database_url, "SELECT count(*) FROM admin_audit WHERE action = 'rotate_webhook_secret'"
    )
    assert rotations == [(3,)]


async def test_each_delivery_is_sent_once_across_instances(
    nursery: trio.Nursery, database_url: str
) -> None:
    a = await start_server(nursery, database_url, **PRIVATE)
    b = await start_server(nursery, database_url, **PRIVATE)
    ids = seed(database_url)
    with receiver() as chain:
        async with httpx.AsyncClient(base_url=a.base_url) as on_a:
            hook = await make_hook(on_a, ids["c1"], chain.url)
            async with httpx.AsyncClient(base_url=b.base_url) as on_b:
                sent = []
                for n in range(40):
                    http = on_a if n % 2 else on_b
                    made = await http.post(f"/admin/webhooks/{hook['id']}/teste", headers=ADMIN)
                    sent.append(made.json()["entrega_id"])
            got = await chain.wait_for(40)
            await trio.sleep(1.5)
    assert sorted(r.json()["id"] for r in chain.received) == sorted(sent)
    assert query(
        database_url,
        "SELECT count(*), max(tentativas) FROM webhook_entregas WHERE entregue_em IS NOT NULL",
    ) == [(40, 1)]
    assert len(got) == 40


async def test_a_receiver_that_hangs_holds_a_few_slots_and_other_chains_go_on(
    nursery: trio.Nursery, database_url: str
) -> None:
    running = await start_server(
        nursery, database_url, **PRIVATE, BALTO_WEBHOOK_TIMEOUT_S="8", BALTO_WEBHOOK_RETRY_S="60"
    )
    ids = seed(database_url)
    with receiver() as stuck, receiver() as fine:
        stuck.hold_s = 9.0
        async with httpx.AsyncClient(base_url=running.base_url) as http:
            hung = await make_hook(http, ids["c1"], stuck.url)
            other = await make_hook(http, ids["c2"], fine.url)
            suspend = f"/admin/clientes/{ids['c1']}/suspensao"
            # queued while c1 is suspended, so all 20 are due together ahead of c2's
            await http.put(suspend, json={"motivo": "fila"}, headers=ADMIN)
            for _ in range(20):
                await http.post(f"/admin/webhooks/{hung['id']}/teste", headers=ADMIN)
            await http.delete(suspend, headers=ADMIN)
            await trio.sleep(0.5)  # the deliverer's next look finds them
            await http.post(f"/admin/webhooks/{other['id']}/teste", headers=ADMIN)
            await fine.wait_for(1)
            with trio.fail_after(5):
                while stuck.arrived < PER_WEBHOOK:  # noqa: ASYNC110 - another thread's count
                    await trio.sleep(0.05)
            # it arrived while the hung receiver's first attempts were still held open, and
            # those were no more than one webhook's share of the slots
            assert [e["ultima_em"] for e in await log_of(http, hung["id"])] == [None] * 20
            assert stuck.arrived == PER_WEBHOOK


async def test_a_suspended_chains_deliveries_wait_erased_words_stay_erased_and_removal_drops(
    nursery: trio.Nursery, database_url: str
) -> None:
    running = await start_server(nursery, database_url, **PRIVATE, BALTO_WEBHOOK_RETRY_S="60")
    ids = seed(database_url)
    with receiver() as chain:
        async with httpx.AsyncClient(base_url=running.base_url) as http:
            hook = await make_hook(http, ids["c1"], chain.url)
            stop = await http.put(
                f"/admin/clientes/{ids['c1']}/suspensao", json={"motivo": "contrato"}, headers=ADMIN
            )
            assert stop.status_code == 200, stop.text
            await http.post(f"/admin/webhooks/{hook['id']}/teste", headers=ADMIN)
            # an alert written meanwhile, and its conversation erased before it goes out
            query(
                database_url,
                "INSERT INTO alerts (id, session_id, sinal, motivo, orientacao, transcricao_base)"
                " VALUES (gen_random_uuid(), %s, 'dor_no_peito', 'Dor no peito', 'Encaminhar',"
                " 'meu pai está com um aperto no peito')",
                ids["s1"],
            )
            query(database_url, "UPDATE sessions SET ended_at = now() WHERE id = %s", ids["s1"])
            erased = await http.delete(f"/admin/history/conversas/{ids['s1']}", headers=ADMIN)
            assert erased.status_code == 200, erased.text
            await trio.sleep(2.5)
            assert chain.received == []
            log = await log_of(http, hook["id"])
            assert [(e["tentativas"], e["proxima_em"] is not None) for e in log] == [(0, True)] * 2
            scraped = (await http.get("/metrics", headers=ADMIN)).text
            assert "balto_webhook_pending 2.0" in scraped
            [oldest] = [
                float(line.split()[1])
                for line in scraped.splitlines()
                if line.startswith("balto_webhook_oldest_pending_seconds ")
            ]
            assert 2.5 <= oldest < 60
            resumed = await http.delete(f"/admin/clientes/{ids['c1']}/suspensao", headers=ADMIN)
            assert resumed.status_code == 200
            got = await chain.wait_for(2)
            [alert] = [r.json() for r in got if r.json()["evento"] == "alerta"]
            assert alert["alerta"]["transcricao_base"] == ""
            assert alert["alerta"]["motivo"] == "Dor no peito"
            chain.received.clear()

            # a receiver down: the delivery waits for its next attempt; removing the webhook
            # drops it, and nothing more is sent there
            chain.answers = [500]
            await http.post(f"/admin/webhooks/{hook['id']}/teste", headers=ADMIN)
            await log_until(http, hook["id"], lambda log: log[0]["ultimo_status"] == 500)
            assert [r.status for r in chain.received] == [500]
            gone = await http.delete(f"/admin/webhooks/{hook['id']}", headers=ADMIN)
            assert gone.status_code == 204
            assert query(database_url, "SELECT count(*) FROM webhook_entregas") == [(0,)]
            again = await http.delete(f"/admin/webhooks/{hook['id']}", headers=ADMIN)
            assert again.status_code == 404
            actions = query(
                database_url,
                "SELECT action FROM admin_audit WHERE action LIKE '%%webhook%%' ORDER BY id",
            )
            assert [a for (a,) in actions] == [
                "create_webhook",
                "test_webhook",
                "test_webhook",
                "delete_webhook",
            ]


async def test_a_red_flag_at_the_counter_reaches_the_chains_system(
    nursery: trio.Nursery, database_url: str
) -> None:
    """Over real sockets: a device streams, the advisor alerts, the webhook hears it."""
    xai = FakeOpenAICompat("xai")
    xai.respond = says("loratadina 10mg")
    transcripts = [
        "Bom dia, eu tô espirrando o dia inteiro, acho que é rinite.",
        "Moça, meu pai está com um aperto no peito.",
    ]
    running, api_key = await serve(nursery, database_url, transcripts, xai, **PRIVATE)
    [(balcao_id, cliente)] = query(database_url, "SELECT id::text, cliente_id::text FROM balcoes")
    with receiver() as chain:
        async with httpx.AsyncClient(base_url=running.base_url) as http:
            hook = await make_hook(http, cliente, chain.url, eventos=["alerta", "recomendacao"])
        run = await stream_file(ws_url(running), api_key, WEBM, linger_s=2.0, atendente="Rui")
        got = await chain.wait_for(2)
    [alert] = frames(run, "alerta")
    [rec] = frames(run, "recomendar")
    by_event = {r.json()["evento"]: r for r in got}
    sent_alert = by_event["alerta"].json()
    assert sent_alert["alerta"]["id"] == alert["id"]
    assert (sent_alert["alerta"]["sinal"], sent_alert["alerta"]["atendente"]) == (
        "dor_no_peito",
        "Rui",
    )
    assert sent_alert["balcao"]["id"] == balcao_id
    assert sent_alert["balcao"]["nome"] == "Balcão Entrada 01"
    assert by_event["recomendacao"].json()["recomendacao"]["produto"] == rec["produto"]
    for r in got:
        assert verify(hook["segredo"], r.body, r.headers[HEADER])
