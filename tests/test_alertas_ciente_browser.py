"""Alerts nobody saw live, acknowledged afterwards: an alert of a conversation that ended before
any admin saw it never reaches Ao vivo's banner again, so the Histórico lists the alerts without
a *Ciente* (``GET /admin/history/alertas?sem_ciente=true``, *Situação: Sem ciente*, kept in the
address) and each can be acknowledged there, or on its conversation's page: stored once for
every admin, with who, and audited, as on Ao vivo. In a real Chromium; needs Debian's
``chromium``."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import httpx
import trio

from tests.admin_seed import seed
from tests.browser import chromium, needs_chromium, open_page, photograph, settle, sign_in
from tests.conftest import ADMIN, query, start_server

pytestmark = needs_chromium

ROWS = 'Array.from(document.querySelectorAll("#alertas tbody tr[data-alerta]"))'


def _alert(database_url: str, session_id: str, ciente: bool) -> str:
    alert_id = str(uuid.uuid4())
    query(
        database_url,
        "INSERT INTO alerts (id, session_id, sinal, sinais, motivo, orientacao, transcricao_base,"
        " ciente_em, ciente_por) VALUES (%s, %s, 'falta_de_ar', ARRAY['falta_de_ar'],"
        " 'Falta de ar', 'Procure atendimento médico agora.', 'ela está com falta de ar',"
        " CASE WHEN %s THEN now() END, CASE WHEN %s THEN 'Bia' END)",
        alert_id,
        session_id,
        ciente,
        ciente,
    )
    return alert_id


async def test_alerts_nobody_saw_live_are_listed_and_acknowledged_afterwards(
    nursery: trio.Nursery, database_url: str, tmp_path: Path
) -> None:
    executable = chromium()
    running = await start_server(nursery, database_url)
    ids = seed(database_url)
    seen = _alert(database_url, ids["s1"], ciente=True)
    unseen = _alert(database_url, ids["s2"], ciente=False)
    elsewhere = _alert(database_url, ids["s3"], ciente=False)
    async with httpx.AsyncClient(base_url=running.base_url, headers=ADMIN) as http:
        listed = await http.get("/admin/history/alertas", params={"sem_ciente": "true"})
        assert listed.status_code == 200, listed.text
        assert {a["id"] for a in listed.json()["items"]} == {unseen, elsewhere}
        every = await http.get("/admin/history/alertas")
        assert {a["id"] for a in every.json()["items"]} == {seen, unseen, elsewhere}
        odd = await http.get("/admin/history/alertas", params={"sem_ciente": "talvez"})
        assert odd.status_code == 400 and odd.json()["field"] == "sem_ciente"

        async with open_page(executable, tmp_path / "profile", width=1366, height=900) as page:
            await sign_in(page, running.base_url)
            # Ao vivo says so (the banner shows live sessions' alerts only), and links to them
            await page.goto(f"{running.base_url}/admin/ao-vivo?cliente_id={ids['c1']}")
            told = await settle(
                page,
                '(p => !p.hidden && p.textContent)(document.getElementById("alertas-encerradas"))',
            )
            assert told.startswith("1 alerta de hoje, de uma conversa já encerrada"), told
            await photograph(page, "ao-vivo-sem-ciente")
            await page.click("#alertas-encerradas a")
            await settle(page, 'location.pathname === "/admin/historico"')
            await settle(page, f"{ROWS}.length === 1")  # today's, the chain's, without a Ciente
            assert await page.evaluate('document.getElementById("f-ciente").value') == "sem"
            # all of them, then those without a Ciente again, the address following the choice
            for choice, count in (("", 2), ("sem", 1)):
                await page.evaluate(
                    f'{{ const s = document.getElementById("f-ciente"); s.value = "{choice}";'
                    ' s.dispatchEvent(new Event("change")); }'
                )
                await settle(page, f"{ROWS}.length === {count}")
            assert "ciente=sem" in await page.evaluate("location.search")
            row = f'#alertas tr[data-alerta="{unseen}"]'
            await photograph(page, "historico-sem-ciente")
            await page.click(f"{row} button")  # Ciente
            said = await settle(
                page,
                f'(t => t.includes("Operador") && t)'
                f"(document.querySelector({json.dumps(row)}).cells[7].textContent)",
            )
            assert "Ciente" not in said  # the button gave way to when and who
            stored = query(
                database_url,
                "SELECT ciente_por FROM alerts WHERE ciente_em IS NOT NULL ORDER BY ciente_por",
            )
            assert stored == [("Bia",), ("Operador",)]
            # a reload with the address: still narrowed, and now nothing left to see
            await page.goto(
                f"{running.base_url}/admin/historico{await page.evaluate('location.search')}"
            )
            await settle(
                page,
                '!document.getElementById("alertas-vazio").hidden'
                ' && document.getElementById("f-ciente").value === "sem"',
            )

            # the other chain's alert, from its conversation's page
            await page.goto(f"{running.base_url}/admin/historico/{ids['s3']}")
            button = '#linha-do-tempo li[data-tipo="alerta"] button'
            await settle(page, f"document.querySelector({json.dumps(button)})")
            await page.click(button)
            shown = await settle(
                page,
                '(t => t.includes("ciente às") && t)(document.querySelector('
                '"#linha-do-tempo li[data-tipo=\\"alerta\\"]").textContent)',
            )
            assert "por Operador" in shown
        acks = query(
            database_url,
            "SELECT detail->>'alerta_id' FROM admin_audit WHERE action = 'ack_alert' ORDER BY at",
        )
        assert acks == [(unseen,), (elsewhere,)]
        again = await http.get("/admin/history/alertas", params={"sem_ciente": "true"})
        assert again.json()["items"] == []
