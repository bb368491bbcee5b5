"""The admin app's JSON routes over real HTTP and PostgreSQL: the cliente's catalog (row errors,
nothing saved, JSON and CSV both ways, caps), conversations, one conversation, the Painel's
aggregates, and the Ao vivo feed."""

from __future__ import annotations

import csv
import io
import json

import httpx
import psycopg
import trio

from balto.store import live_feed
from balto.store.migrations import apply_migrations
from tests.admin_seed import SEGMENTS_PER_SESSION, seed
from tests.conftest import ADMIN, query, start_server

GOOD = (
    "nome;categoria;indicações;explicacao;tarja;complementos;contraindicações\n"
    "Cefaliv 500 mg;analgésico;dor de cabeça|febre;Genérico da casa.;isento;;"
    "Gestantes|pressão alta\n"
    '"=Soro, Fisiológico";higiene;nariz entupido;Lava o nariz.;;;\n'
)
BAD = (
    "nome,categoria,indicacoes,explicacao,tarja,contraindicacoes\n"
    "Cefaliv 500 mg,analgésico,dor de cabeça,Genérico da casa.,isento,\n"
    "Sem Categoria,,tosse,Xarope.,isento,\n"
    "Tarja Errada,antialérgico,rinite,Antialérgico.,azul,\n"
    "cefaliv 500 MG,analgésico,dor,Repetido.,isento,\n"
    "Cautela Errada,analgésico,dor,Analgésico.,isento,gestante;gripe\n"
)


async def test_a_catalog_with_bad_rows_is_refused_whole_and_a_good_one_replaces_the_default(
    nursery: trio.Nursery, database_url: str
) -> None:
    running = await start_server(nursery, database_url)
    ids = seed(database_url)
    url = f"/admin/clientes/{ids['c1']}/catalogo"
    async with httpx.AsyncClient(base_url=running.base_url, headers=ADMIN) as http:
        before = (await http.get(url)).json()
        assert before["padrao"] is True and before["versao"] is None and before["produtos"]

        bad = await http.put(url, content=BAD, headers={"Content-Type": "text/csv"})
        assert bad.status_code == 400, bad.text
        body = bad.json()
        assert body["error"] == "invalid_catalog"
        assert [(e["linha"], e["campo"]) for e in body["erros"]] == [
            (3, "categoria"),
            (4, "tarja"),
            (5, "nome"),
            (6, "contraindicacoes"),
        ]
        assert "linha 2" in body["erros"][2]["mensagem"]
        assert "'gripe'" in body["erros"][3]["mensagem"]  # names it, and what may be written
        assert "gravidez, amamentacao, hipertensao" in body["erros"][3]["mensagem"]
        assert query(database_url, "SELECT count(*) FROM cliente_catalogs") == [(0,)]

        ok = await http.put(
            url + "?nome=rede.csv", content=GOOD.encode(), headers={"Content-Type": "text/csv"}
        )
        assert ok.status_code == 200, ok.text
        assert ok.json()["produtos"] == 2 and ok.json()["versao"]
        now = (await http.get(url)).json()
        assert (now["padrao"], now["origem"], now["versao"]) == (
            False,
            "rede.csv",
            ok.json()["versao"],
        )
        assert [p["nome"] for p in now["produtos"]] == ["Cefaliv 500 mg", "=Soro, Fisiológico"]
        assert now["produtos"][0]["indicacoes"] == ["dor de cabeça", "febre"]
        # conditions as a chain writes them, kept as the advice reads them
        assert now["produtos"][0]["contraindicacoes"] == ["gravidez", "hipertensao"]
        assert now["produtos"][1]["contraindicacoes"] == []
        other = (await http.get(f"/admin/clientes/{ids['c2']}/catalogo")).json()
        assert other["padrao"] is True

        download = await http.get(url, params={"formato": "csv"})
        assert download.headers["content-type"].startswith("text/csv")
        assert "attachment" in download.headers["content-disposition"]
        rows = list(csv.reader(io.StringIO(download.text.lstrip("\ufeff"))))
        assert rows[0] == [
            "nome",
            "categoria",
            "indicacoes",
            "explicacao",
            "tarja",
            "complementos",
            "contraindicacoes",
        ]
        assert rows[1][:3] == ["Cefaliv 500 mg", "analgésico", "dor de cabeça; febre"]
        assert rows[1][6] == "gravidez; hipertensao"
        assert rows[2][0] == "'=Soro, Fisiológico"  # a spreadsheet shows it, never runs it
        by_accept = await http.get(url, headers={"Accept": "text/csv"})
        assert by_accept.headers["content-type"].startswith("text/csv")

        as_json = [
            {
                "nome": "Unhafix",
                "categoria": "dermatológico",
                "indicacoes": ["unha encravada"],
                "explicacao": "Pomada.",
            },
            {"nome": "Sem nada"},
            "not an object",
        ]
        refused = await http.put(url, json={"produtos": as_json})
        assert refused.status_code == 400
        assert {(e["linha"], e["campo"]) for e in refused.json()["erros"]} == {
            (3, None),
            (2, "categoria"),
            (2, "indicacoes"),
            (2, "explicacao"),
        }
        saved = await http.put(url, json=as_json[:1])
        assert saved.status_code == 200 and saved.json()["produtos"] == 1

        assert (
            await http.put(url, content=b"x", headers={"Content-Type": "image/png"})
        ).status_code == 415
        huge = "nome,categoria,indicacoes,explicacao\n" + "a,b,c,d\n" * 300_000
        async with httpx.AsyncClient(base_url=running.base_url, headers=ADMIN) as once:
            # its own connection: Hypercorn answers 413 before the body is read, and a client
            # reusing that connection afterwards waits (README, admin app)
            too_big = await once.put(url, content=huge, headers={"Content-Type": "text/csv"})
        assert too_big.status_code == 413
        unknown = "/admin/clientes/00000000-0000-0000-0000-000000000000/catalogo"
        assert (await http.put(unknown, json=as_json[:1])).status_code == 404
        assert (await http.get(unknown)).status_code == 404
        async with httpx.AsyncClient(base_url=running.base_url, headers=ADMIN) as http:
            # the app's 64 KiB cap still holds everywhere else
            big_form = await http.post(
                "/cadastro/cliente",
                content=b"{" + b" " * 70_000 + b"}",
                headers={"Content-Type": "application/json"},
            )
            assert big_form.status_code == 413
    assert query(database_url, "SELECT source FROM cliente_catalogs") == [("upload.json",)]


