"""Migration 0013 rewrites provider error messages stored by older code, which quoted what a
model or the STT answered (and so what a customer said), the way the code now writes them."""

from __future__ import annotations

import psycopg

from balto.store.migrations import apply_migrations
from tests.conftest import migrate_before, query

QUOTE = "meu CPF é 123.456.789-00"
OLD = [
    f'openai: malformed_response: answer does not match the schema: {{"produto": "{QUOTE}"}}',
    f"xai: malformed_response: the model refused: A cliente disse {QUOTE}\ne mais",
    f"openai: malformed_response: ValidationError: 1 validation error input_value='{QUOTE}'",
    f'elevenlabs: malformed_response: body is not JSON: b\'{{"text": "{QUOTE}\'',
    "xai: server: HTTP 500: upstream error",  # no quote: left as it was
]
NEW = [
    "openai: malformed_response: answer does not match the schema (recomendar, produto,"
    " explicacao)",
    "xai: malformed_response: the model refused (its words are kept with the refusal)",
    "openai: malformed_response: the body is unusable: ValidationError",
    "elevenlabs: malformed_response: body is not JSON",
    "xai: server: HTTP 500: upstream error",
]


def test_old_provider_errors_lose_their_quotes(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        migrate_before(conn, "0013")
        for n, error in enumerate(OLD):
            conn.execute(
                "INSERT INTO provider_calls (kind, provider, model, ok, latency_ms, error)"
                " VALUES ('llm', 'openai', 'm', false, %s, %s)",
                (n, error),
            )
        conn.execute(
            "INSERT INTO clientes (id, codigo, email, razao_social, telefone) VALUES"
            " ('00000000-0000-0000-0000-0000000000c1', '100000', 'a@b.com', 'R', '1')"
        )
        conn.execute(
            "INSERT INTO balcoes (id, cliente_id, nome_balcao, api_key_hash, api_key_hint) VALUES"
            " ('00000000-0000-0000-0000-0000000000b1', '00000000-0000-0000-0000-0000000000c1',"
            " 'B', 'x', 'bk')"
        )
        conn.execute(
            "INSERT INTO sessions (id, balcao_id) VALUES"
            " ('00000000-0000-0000-0000-0000000000a1', '00000000-0000-0000-0000-0000000000b1')"
        )
        conn.execute(
            "INSERT INTO segments (id, session_id, seq, audio_start, audio_end, status, error)"
            " VALUES (gen_random_uuid(), '00000000-0000-0000-0000-0000000000a1', 0, 0, 1,"
            " 'failed', %s)",
            (OLD[3],),
        )
    with psycopg.connect(database_url) as conn:
        # 0013 first (later migrations, if any, after it)
        assert apply_migrations(conn)[0] == "0013_scrub_provider_errors.sql"
    rows = query(database_url, "SELECT error FROM provider_calls ORDER BY latency_ms")
    assert [row[0] for row in rows] == NEW
    assert query(database_url, "SELECT error FROM segments") == [(NEW[3],)]
