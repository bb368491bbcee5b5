"""What products out of stock cost: the stock system's list, each utterance's check, the advice.

1. ``PUT …/em-falta`` matches every name it is sent against the chain's catalog (`NameIndex`,
   off the event loop): a catalog of ``--produtos`` products and a list of as many names, half
   of them catalog names spelled as a stock system might (lower case, dosage glued), half
   names of nothing (what a stock list holds that a counter never suggests).
2. Each utterance's version check (`advice_version`: catalog, stock stamp, the balcão's store)
   against the check before it (`cliente_catalog_version`: the catalog only), and the list's read
   for a balcão (`missing_at`), on a scratch database of ``--server`` with one chain, 50 stores
   and ``--marcados`` products marked per store and chain-wide.
3. The advice with 20 of the default catalog's 28 products out of stock, against none: CPU per
   utterance over the catalog advisor (`AdviceSession` on dialogues of one need each).

Prints medians in milliseconds (microseconds for the reads); drops the database.

    PYTHONPATH=$PWD .venv/bin/python -m bench.em_falta
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid

import psycopg
import trio

from balto.advice.session import AdviceSession
from balto.catalog import Catalog, Product, normalize
from balto.catalog.names import NameIndex
from balto.providers.catalog_advisor import CatalogAdvisor
from balto.store.advice import cliente_catalog_version
from balto.store.em_falta import add, advice_version, missing_at
from balto.store.migrations import apply_migrations

SCRATCH = "balto_bench_em_falta"
SAID = [
    "estou com uma dor de cabeça forte desde ontem",
    "tô espirrando muito, acho que é rinite",
    "tô com azia depois do almoço",
    "meu nariz tá entupido",
    "tô com diarreia desde ontem",
    "dor muscular depois da academia",
]


def _catalog(size: int) -> Catalog:
    products = [
        Product(f"Produto {i} Composto {i % 7 + 1}0 mg", f"categoria {i % 40}", ("dor",), "x")
        for i in range(size)
    ]
    return Catalog(products)


def _matching(size: int) -> None:
    catalog = _catalog(size)
    known = [f"produto {i} composto {i % 7 + 1}0mg" for i in range(0, size, 2)]
    unknown = [f"Item de estoque {i} sem par" for i in range(size - len(known))]
    times = []
    for _ in range(3):
        start = time.perf_counter()
        index = NameIndex(catalog)
        found = [index.match(name).product for name in known + unknown]
        times.append((time.perf_counter() - start) * 1000)
    assert sum(p is not None for p in found) == len(known)
    took = statistics.median(times)
    print(f"PUT list: {len(known) + len(unknown)} names against {size} products: {took:.0f} ms")


def _reads(server: str, marked: int) -> None:
    with psycopg.connect(server + "postgres", autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {SCRATCH}")
        admin.execute(f"CREATE DATABASE {SCRATCH}")
    try:
        with psycopg.connect(server + SCRATCH, autocommit=True) as conn:
            apply_migrations(conn)
            cliente, loja, balcao = (str(uuid.uuid4()) for _ in range(3))
            conn.execute(
                "INSERT INTO clientes (id, codigo, email, razao_social, telefone)"
                " VALUES (%s, '123456', 'a@b.com', 'Rede', '11999998888')",
                (cliente,),
            )
            conn.execute(
                "INSERT INTO lojas (id, cliente_id, nome)"
                " SELECT CASE g WHEN 1 THEN %s::uuid ELSE gen_random_uuid() END, %s, 'Loja ' || g"
                " FROM generate_series(1, 50) g",
                (loja, cliente),
            )
            conn.execute(
                "INSERT INTO balcoes (id, cliente_id, nome_balcao, api_key_hash, api_key_hint,"
                " loja_id) VALUES (%s, %s, 'Caixa', '\\x00', 'bk_x', %s)",
                (balcao, cliente, loja),
            )
            lojas = [row[0] for row in conn.execute("SELECT id::text FROM lojas")]
            for place in [None, *lojas]:
                for i in range(marked):
                    add(conn, cliente, place, f"Produto {i}", "api", "bench")
            conn.execute("ANALYZE")
            reads = {
                "version check before (catalog only)": lambda: cliente_catalog_version(
                    conn, cliente
                ),
                "version check now (catalog, stock, store)": lambda: advice_version(
                    conn, cliente, balcao
                ),
                f"the balcão's list ({2 * marked} marks)": lambda: missing_at(
                    conn, cliente, balcao
                ),
            }
            for label, read in reads.items():
                times = []
                for _ in range(2001):
                    start = time.perf_counter()
                    read()
                    times.append((time.perf_counter() - start) * 1_000_000)
                print(f"{label}: {statistics.median(times):.0f} µs")
    finally:
        with psycopg.connect(server + "postgres", autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {SCRATCH}")


async def _advice_cpu(missing: frozenset[str], rounds: int) -> float:
    catalog = Catalog.load()
    heard = 0
    start = time.process_time()
    for _ in range(rounds):
        session = AdviceSession(catalog, [CatalogAdvisor()], cooldown_s=0.0)
        session.replace_missing(missing)
        for i, text in enumerate(SAID):
            session.new_conversation()
            await session.hear(text, 4.0 * i, 4.0 * i + 3.0)
            heard += 1
    return (time.process_time() - start) * 1000 / heard


def main() -> None:
    """Time the three, print."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432/")
    parser.add_argument("--produtos", type=int, default=5000)
    parser.add_argument("--marcados", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=300)
    args = parser.parse_args()
    _matching(args.produtos)
    _reads(args.server, args.marcados)
    names = [normalize(p.nome) for p in Catalog.load().products]
    for label, missing in (("none", frozenset[str]()), ("20 of 28", frozenset(names[:20]))):
        per = statistics.median(trio.run(_advice_cpu, missing, args.rounds) for _ in range(3))
        print(f"advice CPU per utterance, out of stock {label}: {per:.3f} ms")


if __name__ == "__main__":
    main()