async def test_conversations_one_conversation_the_painel_and_the_live_feed(
    nursery: trio.Nursery, database_url: str
) -> None:
    running = await start_server(nursery, database_url, BALTO_BRL_PER_USD="5.5")
    ids = seed(database_url)
    query(database_url, "UPDATE sessions SET atendente = 'Ana Paula' WHERE id = %s", ids["s2"])
    for session, seqs, name in (
        ("s1", (0, 1), "Ana Paula"),
        ("s1", (2,), "ana paula"),
        ("s3", (0, 1, 2, 3, 4), "Bruno"),
    ):
        query(
            database_url,
            "UPDATE recommendations r SET atendente = %s FROM segments g"
            " WHERE g.id = r.segment_id AND r.session_id = %s AND g.seq = ANY(%s)",
            name,
            ids[session],
            list(seqs),
        )
    query(
        database_url,
        "INSERT INTO alerts (id, session_id, sinal, sinais, motivo, orientacao, transcricao_base,"
        " created_at, atendente) VALUES (gen_random_uuid(), %s, 'dor_no_peito', '{dor_no_peito}',"
        " 'Dor no peito', 'Procure o SAMU', 'dor no peito', '2026-03-02T12:00:30Z', 'Carla')",
        ids["s1"],
    )
    query(
        database_url,
        "INSERT INTO advice_refusals (session_id, provider, model, reason, said, created_at)"
        " VALUES (%s, 'xai', 'grok', 'exige_receita', 'Amoxicilina', '2026-03-02T12:00:40Z')",
        ids["s1"],
    )
    query(
        database_url,
        "INSERT INTO provider_calls (session_id, kind, provider, model, ok, latency_ms, cost_usd,"
        " created_at) VALUES (%s, 'llm', 'xai', 'grok', true, 100, 0.5, '2026-03-02T12:01:00Z')",
        ids["s1"],
    )
    async with httpx.AsyncClient(base_url=running.base_url, headers=ADMIN) as http:
        everything = (await http.get("/admin/history/conversas")).json()
        assert len(everything["items"]) == 3
        by_cliente = (
            await http.get("/admin/history/conversas", params={"cliente_id": ids["c1"]})
        ).json()
        assert {c["id"] for c in by_cliente["items"]} == {ids["s1"], ids["s2"]}
        by_name = (
            await http.get("/admin/history/conversas", params={"atendente": "ana paula"})
        ).json()
        assert [c["id"] for c in by_name["items"]] == [ids["s2"]]
        first = (await http.get("/admin/history/conversas", params={"limit": 2})).json()
        rest = (
            await http.get("/admin/history/conversas", params={"cursor": first["next_cursor"]})
        ).json()
        assert len(first["items"]) == 2 and len(rest["items"]) == 1 and rest["next_cursor"] is None
        assert (
            await http.get("/admin/history/conversas", params={"desde": "x"})
        ).status_code == 400

        one = (await http.get(f"/admin/history/conversas/{ids['s1']}")).json()
        s1 = one["sessao"]
        assert (s1["falas"], s1["recomendacoes"], s1["aceitas"], s1["alertas"]) == (5, 5, 2, 1)
        kinds = [i["tipo"] for i in one["itens"]]
        assert kinds.count("fala") == SEGMENTS_PER_SESSION and "alerta" in kinds
        refusal = next(i for i in one["itens"] if i["tipo"] == "recusa")
        assert (refusal["erro"], refusal["fonte"], refusal["texto"]) == (
            "exige_receita",
            "xai:grok",
            "Amoxicilina",
        )
        rec = next(i for i in one["itens"] if i["tipo"] == "recomendacao")
        assert (rec["explicacao"], rec["aceita"]) == ("porque sim", True)
        assert one["next_cursor"] is None and one["sessao"]["atendimentos"] == 1
        # a customer after the first, marked on a segment: counted in the list and the row
        query(
            database_url,
            "UPDATE segments SET novo_atendimento = 'pausa' WHERE session_id = %s AND seq = 3",
            ids["s1"],
        )
        listed = (await http.get("/admin/history/conversas")).json()["items"]
        assert {c["id"]: c["atendimentos"] for c in listed} == {
            ids["s1"]: 2,
            ids["s2"]: 1,
            ids["s3"]: 1,
        }
        again = (await http.get(f"/admin/history/conversas/{ids['s1']}")).json()
        assert again["sessao"]["atendimentos"] == 2
        # a session that lasted a shift is read in pages, in the same order, nothing twice
        pages, cursor = [], None
        while True:
            params = {"limit": 3} | ({"cursor": cursor} if cursor else {})
            page = (await http.get(f"/admin/history/conversas/{ids['s1']}", params=params)).json()
            pages.append(page["itens"])
            if (cursor := page["next_cursor"]) is None:
                break
        assert [len(p) for p in pages[:-1]] == [3] * (len(pages) - 1) and 1 <= len(pages[-1]) <= 3
        assert [i["id"] for p in pages for i in p] == [i["id"] for i in one["itens"]]
        for bad in ({"limit": 0}, {"limit": 2001}, {"limit": "x"}, {"cursor": "nada"}):
            refused = await http.get(f"/admin/history/conversas/{ids['s1']}", params=bad)
            assert refused.status_code == 400, bad
            assert refused.json()["field"] == next(iter(bad)), refused.text
        missing = await http.get("/admin/history/conversas/00000000-0000-0000-0000-000000000000")
        assert missing.status_code == 404

        painel = (
            await http.get(
                "/admin/painel/dados", params={"desde": "2026-03-01", "ate": "2026-03-03"}
            )
        ).json()
        assert painel["fuso"] == "America/Sao_Paulo" and painel["brl_por_usd"] == 5.5
        [day] = painel["series"]
        assert day["periodo"] == "2026-03-02"  # 12:00 UTC is 09:00 in São Paulo, same day
        assert (day["sessoes"], day["recomendacoes"], day["alertas"]) == (3, 15, 1)
        assert (day["aceitas"], day["com_feedback"]) == (6, 12)
        assert (day["custo_usd"], day["custo_brl"]) == (0.5, 2.75)
        week = (
            await http.get(
                "/admin/painel/dados",
                params={"desde": "2026-03-01", "ate": "2026-03-03", "grao": "semana"},
            )
        ).json()
        assert [w["periodo"] for w in week["series"]] == ["2026-03-02"]  # Monday
        assert {c["razao_social"]: c["sessoes"] for c in painel["por_cliente"]} == {
            "Rede c1": 2,
            "Rede c2": 1,
        }
        assert len(painel["por_balcao"]) == 3 and len(painel["produtos"]) == 10
        # per attendant: one name in any case is one row, under its most used spelling
        fields = (
            "razao_social",
            "atendente",
            "recomendacoes",
            "aceitas",
            "com_feedback",
            "alertas",
            "orientadas",
        )
        said_by = [tuple(r[f] for f in fields) for r in painel["por_atendente"]]
        assert said_by == [
            ("Rede c1", "Ana Paula", 8, 3, 6, 0, 0),  # s2's five under the session's name
            ("Rede c2", "Bruno", 5, 2, 4, 0, 0),
            ("Rede c1", None, 2, 1, 2, 0, 0),
            ("Rede c1", "Carla", 0, 0, 0, 1, 0),  # an alert is hers too, its guidance not given
        ]
        assert (await http.get("/admin/painel/dados", params={"grao": "mes"})).status_code == 400

        alertas = "/admin/history/alertas"
        [alert] = (await http.get(alertas, params={"cliente_id": ids["c1"]})).json()["items"]
        assert (alert["sinal"], alert["nome_balcao"]) == ("dor_no_peito", "Balcão b1")
        assert (await http.get(alertas, params={"cliente_id": ids["c2"]})).json()["items"] == []
        assert (await http.get(alertas, params={"atendente": "Ana Paula"})).json()["items"] == []
        by_sign = (await http.get(alertas, params={"sinal": "falta_de_ar"})).json()
        assert by_sign["items"] == []

        live = (await http.get("/admin/ao-vivo/dados")).json()
        assert live["sessions"] == [] and live["encerradas"] == []
    assert json.dumps(painel)  # plain JSON all the way


