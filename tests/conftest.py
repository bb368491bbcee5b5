"""Shared fixtures: one real PostgreSQL per test run (embedded unless BALTO_TEST_DATABASE_URL),
a fresh database per test, and a starter for the real server on a loopback port."""

from __future__ import annotations

import itertools
import os
import tempfile
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import psycopg
import pytest
import trio
from psycopg.conninfo import make_conninfo

from balto.config import Settings
from supervisors.root import Running, run_root

FIXTURES = Path(__file__).parent / "fixtures"
_db_numbers = itertools.count(1)


def _ensure_runtime_dir() -> None:
    if not os.environ.get("XDG_RUNTIME_DIR"):
        path = Path(tempfile.gettempdir()) / f"balto-runtime-{os.getuid()}"
        path.mkdir(mode=0o700, exist_ok=True)
        os.environ["XDG_RUNTIME_DIR"] = str(path)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL server for the whole run."""
    external = os.environ.get("BALTO_TEST_DATABASE_URL")
    if external:
        yield external
        return
    _ensure_runtime_dir()
    import pgserver

    # Not under pytest's basetemp: another pytest run prunes old basetemps, which would delete
    # a live data directory from under a concurrent run.
    pgdata = Path(tempfile.mkdtemp(prefix="balto-test-pg-"))
    server = pgserver.get_server(pgdata, cleanup_mode="delete")
    try:
        yield str(server.get_uri())
    finally:
        server.cleanup()


@pytest.fixture
def database_url(postgres_url: str) -> Iterator[str]:
    """A fresh, empty database for one test."""
    name = f"balto_test_{os.getpid()}_{next(_db_numbers)}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield make_conninfo(postgres_url, dbname=name)
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def settings_for(database_url: str, **env: str) -> Settings:
    """Settings as the server would read them from this environment (no .env, no os.environ).

    The front end runs in the server process unless a test asks for ``BALTO_VAD_WORKERS``: the
    default (one worker process per core) would spawn and import numpy/scipy twice per test
    server. The end-to-end tests and the worker tests run the default.
    """
    base = {
        "BALTO_DATABASE_URL": database_url,
        "ADMIN_SECRET": "test-admin-secret",
        "BALTO_VAD_WORKERS": "0",
    }
    base.update(env)
    return Settings.from_env(base)


async def start_server(nursery: trio.Nursery, database_url: str, **env: str) -> Running:
    """Start the real server (Hypercorn, Quart-Trio, PostgreSQL) on an ephemeral loopback port."""
    running: Running = await nursery.start(
        partial(run_root, settings_for(database_url, **env), port=0)
    )
    return running


def ws_url(running: Running) -> str:
    """The device socket URL of a running server."""
    return running.base_url.replace("http://", "ws://") + "/ws"


def query(database_url: str, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """Run one query against the test database (sync; tests call it between awaits)."""
    with psycopg.connect(database_url) as conn:
        cursor = conn.execute(sql.encode(), params)
        return cursor.fetchall() if cursor.description else []


def migrate_before(conn: psycopg.Connection, first_left_out: str) -> None:
    """Apply the migrations named before `first_left_out` and record them, as an older version
    of Balto left its database (`apply_migrations` then applies the rest)."""
    from balto.store.migrations import _migration_files

    conn.execute(
        "CREATE TABLE schema_migrations (name text PRIMARY KEY,"
        " applied_at timestamptz NOT NULL DEFAULT now())"
    )
    for name, sql in _migration_files():
        if name < first_left_out:
            conn.execute(sql.encode())
            conn.execute("INSERT INTO schema_migrations (name) VALUES (%s)", (name,))


def allow_connections(database_url: str, allow: bool) -> None:
    """Let clients connect to the test database, or refuse them and end the open ones (an outage
    the server's pool sees as PostgreSQL refusing it)."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    name = conninfo_to_dict(database_url)["dbname"]
    with psycopg.connect(make_conninfo(database_url, dbname="postgres"), autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS {allow}'.encode())
        if not allow:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (name,),
            )


ADMIN = {"Authorization": "Bearer test-admin-secret"}


async def register_balcao(base_url: str, nome: str = "Balcão Entrada 01") -> tuple[str, str]:
    """Register a cliente and a balcão over HTTP, as an admin and a device would."""
    import httpx

    async with httpx.AsyncClient(base_url=base_url) as http:
        cliente = await http.post(
            "/cadastro/cliente",
            headers=ADMIN,
            json={
                "email": "contato@redepharma.com",
                "razao_social": "Rede Pharma LTDA",
                "telefone": "11999998888",
            },
        )
        assert cliente.status_code == 201, cliente.text
        codigo = cliente.json()["codigo"]
        balcao = await http.post(
            "/cadastro/balcao", json={"nome_balcao": nome, "user_codigo": codigo}
        )
        assert balcao.status_code == 201, balcao.text
        body = balcao.json()
    return body["api_key"], body["balcao_id"]
