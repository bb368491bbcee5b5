"""Backups with PostgreSQL's own tools: ``balto backup FILE`` and ``balto restore FILE``.

The database is the one ``balto serve`` would use: ``BALTO_DATABASE_URL``, else the embedded
server under ``BALTO_DATA_DIR`` (joined if a running Balto holds it, started and stopped again
otherwise). A backup is ``pg_dump``'s custom format without owners or grants, so it restores into
the embedded server or any PostgreSQL; it is a consistent snapshot, taken while sessions run. It
is written next to FILE and renamed into place when whole, so a failed backup never leaves a
file that looks like one. A restore goes only into a database holding no Balto data (no
``schema_migrations``): a fresh ``BALTO_DATA_DIR`` or an empty database, in one transaction; the
next ``balto serve`` applies any migration newer than the backup.

The tools are the ones pgserver bundles (PostgreSQL 16: they read servers 9.2 to 16), else those
on the PATH. The password of a URL goes to them in the environment, never on a command line.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import psycopg
import trio
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from balto.config import Settings
from balto.errors import BaltoError
from balto.store.embedded import server_database

_STDERR_TAIL = 600  # characters of a failing tool's stderr shown to the operator


class BackupError(BaltoError):
    """A backup or restore could not be done; the message says why, for the operator."""


def tool(name: str) -> str:
    """Where PostgreSQL's `name` (``pg_dump``, ``pg_restore``) is: pgserver's, else the PATH's."""
    try:  # pgserver keeps its binaries' path in a private module: fall back if it moves
        from pgserver._commands import POSTGRES_BIN_PATH
    except ImportError:
        pass
    else:
        bundled = POSTGRES_BIN_PATH / name
        if bundled.is_file():
            return str(bundled)
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} not found (neither pgserver's nor on the PATH)")
    return found


def _run(name: str, args: list[str], url: str) -> None:
    params = conninfo_to_dict(url)
    env = dict(os.environ)
    password = params.pop("password", None)
    if password:
        env["PGPASSWORD"] = str(password)
    argv = [tool(name), "--dbname", make_conninfo("", **params), *args]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"{name} failed: {done.stderr.strip()[-_STDERR_TAIL:]}")


def dump(url: str, path: Path) -> int:
    """Write the database at `url` to `path` (custom format); return its size in bytes."""
    if not holds_balto(url):
        raise BackupError("the database holds no Balto data: nothing to back up")
    part = path.with_name(path.name + ".part")
    try:
        _run("pg_dump", ["--format=custom", "--no-owner", "--no-privileges", f"--file={part}"], url)
        part.replace(path)
    finally:
        part.unlink(missing_ok=True)
    return path.stat().st_size


def holds_balto(url: str) -> bool:
    """Whether the database at `url` already has Balto's tables."""
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL").fetchone()
    return bool(row and row[0])


def restore(url: str, path: Path) -> None:
    """Load the backup `path` into the empty database at `url`, in one transaction."""
    if not path.is_file():
        raise BackupError(f"{path}: no such file")
    if holds_balto(url):
        raise BackupError(
            "the database already holds Balto data; restore into a fresh BALTO_DATA_DIR or an"
            " empty database (BALTO_DATABASE_URL)"
        )
    _run(
        "pg_restore",
        ["--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction", str(path)],
        url,
    )


async def run_backup(settings: Settings, path: Path) -> str:
    """``balto backup``: dump the server's database to `path`; a line for the operator."""
    pgdata = settings.data_dir / "pg"
    if not settings.database_url and not (pgdata / "PG_VERSION").is_file():
        raise BackupError(f"no embedded database in {pgdata} (BALTO_DATA_DIR): nothing to back up")
    async with server_database(settings.database_url, settings.data_dir) as (url, _):
        size = await trio.to_thread.run_sync(dump, url, path)
    return f"backup written: {path} ({size / 2**20:.1f} MB)"


async def run_restore(settings: Settings, path: Path) -> str:
    """``balto restore``: load `path` into the (empty) database; a line for the operator."""
    async with server_database(settings.database_url, settings.data_dir) as (url, _):
        await trio.to_thread.run_sync(restore, url, path)
    return f"restored {path}: start the server to use it (newer migrations apply at start)"
