"""A balcão moved into a store while that store is being removed: the move waits for the removal
and is refused as an unknown store, instead of failing on the foreign key (a 500 at the route)."""

from __future__ import annotations

import threading
import time
import uuid

import psycopg

from balto.store.lojas import place_balcao
from balto.store.migrations import apply_migrations


def test_a_move_into_a_store_being_removed_is_refused(database_url: str) -> None:
    cliente, loja, balcao = (str(uuid.uuid4()) for _ in range(3))
    with psycopg.connect(database_url, autocommit=True) as conn:
        apply_migrations(conn)
        conn.execute(
            "INSERT INTO clientes (id, codigo, email, razao_social, telefone)"
            " VALUES (%s, '700001', 'a@b.com', 'Rede', '1')",
            (cliente,),
        )
        conn.execute(
            "INSERT INTO lojas (id, cliente_id, nome) VALUES (%s, %s, 'Centro')", (loja, cliente)
        )
        conn.execute(
            "INSERT INTO balcoes (id, cliente_id, nome_balcao, api_key_hash, api_key_hint)"
            " VALUES (%s, %s, 'B', %s, 'bk_')",
            (balcao, cliente, uuid.uuid4().bytes),
        )
    answer: list[object] = []

    def move() -> None:
        try:
            with psycopg.connect(database_url, autocommit=True) as conn:
                answer.append(place_balcao(conn, balcao, loja))
        except Exception as exc:  # the answer under test: kept, not raised in the thread
            answer.append(exc)

    with psycopg.connect(database_url) as remover:
        remover.execute("DELETE FROM lojas WHERE id = %s", (loja,))  # not committed yet
        mover = threading.Thread(target=move)
        mover.start()
        with psycopg.connect(database_url, autocommit=True) as watcher:
            waiting = (
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
            deadline = time.monotonic() + 10
            while watcher.execute(waiting).fetchone() != (1,):  # the move waits on the store
                assert time.monotonic() < deadline, "the move never reached the store's row"
                time.sleep(0.02)
        assert answer == []
        remover.commit()
    mover.join(timeout=10)
    assert answer == ["loja"]
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT loja_id FROM balcoes").fetchall() == [(None,)]
