"""Searching conversations by what was said or suggested (``q`` on ``/admin/history/conversas``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from importlib import resources

import httpx
import psycopg
import trio

from balto.store.migrations import apply_migrations
from balto.store.text_search import has_words, words_of
from tests.admin_seed import BASE, seed
from tests.conftest import ADMIN, query, start_server


def _said(database_url: str, session: str, seq: int, text: str) -> None:
    query(
        database_url,
        "UPDATE segments SET transcript = %s WHERE session_id = %s AND seq = %s",
        text,
        session,
        seq,
    )


async def test_conversations_are_found_by_their_words_in_any_case_and_accents(
    nursery: trio.Nursery, database_url: str
) -> None:
    running = await start_server(nursery, database_url)
    ids = seed(database_url)  # s1, s2 of Rede c1; s3 of Rede c2; all started on 2026-03-02
    _said(database_url, ids["s1"], 2, "Estou com uma DOR de cabeça desde ontem")
    _said(database_url, ids["s3"], 0, "a cabeca doi, uma dor chata")
    query(
        database_url,
        "UPDATE recommendations SET produto = 'Dipirona Monoidratada 500 mg' WHERE session_id = %s",
        ids["s2"],
    )
    # a conversation of yesterday (what it said and was suggested too): inside the search's
    # first window, the others only in a later one
    moved = datetime.now(UTC) - timedelta(days=1) - BASE
    for table, column in (("sessions", "started_at"), ("segments", "created_at")):
        key = "id" if table == "sessions" else "session_id"
        query(
            database_url,
            f"UPDATE {table} SET {column} = {column} + %s WHERE {key} = %s",
            moved,
            ids["s3"],
        )
    query(
        database_url,
        "UPDATE recommendations SET created_at = created_at + %s WHERE session_id = %s",
        moved,
        ids["s3"],
    )
    url = "/admin/history/conversas"
    async with httpx.AsyncClient(base_url=running.base_url, headers=ADMIN) as http:

        async def found(**params: str) -> list[tuple[str, str | None]]:
            answer = await http.get(url, params=params)
            assert answer.status_code == 200, answer.text
            return [(c["id"], c["trecho"]) for c in answer.json()["items"]]

        # every word, any order, any case, accents or none: yesterday's first, then March's
        assert await found(q="cabeça dor") == [
            (ids["s3"], "a cabeca doi, uma dor chata"),
            (ids["s1"], "Estou com uma DOR de cabeça desde ontem"),
        ]
        assert await found(q="CABEC\u0327A", cliente_id=ids["c1"]) == [
            (ids["s1"], "Estou com uma DOR de cabeça desde ontem")
        ]
        # a suggested product finds its conversation; no utterance to show then
        assert await found(q="dipirona") == [(ids["s2"], None)]
        # whole words, all of them, in one utterance
        assert await found(q="dipir") == []
        assert await found(q="cabeça febre") == []
        assert await found(q="!!!") == []
        # pages: one at a time across the search's windows (a day ago, then months)
        first = (await http.get(url, params={"q": "dor cabeca", "limit": "1"})).json()
        assert [c["id"] for c in first["items"]] == [ids["s3"]]
        rest = (
            await http.get(
                url, params={"q": "dor cabeca", "limit": "1", "cursor": first["next_cursor"]}
            )
        ).json()
        assert [c["id"] for c in rest["items"]] == [ids["s1"]] and rest["next_cursor"] is None
        # with the other filters
        assert await found(q="dor cabeca", desde="2026-03-01", ate="2026-03-31") == [
            (ids["s1"], "Estou com uma DOR de cabeça desde ontem")
        ]
        assert await found(q="dor", atendente="ninguém") == []

        long = await http.get(url, params={"q": "x" * 101})
        assert long.status_code == 400 and long.json()["field"] == "q"
        nul = await http.get(url, params={"q": "dor\x00"})
        assert nul.status_code == 400 and nul.json()["field"] == "q"

        # what was said and then erased is found no more
        query(database_url, "UPDATE sessions SET ended_at = now() WHERE id = %s", ids["s1"])
        erased = await http.delete(f"{url}/{ids['s1']}")
        assert erased.status_code == 200
        assert await found(q="cabeca dor") == [(ids["s3"], "a cabeca doi, uma dor chata")]


def test_the_words_searched_are_the_texts_folded_and_indexed(database_url: str) -> None:
    """Migration 0025's columns are `words_of` verbatim, erased text has none, the index is read."""
    migration = (
        resources.files("balto.store")
        .joinpath("migrations", "0025_history_search.sql")
        .read_text(encoding="utf-8")
    )
    assert f"GENERATED ALWAYS AS ({words_of('transcript')}) STORED" in migration
    assert f"GENERATED ALWAYS AS ({words_of('produto')}) STORED" in migration
    with psycopg.connect(database_url) as conn:
        apply_migrations(conn)
        conn.execute(
            "INSERT INTO clientes (id, codigo, email, razao_social, telefone)"
            " VALUES ('00000000-0000-0000-0000-00000000000c', '900009', 'a@b.com', 'Rede', '1')"
        )
        conn.execute(
            "INSERT INTO balcoes (id, cliente_id, nome_balcao, api_key_hash, api_key_hint)"
            " VALUES ('00000000-0000-0000-0000-00000000000b',"
            " '00000000-0000-0000-0000-00000000000c', 'B', '\\x00', 'bk_')"
        )
        conn.execute(
            "INSERT INTO sessions (id, balcao_id) VALUES ('00000000-0000-0000-0000-000000000005',"
            " '00000000-0000-0000-0000-00000000000b')"
        )
        conn.execute(
            "INSERT INTO segments (id, session_id, seq, audio_start, audio_end, status, transcript)"
            " VALUES (gen_random_uuid(), '00000000-0000-0000-0000-000000000005', 0, 0, 1,"
            " 'transcribed', 'Ação: DOR de Cabeça')"
        )
        words = "SELECT palavras::text FROM segments"
        assert conn.execute(words).fetchall() == [("'acao':1 'cabeca':4 'de':3 'dor':2",)]
        conn.execute("UPDATE segments SET transcript = NULL")  # erased: no words left
        assert conn.execute(words).fetchall() == [(None,)]
        conn.execute("SET enable_seqscan = off")
        for table, alias, index in (
            ("segments", "g", "segments_words"),
            ("recommendations", "r", "recommendations_words"),
        ):
            plan = conn.execute(
                f"EXPLAIN SELECT 1 FROM {table} {alias} WHERE {has_words(alias)}".encode(),
                ("dor",),
            ).fetchall()
            assert index in "\n".join(line for (line,) in plan)
