"""Numbered SQL migrations, applied at start under an advisory lock.

Several instances may start at once: the transaction-scoped advisory lock serialises them, and each
file is applied once, recorded in ``schema_migrations``.
"""

from __future__ import annotations

from importlib import resources

import psycopg

_LOCK_KEY = 0x0BA170  # arbitrary, constant: identifies Balto's migration lock


def _migration_files() -> list[tuple[str, str]]:
    root = resources.files("balto.store").joinpath("migrations")
    files = sorted(
        (entry.name, entry.read_text(encoding="utf-8"))
        for entry in root.iterdir()
        if entry.name.endswith(".sql")
    )
    return files


def apply_migrations(conn: psycopg.Connection) -> list[str]:
    """Apply every migration not yet recorded; return the names applied."""
    applied: list[str] = []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = {row[0] for row in conn.execute("SELECT name FROM schema_migrations")}
        for name, sql in _migration_files():
            if name in done:
                continue
            conn.execute(sql.encode())
            conn.execute("INSERT INTO schema_migrations (name) VALUES (%s)", (name,))
            applied.append(name)
    return applied
