"""What a chain's webhooks cost the writes they hang on, and how fast their deliveries go.

Starts an embedded PostgreSQL in a scratch directory (or uses ``--database-url``), migrates it,
makes a cliente with a balcão and a session, then:

1. **The trigger's cost per written row**: ``--rows`` suggestions inserted in transactions of
   ``--batch`` rows (as the recorder commits them), with no webhook at all, with one webhook
   that does not take suggestions (the trigger looks and queues nothing), and with one that
   does (a delivery row per suggestion). Prints µs per row, p50 / p99 per transaction.
2. **Deliveries**: the deliverer (`balto.webhooks.deliverer`, the server's own code) drains
   those ``--rows`` queued deliveries to a loopback HTTP receiver (the tests' threaded one);
   prints deliveries per second; then ``--singles`` alerts written one at a time, idle between,
   each timed from its commit to its arrival at the receiver (p50 / p99: the poll's second
   dominates).

    PYTHONPATH=$PWD .venv/bin/python -m bench.webhooks
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
import trio

from balto.config import Settings
from balto.store import open_database
from balto.store.embedded import embedded_postgres
from balto.webhooks.deliverer import keep_delivering
from tests.webhook_receiver import receiver


def _ms(samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"p50 {statistics.median(ordered) * 1000:.2f} ms, p99 {p99 * 1000:.2f} ms"


def _setup(conn: psycopg.Connection) -> tuple[str, str]:
    cliente, balcao, session = (str(uuid.uuid4()) for _ in range(3))
    conn.execute(
        "INSERT INTO clientes (id, codigo, email, razao_social, telefone)"
        " VALUES (%s, '777778', 'b@x.com', 'Bench', '11999998888')",
        (cliente,),
    )
    conn.execute(
        "INSERT INTO balcoes (id, cliente_id, nome_balcao, api_key_hash, api_key_hint)"
        " VALUES (%s, %s, 'Bench', %s, 'bk_bench')",
        (balcao, cliente, uuid.uuid4().bytes),
    )
    conn.execute("INSERT INTO sessions (id, balcao_id) VALUES (%s, %s)", (session, balcao))
    return cliente, session


def _insert(conn: psycopg.Connection, session: str, rows: int, batch: int) -> list[float]:
    """Per-transaction seconds for `rows` suggestions in transactions of `batch`."""
    took = []
    for _ in range(rows // batch):
        started = time.perf_counter()
        with conn.transaction(), conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO recommendations (id, session_id, produto, explicacao,"
                " transcricao_base, source) VALUES (%s, %s, 'Loratadina 10 mg', 'Rinite.',"
                " 'espirrando o dia inteiro', 'bench')",
                [(str(uuid.uuid4()), session) for _ in range(batch)],
            )
        took.append(time.perf_counter() - started)
    return took


def _hook(conn: psycopg.Connection, cliente: str, url: str, eventos: list[str]) -> None:
    conn.execute("DELETE FROM webhooks")
    conn.execute(
        "INSERT INTO webhooks (id, cliente_id, url, eventos, segredo)"
        " VALUES (%s, %s, %s, %s, 'whsec_bench')",
        (str(uuid.uuid4()), cliente, url, eventos),
    )


async def _run(url: str, rows: int, batch: int, singles: int) -> None:
    async with open_database(url) as db:  # migrates
        with receiver() as rx, psycopg.connect(url, autocommit=True) as conn:
            cliente, session = _setup(conn)
            _insert(conn, session, 1000, batch)  # warm
            conn.execute("DELETE FROM webhook_entregas")
            for label, eventos in (
                ("no webhook", None),
                ("a webhook for alerts only", ["alerta"]),
                ("a webhook for suggestions", ["recomendacao"]),
            ):
                if eventos is None:
                    conn.execute("DELETE FROM webhooks")
                else:
                    _hook(conn, cliente, rx.url, eventos)
                took = _insert(conn, session, rows, batch)
                per_row = sum(took) / (len(took) * batch) * 1e6
                print(f"insert, {label}: {per_row:.1f} µs per row; per transaction {_ms(took)}")
            [(queued,)] = conn.execute("SELECT count(*) FROM webhook_entregas").fetchall()

            settings = Settings.from_env({"BALTO_WEBHOOKS_ALLOW_PRIVATE": "1"})
            async with trio.open_nursery() as nursery:
                started = time.perf_counter()
                await nursery.start(keep_delivering, db, settings, url)
                await rx.wait_for(queued, timeout_s=600)
                wall = time.perf_counter() - started
                rate = queued / wall
                print(f"delivered {queued} queued suggestions in {wall:.1f} s: {rate:.0f}/s")

                _hook(conn, cliente, rx.url, ["alerta"])
                latencies = []
                for _ in range(singles):
                    before = len(rx.ok())
                    await trio.sleep(0.37)  # off the poll's beat
                    conn.execute(
                        "INSERT INTO alerts (id, session_id, sinal, motivo, orientacao,"
                        " transcricao_base) VALUES (%s, %s, 'dor_no_peito', 'Dor no peito',"
                        " 'Encaminhar', 'aperto no peito')",
                        (str(uuid.uuid4()), session),
                    )
                    committed = time.perf_counter()
                    arrived = (await rx.wait_for(before + 1))[-1]
                    latencies.append(arrived.at - committed)
                print(f"an alert's commit to its arrival ({singles} alone): {_ms(latencies)}")
                nursery.cancel_scope.cancel()


def main() -> None:
    """Parse the arguments, start a database if none is given, run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--batch", type=int, default=10)
    parser.add_argument("--singles", type=int, default=40)
    parser.add_argument("--database-url", help="an empty database (default: an embedded one)")
    args = parser.parse_args()

    async def with_embedded() -> None:
        with tempfile.TemporaryDirectory(prefix="balto-webhooks-") as scratch:
            async with embedded_postgres(Path(scratch) / "pg") as pg:
                await _run(pg.url, args.rows, args.batch, args.singles)

    if args.database_url:
        trio.run(_run, args.database_url, args.rows, args.batch, args.singles)
    else:
        trio.run(with_embedded)


if __name__ == "__main__":
    main()
