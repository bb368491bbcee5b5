"""``balto backup`` and ``balto restore`` as an operator runs them: a backup taken while a real
``balto serve`` holds its embedded PostgreSQL (the server keeps running), restored into a fresh
``BALTO_DATA_DIR`` that a new server then serves, with the balcão's key still working (every
embedded PostgreSQL stopped at the end: none left running); a restore
refused over existing data; the same through ``BALTO_DATABASE_URL``; clear errors for a missing
database or file."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import httpx
import psycopg
import trio
from psycopg.conninfo import make_conninfo
from trio_websocket import open_websocket_url

from tests.conftest import ADMIN, query, register_balcao, start_server
from tests.server_process import server_process


async def _balto(*args: str, **env: str) -> tuple[int, str]:
    """Run ``python -m balto ARGS`` with `env`; its exit code and everything it printed."""
    full = {k: v for k, v in os.environ.items() if not k.startswith("BALTO_DATA")}
    done = await trio.run_process(
        [sys.executable, "-m", "balto", *args],
        env={**full, **env},
        capture_stdout=True,
        capture_stderr=True,
        check=False,
    )
    return done.returncode, (done.stdout + done.stderr).decode()


def _postgres_on(data_dir: Path) -> list[int]:
    """Pids of PostgreSQL processes serving under `data_dir` (read from /proc)."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                    if str(data_dir).encode() in cmdline.read():
                        pids.append(int(entry))
            except OSError:
                continue
    return pids


async def _names(base_url: str) -> set[str]:
    async with httpx.AsyncClient(base_url=base_url, headers=ADMIN, timeout=10) as http:
        return {c["razao_social"] for c in (await http.get("/admin/clientes")).json()["items"]}


async def test_a_backup_taken_while_serving_restores_into_a_fresh_data_dir(
    tmp_path: Path,
) -> None:
    first, second, dump = tmp_path / "var1", tmp_path / "var2", tmp_path / "balto.dump"
    async with server_process({"BALTO_DATA_DIR": str(first)}) as server:
        api_key, balcao_id = await register_balcao(server.base_url, "Balcão Salvo")
        code, out = await _balto("backup", str(dump), BALTO_DATA_DIR=str(first))
        assert code == 0, out
        assert "backup written" in out and dump.stat().st_size > 0
        assert not [p for p in os.listdir(tmp_path) if p.endswith(".part")]
        async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as http:
            assert (await http.get("/readyz")).status_code == 200  # its database still runs
        async with httpx.AsyncClient(base_url=server.base_url, headers=ADMIN) as http:
            later = {"email": "b@c.com", "razao_social": "Depois", "telefone": "11999998888"}
            assert (await http.post("/cadastro/cliente", json=later)).status_code == 201
        assert await _names(server.base_url) == {"Rede Pharma LTDA", "Depois"}
        assert await server.stop() == 0

    code, out = await _balto("restore", str(dump), BALTO_DATA_DIR=str(second))
    assert code == 0, out
    assert not _postgres_on(second)  # the restore stopped the server it started
    code, out = await _balto("restore", str(dump), BALTO_DATA_DIR=str(second))
    assert code == 1 and "already holds Balto data" in out

    async with server_process({"BALTO_DATA_DIR": str(second)}) as restored:
        assert await _names(restored.base_url) == {"Rede Pharma LTDA"}  # the snapshot, whole
        async with open_websocket_url(restored.ws_url) as ws:  # the device's key still opens
            await ws.send_message(json.dumps({"api_key": api_key}))
            live = f"/admin/sessions/{balcao_id}"
            with trio.fail_after(10):
                while (await restored.admin("GET", live)).status_code != 200:  # noqa: ASYNC110 - polling the server
                    await trio.sleep(0.1)
        assert await restored.stop() == 0
    with trio.fail_after(10):
        while _postgres_on(tmp_path):  # noqa: ASYNC110 - polling /proc
            await trio.sleep(0.1)


async def test_backup_and_restore_through_a_database_url(
    nursery: trio.Nursery, database_url: str, postgres_url: str, tmp_path: Path
) -> None:
    await start_server(nursery, database_url)  # migrates
    query(
        database_url,
        "INSERT INTO clientes (id, codigo, email, razao_social, telefone)"
        " VALUES ('00000000-0000-0000-0000-0000000000c1', '123456', 'a@b.com', 'Rede URL',"
        " '11999998888')",
    )
    # a conversation, so the Painel's hourly sums have something a restore could count twice
    query(
        database_url,
        "INSERT INTO balcoes (id, cliente_id, nome_balcao, api_key_hash, api_key_hint) VALUES"
        " ('00000000-0000-0000-0000-0000000000b1', '00000000-0000-0000-0000-0000000000c1', 'B',"
        " 'x', 'bk');"
        " INSERT INTO sessions (id, balcao_id) VALUES ('00000000-0000-0000-0000-0000000000a1',"
        " '00000000-0000-0000-0000-0000000000b1');"
        " INSERT INTO recommendations (id, session_id, produto, explicacao, transcricao_base,"
        " source, aceita) VALUES (gen_random_uuid(), '00000000-0000-0000-0000-0000000000a1',"
        " 'Soro', 'porque', '', 'catalog', true);"
        " INSERT INTO provider_calls (session_id, kind, provider, model, ok, latency_ms,"
        " cost_usd) VALUES ('00000000-0000-0000-0000-0000000000a1', 'stt', 'e', 'm', true, 1,"
        " 0.5)",
    )
    sums = "SELECT balcao_id, hora, sessoes, recomendacoes, aceitas, custo_usd FROM painel_horas"
    assert len(query(database_url, sums)) == 1
    dump = tmp_path / "url.dump"
    code, out = await _balto("backup", str(dump), BALTO_DATABASE_URL=database_url)
    assert code == 0, out
    empty = f"balto_restore_{os.getpid()}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{empty}"'.encode())
    target = make_conninfo(postgres_url, dbname=empty)
    try:
        code, out = await _balto("restore", str(dump), BALTO_DATABASE_URL=target)
        assert code == 0, out
        assert query(target, "SELECT razao_social FROM clientes") == [("Rede URL",)]
        tables = "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
        assert query(target, tables) == query(database_url, tables)
        assert query(target, sums) == query(database_url, sums)  # restored, not summed again
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{empty}" WITH (FORCE)'.encode())


async def test_nothing_to_back_up_or_restore_is_a_clear_error(tmp_path: Path) -> None:
    code, out = await _balto("backup", str(tmp_path / "x.dump"), BALTO_DATA_DIR=str(tmp_path))
    assert code == 1 and "no embedded database" in out
    assert not (tmp_path / "pg").exists()  # nothing was created on the way
    missing = str(tmp_path / "nada.dump")
    code, out = await _balto("restore", missing, BALTO_DATA_DIR=str(tmp_path / "novo"))
    assert code == 1 and "no such file" in out
