"""What each balcão's last connection costs ``GET /admin/balcoes`` (Cadastro, Ao vivo's roster).

Makes a scratch database on ``--server`` (a PostgreSQL that lets this user create databases),
migrates it, fills one chain with ``--balcoes`` balcões of ``--sessions`` sessions each, then
times a 500-balcão page of `history.list_balcoes` for the chain and for the whole network,
without the last connection (the select as it was before) and with it (a one-row step back on
``sessions_balcao`` per balcão), and the operator's per-chain summary
(`network_status.connections_by_cliente`, Ao vivo with no chain chosen, every 30 s) over all of
them. Prints the median of 7 in milliseconds; drops the database.

    .venv/bin/python -m bench.balcoes_last_connection
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid

import psycopg

from balto.store import history
from balto.store.history import Filters, list_balcoes
from balto.store.migrations import apply_migrations
from balto.store.network_status import connections_by_cliente

SCRATCH = "balto_bench_last_connection"
PAGE = 500


def _fill(conn: psycopg.Connection, balcoes: int, sessions: int) -> str:
    cliente = str(uuid.uuid4())
    conn.execute(
        "INSERT INTO clientes (id, codigo, email, razao_social, telefone)"
        " VALUES (%s, '123456', 'a@b.com', 'Rede', '11999998888')",
        (cliente,),
    )
    conn.execute(
        "INSERT INTO balcoes (id, cliente_id, nome_balcao, api_key_hash, api_key_hint)"
        " SELECT gen_random_uuid(), %s, 'Caixa ' || g, decode(md5(g::text), 'hex'), 'bk_x'"
        " FROM generate_series(1, %s) g",
        (cliente, balcoes),
    )
    conn.execute(
        "INSERT INTO sessions (id, balcao_id, started_at, ended_at)"
        " SELECT gen_random_uuid(), b.id, now() - make_interval(hours => g),"
        " now() - make_interval(hours => g) + interval '20 minutes'"
        " FROM balcoes b, generate_series(1, %s) g",
        (sessions,),
    )
    conn.execute("ANALYZE")
    return cliente


def _median_ms(conn: psycopg.Connection, filters: Filters) -> float:
    times = []
    for _ in range(7):
        start = time.perf_counter()
        page = list_balcoes(conn, PAGE, None, filters)
        times.append((time.perf_counter() - start) * 1000)
    assert len(page.rows) == PAGE
    return statistics.median(times)


def main() -> None:
    """Fill, time, print, drop."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432/")
    parser.add_argument("--balcoes", type=int, default=2000)
    parser.add_argument("--sessions", type=int, default=200)
    args = parser.parse_args()
    with psycopg.connect(args.server + "postgres", autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {SCRATCH}")
        admin.execute(f"CREATE DATABASE {SCRATCH}")
    try:
        with psycopg.connect(args.server + SCRATCH, autocommit=True) as conn:
            apply_migrations(conn)
            start = time.perf_counter()
            cliente = _fill(conn, args.balcoes, args.sessions)
            total = args.balcoes * args.sessions
            took = time.perf_counter() - start
            print(f"filled {args.balcoes} balcões, {total} sessions in {took:.0f} s")
            shipped = history._BALCOES
            lateral = shipped[shipped.index(" LEFT JOIN LATERAL") :]
            before = shipped.replace(" u.em AS ultima_conexao_em,", "").replace(lateral, "")
            for label, filters in (
                ("a chain", Filters(cliente_id=cliente)),
                ("network", Filters()),
            ):
                for name, select in (("before", before), ("with the last connection", shipped)):
                    history._BALCOES = select  # the bench's own comparison, put back below
                    print(f"{label}, {PAGE} balcões, {name}: {_median_ms(conn, filters):.1f} ms")
                history._BALCOES = shipped
            times = []
            for _ in range(7):
                start = time.perf_counter()
                chains = connections_by_cliente(conn)
                times.append((time.perf_counter() - start) * 1000)
            assert chains[0]["balcoes"] == args.balcoes
            took_ms = statistics.median(times)
            print(f"the network's per-chain summary, {args.balcoes} balcões: {took_ms:.1f} ms")
    finally:
        with psycopg.connect(args.server + "postgres", autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {SCRATCH}")


if __name__ == "__main__":
    main()
