"""What erasing costs: a retention backlog worked off, and the triggers on the live write path.

Starts an embedded PostgreSQL in a scratch directory (or uses ``--database-url``), migrates it,
and fills one session with `--rows` segments older than the period, each with a recommendation,
and a tenth as many alerts. Then:

1. the retention steps (`balto.store.erasure.erase_older_than`, called as the server's
   `erase_round` calls it): rows erased per second and each step's transaction time (p50 / max:
   how long a step holds its row locks, which only ever cover old rows); then a second backlog
   through `erase_round` itself, pauses included;
2. the live write path: `--inserts` segment rows inserted 100 to a transaction (the recorder
   commits a batch at a time) with the erasure triggers (migration 0012) enabled and disabled,
   alternating, five times each, so the triggers' cost per written row shows beside the write;
3. one conversation of `--rows` rows erased on request (`erase_conversation`).

    PYTHONPATH=$PWD .venv/bin/python bench/retention.py [--rows 100000] [--inserts 3000]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import trio

from balto.store import erasure, open_database
from balto.store.embedded import embedded_postgres
from balto.store.erasure import erase_older_than
from balto.store.retention import erase_round

_TRIGGERS = (
    ("segments", "segments_keep_erased"),
    ("recommendations", "recommendations_keep_erased"),
)


def _fill(url: str, rows: int) -> str:
    """One cliente, balcão and session; `rows` old segments with their recommendations."""
    session = str(uuid.uuid4())
    old = datetime.now(UTC) - timedelta(days=400)
    with psycopg.connect(url) as conn:
        cliente, balcao = str(uuid.uuid4()), str(uuid.uuid4())
        conn.execute(
            "INSERT INTO clientes (id, codigo, email, razao_social, telefone)"
            " VALUES (%s, %s, 'a@b.com', 'Rede', '11999998888')",
            (cliente, f"{uuid.UUID(cliente).int % 1_000_000:06d}"),
        )
        conn.execute(
            "INSERT INTO balcoes (id, cliente_id, nome_balcao, api_key_hash, api_key_hint)"
            " VALUES (%s, %s, 'Balcão', %s, 'bk_x')",
            (balcao, cliente, uuid.uuid4().bytes),
        )
        conn.execute(
            "INSERT INTO sessions (id, balcao_id, started_at, ended_at) VALUES (%s, %s, %s, %s)",
            (session, balcao, old, old),
        )
        conn.execute(
            "INSERT INTO segments (id, session_id, seq, audio_start, audio_end, status,"
            " transcript, created_at) SELECT gen_random_uuid(), %s, n, 0, 1, 'transcribed',"
            " 'bom dia, estou com uma dor de cabeça muito forte desde ontem ' || n,"
            " %s + n * interval '1 second' FROM generate_series(1, %s) AS n",
            (session, old, rows),
        )
        conn.execute(
            "INSERT INTO recommendations (id, session_id, segment_id, produto, explicacao,"
            " transcricao_base, source, created_at) SELECT gen_random_uuid(), %s, id,"
            " 'Dipirona', 'Analgésico.', transcript, 'catalog', created_at FROM segments"
            " WHERE session_id = %s",
            (session, session),
        )
        conn.execute(
            "INSERT INTO alerts (id, session_id, segment_id, sinal, motivo, orientacao,"
            " transcricao_base, created_at) SELECT gen_random_uuid(), %s, id, 'dor_no_peito',"
            " 'Dor no peito', 'Procure atendimento.', transcript, created_at FROM segments"
            " WHERE session_id = %s AND seq %% 10 = 0",
            (session, session),
        )
    return session


def _inserts(url: str, session: str, count: int, triggers: bool) -> float:
    """Mean ms per segment row inserted, 100 rows to a transaction."""
    with psycopg.connect(url, autocommit=True) as conn:
        state = "ENABLE" if triggers else "DISABLE"
        for table, trigger in _TRIGGERS:
            conn.execute(f"ALTER TABLE {table} {state} TRIGGER {trigger}".encode())
        base = conn.execute(
            "SELECT coalesce(max(seq), 0) FROM segments WHERE session_id = %s", (session,)
        ).fetchone()
        seq = int(base[0]) if base else 0
        started = time.perf_counter()
        for first in range(0, count, 100):
            with conn.transaction():
                for n in range(first, min(count, first + 100)):
                    conn.execute(
                        "INSERT INTO segments (id, session_id, seq, audio_start, audio_end,"
                        " status, transcript) VALUES (%s, %s, %s, 0, 1, 'transcribed', 'uma fala')",
                        (str(uuid.uuid4()), session, seq + 1 + n),
                    )
        elapsed = time.perf_counter() - started
        for table, trigger in _TRIGGERS:
            conn.execute(f"ALTER TABLE {table} ENABLE TRIGGER {trigger}".encode())
    return elapsed / count * 1000


async def _run(url: str, rows: int, inserts: int) -> None:
    async with open_database(url) as db:  # migrates
        session = await trio.to_thread.run_sync(_fill, url, rows)
        print(f"filled: {rows} segments and recommendations, {rows // 10} alerts, 400 days old")
        steps: list[float] = []  # the server's step function, called as erase_round does
        while True:
            started = time.perf_counter()
            counts = await db.run(erase_older_than, 30)
            steps.append(time.perf_counter() - started)
            if not counts or not any(counts.values()):
                break
        print(
            f"retention steps: {len(steps)} for {rows * 2 + rows // 10} rows;"
            f" {rows * 2.1 / sum(steps):,.0f} rows/s in transactions; step p50"
            f" {statistics.median(steps) * 1000:.0f} ms, max {max(steps) * 1000:.0f} ms"
        )
        await trio.to_thread.run_sync(_fill, url, rows)
        started = time.perf_counter()
        erased = await erase_round(db, 30)
        print(
            f"retention round (erase_round, pauses included): {sum(erased.values())} rows"
            f" ({dict(erased)}) in {time.perf_counter() - started:.1f} s"
        )
        timings: dict[bool, list[float]] = {True: [], False: []}
        for triggers in (True, False) * 5:
            ms = await trio.to_thread.run_sync(_inserts, url, session, inserts, triggers)
            timings[triggers].append(ms)
        for triggers, label in ((True, "with"), (False, "without")):
            runs = ", ".join(f"{ms * 1000:.0f}" for ms in timings[triggers])
            median_us = statistics.median(timings[triggers]) * 1000
            print(
                f"live inserts {label} the triggers: {median_us:.0f} µs per row,"
                f" median of 5 runs of {inserts} ({runs})"
            )
        other = await trio.to_thread.run_sync(_fill, url, rows)
        started = time.perf_counter()
        done = await db.run(erasure.erase_conversation, other)
        assert done is not None
        print(
            f"one conversation erased on request: {sum(done.counts.values())} rows in"
            f" {time.perf_counter() - started:.2f} s (one transaction)"
        )


def main() -> None:
    """Parse the arguments, start a database if none is given, run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--inserts", type=int, default=3000)
    parser.add_argument("--database-url", help="an empty database (default: an embedded one)")
    args = parser.parse_args()

    async def with_embedded() -> None:
        with tempfile.TemporaryDirectory(prefix="balto-retention-") as scratch:
            async with embedded_postgres(Path(scratch) / "pg") as pg:
                await _run(pg.url, args.rows, args.inserts)

    if args.database_url:
        trio.run(_run, args.database_url, args.rows, args.inserts)
    else:
        trio.run(with_embedded)


if __name__ == "__main__":
    main()
