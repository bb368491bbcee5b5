"""What a chain's API key's budget costs each request: the key lookup alone, and with the spend.

Starts an embedded PostgreSQL in a scratch directory (or uses ``--database-url``), migrates it,
makes a cliente and ``--keys`` keys, then times, on one connection as the server's worker
threads use it, ``--requests`` rounds of `chaves_api.holder` (what every key request already
does) and of `holder` + `key_budget.spend` (what it does with ``BALTO_API_KEY_BUDGET`` on), the
keys taken in turn. Also times ``--concurrent`` threads spending on one key at once (one row
lock per key and minute: they queue on it). Prints p50/p99 in milliseconds.

    .venv/bin/python -m bench.key_budget
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import psycopg
import trio

from balto.store import chaves_api, open_database
from balto.store.embedded import embedded_postgres
from balto.store.key_budget import spend

BUDGET = 10**9  # never refused: the cost of counting is what is measured


def _percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"p50 {statistics.median(ordered) * 1000:.3f} ms, p99 {p99 * 1000:.3f} ms"


def _timed(rounds: int, step: Callable[[int], None]) -> list[float]:
    took = []
    for i in range(rounds):
        started = time.perf_counter()
        step(i)
        took.append(time.perf_counter() - started)
    return took


async def _run(url: str, keys: int, requests: int, concurrent: int) -> None:
    async with open_database(url):  # migrates
        pass
    with psycopg.connect(url, autocommit=True) as conn:
        cliente = str(uuid.uuid4())
        conn.execute(
            "INSERT INTO clientes (id, codigo, email, razao_social, telefone)"
            " VALUES (%s, '777777', 'b@x.com', 'Bench', '11999998888')",
            (cliente,),
        )
        made = [chaves_api.create_key(conn, cliente, f"k{i}", "bench") for i in range(keys)]
        pairs = [m for m in made if m is not None]
        _timed(200, lambda i: chaves_api.holder(conn, pairs[i % keys][1]))  # warm

        def lookup(i: int) -> None:
            chaves_api.holder(conn, pairs[i % keys][1])

        def lookup_and_spend(i: int) -> None:
            key_id, key = pairs[i % keys]
            chaves_api.holder(conn, key)
            spend(conn, key_id, 1, BUDGET)

        print(
            f"key lookup alone ({requests} requests, {keys} keys): "
            + _percentiles(_timed(requests, lookup))
        )
        print("key lookup + budget spend: " + _percentiles(_timed(requests, lookup_and_spend)))

    one = pairs[0][0]
    took: list[float] = []
    lock = threading.Lock()

    def hammer() -> None:
        with psycopg.connect(url, autocommit=True) as own:
            mine = _timed(requests // concurrent, lambda _: spend(own, one, 1, BUDGET))
        with lock:
            took.extend(mine)

    threads = [threading.Thread(target=hammer) for _ in range(concurrent)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    print(
        f"{concurrent} connections spending on one key at once: {_percentiles(took)},"
        f" {len(took) / wall:.0f} spends/s"
    )


def main() -> None:
    """Parse the arguments, start a database if none is given, run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=50)
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--concurrent", type=int, default=8)
    parser.add_argument("--database-url", help="an empty database (default: an embedded one)")
    args = parser.parse_args()

    async def with_embedded() -> None:
        with tempfile.TemporaryDirectory(prefix="balto-key-budget-") as scratch:
            async with embedded_postgres(Path(scratch) / "pg") as pg:
                await _run(pg.url, args.keys, args.requests, args.concurrent)

    if args.database_url:
        trio.run(_run, args.database_url, args.keys, args.requests, args.concurrent)
    else:
        trio.run(with_embedded)


if __name__ == "__main__":
    main()