async def test_a_catalog_with_text_postgresql_cannot_hold_names_the_rows(
    nursery: trio.Nursery, database_url: str
) -> None:
    # a NUL in a cell was a 500 (PostgreSQL refuses it); a lone surrogate is not even UTF-8
    running = await start_server(nursery, database_url)
    ids = seed(database_url)
    url = f"/admin/clientes/{ids['c1']}/catalogo"
    nul_csv = "nome,categoria,indicacoes,explicacao\nCefaliv,analgésico,dor,Gené\x00rico.\n"
    product = '{"nome": "%s", "categoria": "a", "indicacoes": ["%s"], "explicacao": "b"}'
    escaped = "[" + product % (r"Cef\u0000", "dor") + ", " + product % ("Soro", r"\ud800") + "]"
    async with httpx.AsyncClient(base_url=running.base_url, headers=ADMIN) as http:
        refused = await http.put(url, content=nul_csv, headers={"Content-Type": "text/csv"})
        assert refused.status_code == 400, refused.text
        assert [(e["linha"], e["campo"]) for e in refused.json()["erros"]] == [(2, "explicacao")]
        refused = await http.put(url, content=escaped, headers={"Content-Type": "application/json"})
        assert refused.status_code == 400, refused.text
        assert [(e["linha"], e["campo"]) for e in refused.json()["erros"]] == [
            (1, "nome"),
            (2, "indicacoes"),
        ]
    assert query(database_url, "SELECT count(*) FROM cliente_catalogs") == [(0,)]


def test_the_live_feed_says_who_spoke_where_the_voice_was_identified(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        apply_migrations(conn)
    ids = seed(database_url)
    labels = [("atendente", "Ana"), ("cliente", None)]
    for seq, (falante, nome) in enumerate(labels):
        query(
            database_url,
            "UPDATE segments SET falante = %s, atendente = %s WHERE session_id = %s AND seq = %s",
            falante, nome, ids["s3"], seq,
        )  # fmt: skip
    with psycopg.connect(database_url) as conn:
        events = live_feed.recent_events(conn, [ids["s3"]])[ids["s3"]]
    said = [(e["falante"], e["atendente"]) for e in events if e["tipo"] == "fala"]
    unlabelled = [(None, None)] * (SEGMENTS_PER_SESSION - len(labels))
    assert said == labels + unlabelled
    others = [(e["falante"], e["atendente"]) for e in events if e["tipo"] != "fala"]
    assert others and set(others) == {(None, None)}
