"""The Histórico's conversations list on a database of a few years of a large network.

Starts an embedded PostgreSQL in a scratch directory (or uses ``--database-url``: an empty
database), migrates it, and fills it with `--clientes` chains of 20 balcões each and
`--sessions` conversations spread over two years, two utterances each (seven sentences drawn at
random), a suggestion of Dipirona in every third, a referral alert in every 25th, and the
provider calls a session makes (an STT call per utterance, an LLM call per conversation). Then
times
`balto.store.conversations.sessions_page` (what ``GET /admin/history/conversas`` runs) as the
operator and a chain would call it: the first page, the next one, a chain's, a chain's last 30
days, searches (``q``: the product a third of the conversations were suggested, words a quarter
said, words nobody said), and the Painel's whole read (``GET /admin/painel/dados``). Each is the
median of 5 calls, with migration 0025's indexes (``sessions (started_at, id)`` and the words
of utterances and products) and with them dropped (the words' stored columns kept). Last, the
migration's words (columns and indexes) dropped and made again, timed as a server's start
would make them on a database of this size, and the live write path (5,000 utterances, 100 to
a transaction) with them and without, alternating.

``--painel`` times only the Painel's reads, part by part, and Ao vivo's closed sessions;
``--filled`` takes a database an earlier run (``--database-url``) filled, migrating it to this
code first (timed: a server's first start on it), so one fill serves many measurements:

    PYTHONPATH=$PWD .venv/bin/python bench/history_scale.py [--sessions 1000000] [--clientes 50]
    PYTHONPATH=$PWD .venv/bin/python bench/history_scale.py --database-url URL --filled --painel
"""

from __future__ import annotations

import argparse
import functools
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path

import psycopg
import trio

from balto.store import charts, live_feed, open_database
from balto.store.conversations import sessions_page
from balto.store.embedded import embedded_postgres
from balto.store.history import Filters
from balto.web import admin_charts

_SAID = (
    "bom dia, eu estou com uma dor de cabeça muito forte desde ontem",
    "a senhora tem alguma alergia a medicamento?",
    "meu filho está com tosse seca e o nariz entupido",
    "tem algum remédio para azia e queimação?",
    "preciso de um protetor solar para a praia",
    "estou com a garganta inflamada e um pouco de febre",
    "obrigado, pode passar no cartão",
)


def _fill(url: str, clientes: int, sessions: int) -> str:
    """The chains, balcões, sessions, utterances and suggestions; returns one chain's id."""
    now = datetime.now(UTC)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO clientes (id, codigo, email, razao_social, telefone)"
            " SELECT gen_random_uuid(), lpad(n::text, 6, '0'), 'rede' || n || '@x.com',"
            " 'Rede ' || n, '11999998888' FROM generate_series(1, %s) AS n",
            (clientes,),
        )
        conn.execute(
            "INSERT INTO balcoes (id, cliente_id, nome_balcao, api_key_hash, api_key_hint)"
            " SELECT gen_random_uuid(), c.id, 'Balcão ' || n,"
            " decode(md5(c.id::text || n), 'hex'), 'bk_x'"
            " FROM clientes c, generate_series(1, 20) AS n"
        )
        conn.execute(
            "CREATE TEMP TABLE bal AS SELECT row_number() OVER () - 1 AS k, id FROM balcoes"
        )
        conn.execute(
            "INSERT INTO sessions (id, balcao_id, started_at, ended_at, audio_seconds)"
            " SELECT gen_random_uuid(), bal.id, t, t + interval '3 minutes', 180"
            " FROM (SELECT n, %s - (n * (730.0 * 86400 / %s)) * interval '1 second' AS t"
            "       FROM generate_series(1, %s) AS n) s"
            " JOIN bal ON bal.k = (s.n::bigint * 7919) %% (SELECT count(*) FROM bal)",
            (now, sessions, sessions),
        )
        said = "ARRAY[" + ", ".join(f"'{text}'" for text in _SAID) + "]"
        conn.execute(
            "INSERT INTO segments (id, session_id, seq, audio_start, audio_end, status,"
            " transcript, created_at) SELECT gen_random_uuid(), s.id, k, k * 5, k * 5 + 3,"
            f" 'transcribed', ({said})[1 + (abs(hashtext(s.id::text || k)) % {len(_SAID)})],"
            " s.started_at + k * interval '5 seconds'"
            " FROM sessions s, generate_series(1, 2) AS k"
        )
        conn.execute(
            "INSERT INTO recommendations (id, session_id, produto, explicacao, transcricao_base,"
            " source, created_at) SELECT gen_random_uuid(), s.id, 'Dipirona Monoidratada 500 mg',"
            " 'Indicado.', '', 'catalog', s.started_at + interval '20 seconds'"
            " FROM sessions s WHERE abs(hashtext(s.id::text)) % 3 = 0"
        )
        # What the Painel also reads: the provider calls (an STT call per utterance and an LLM
        # call per conversation, as a session makes them) and a referral alert in every 25th.
        conn.execute(
            "INSERT INTO provider_calls (session_id, segment_id, kind, provider, model, ok,"
            " latency_ms, audio_seconds, cost_usd, created_at)"
            " SELECT g.session_id, g.id, 'stt', 'elevenlabs', 'scribe_v2', true, 300, 3,"
            " 0.00018, g.created_at + interval '1 second' FROM segments g"
        )
        conn.execute(
            "INSERT INTO provider_calls (session_id, kind, provider, model, ok, latency_ms,"
            " input_tokens, output_tokens, cost_usd, created_at)"
            " SELECT s.id, 'llm', 'xai', 'grok-4-1-fast-non-reasoning', true, 400, 900, 60,"
            " 0.0002, s.started_at + interval '19 seconds' FROM sessions s"
        )
        conn.execute(
            "INSERT INTO alerts (id, session_id, sinal, motivo, orientacao, transcricao_base,"
            " created_at) SELECT gen_random_uuid(), s.id, 'dor_toracica', 'Dor no peito.',"
            " 'Procure atendimento.', '', s.started_at + interval '30 seconds'"
            " FROM sessions s WHERE abs(hashtext(s.id::text)) % 25 = 1"
        )
        conn.execute("ANALYZE")
        row = conn.execute("SELECT id FROM clientes ORDER BY codigo LIMIT 1").fetchone()
        assert row is not None
        return str(row[0])


def _insert_us(url: str, count: int = 5000) -> float:
    """µs per utterance written, 100 to a transaction as the recorder commits them."""
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT id FROM sessions ORDER BY started_at DESC LIMIT 1").fetchone()
        assert row is not None
        base = conn.execute(
            "SELECT coalesce(max(seq), 0) FROM segments WHERE session_id = %s", (row[0],)
        ).fetchone()
        seq = int(base[0]) if base else 0
        started = time.perf_counter()
        for first in range(0, count, 100):
            with conn.transaction():
                for n in range(first, first + 100):
                    conn.execute(
                        "INSERT INTO segments (id, session_id, seq, audio_start, audio_end, status,"
                        " transcript) VALUES (gen_random_uuid(), %s, %s, 0, 1, 'transcribed', %s)",
                        (row[0], seq + 1 + n, _SAID[n % len(_SAID)]),
                    )
        return (time.perf_counter() - started) / count * 1e6


def _median_ms(url: str, call: Callable[[psycopg.Connection], object]) -> float:
    with psycopg.connect(url) as conn:
        call(conn)  # warm: plans and pages cached as a running server's would be
        times = []
        for _ in range(5):
            started = time.perf_counter()
            call(conn)
            times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def _cases(url: str, cliente: str) -> list[tuple[str, Callable[[psycopg.Connection], object]]]:
    month = Filters(cliente_id=cliente, desde=datetime.now(UTC) - timedelta(days=30))
    with psycopg.connect(url) as conn:
        first = sessions_page(conn, 50, None, Filters(), None)
    cursor = first.next_cursor
    return [
        ("operator, first page", lambda c: sessions_page(c, 50, None, Filters(), None)),
        ("operator, next page", lambda c: sessions_page(c, 50, cursor, Filters(), None)),
        ("a chain, first page", lambda c: sessions_page(c, 50, None, Filters(cliente), None)),
        ("a chain, last 30 days", lambda c: sessions_page(c, 50, None, month, None)),
        ("operator, q=dipirona", lambda c: sessions_page(c, 50, None, Filters(), None, "dipirona")),
        (
            "operator, q=azia e queimacao",
            lambda c: sessions_page(c, 50, None, Filters(), None, "azia e queimacao"),
        ),
        (
            "a chain, q=azia e queimacao",
            lambda c: sessions_page(c, 50, None, Filters(cliente), None, "azia e queimacao"),
        ),
        (
            "a chain, last 30 days, q=nobody said this",
            lambda c: sessions_page(c, 50, None, month, None, "nobody said this"),
        ),
        (
            "a chain, q=nobody said this",
            lambda c: sessions_page(c, 50, None, Filters(cliente), None, "nobody said this"),
        ),
        (
            "operator, q=nobody said this",
            lambda c: sessions_page(c, 50, None, Filters(), None, "nobody said this"),
        ),
        # the Painel's whole read (``GET /admin/painel/dados``): its default 30 days, and a year
        ("Painel, operator, 30 days by day", lambda c: painel(c, Filters(desde=days(30)), "day")),
        ("Painel, operator, a year by week", lambda c: painel(c, Filters(desde=days(365)), "week")),
        (
            "Painel, a chain, 30 days by day",
            lambda c: painel(c, Filters(cliente, desde=days(30)), "day"),
        ),
        (
            "Painel, a chain, a year by week",
            lambda c: painel(c, Filters(cliente, desde=days(365)), "week"),
        ),
    ]


def days(n: int) -> datetime:
    """The instant `n` days ago."""
    return datetime.now(UTC) - timedelta(days=n)


def painel(conn: psycopg.Connection, filters: Filters, grain: str) -> object:
    """What ``GET /admin/painel/dados`` reads."""
    return admin_charts._read(conn, filters, grain, "America/Sao_Paulo")


def _call(
    read: Callable[[psycopg.Connection, Filters, str], object],
    filters: Filters,
    grain: str,
    conn: psycopg.Connection,
) -> object:
    return read(conn, filters, grain)


def _painel_parts(url: str) -> None:
    """Each of the Painel's reads, as the operator and a chain ask for 30 days and a year."""
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT id FROM clientes ORDER BY codigo LIMIT 1").fetchone()
    assert row is not None
    cliente = str(row[0])
    zone = "America/Sao_Paulo"
    parts: dict[str, Callable[[psycopg.Connection, Filters, str], object]] = {
        "totals": lambda c, f, g: charts.summaries(c, f, g, zone),
        "per attendant": lambda c, f, g: charts.per_atendente(c, f),
        "products": lambda c, f, g: charts.top_products(c, f),
        "whole": painel,
    }
    print(f"| Painel read (ms) | {' | '.join(parts)} |")
    print(f"|---|{'---|' * len(parts)}")
    for label, filters, grain in (
        ("operator, 30 days by day", Filters(desde=days(30)), "day"),
        ("operator, a year by week", Filters(desde=days(365)), "week"),
        ("a chain, 30 days by day", Filters(cliente, desde=days(30)), "day"),
        ("a chain, a year by week", Filters(cliente, desde=days(365)), "week"),
    ):
        times = [
            _median_ms(url, functools.partial(_call, read, filters, grain))
            for read in parts.values()
        ]
        print(f"| {label} | {' | '.join(f'{ms:.0f}' for ms in times)} |")
    # what Ao vivo reads on every poll (every 1.5 s per open page) besides the live sessions
    ended = [
        _median_ms(url, functools.partial(live_feed.recently_ended, cliente_id=who))
        for who in (None, cliente)
    ]
    print(
        f"Ao vivo's sessions closed in the last 15 minutes: operator {ended[0]:.1f} ms,"
        f" a chain {ended[1]:.1f} ms"
    )


async def _run(url: str, clientes: int, sessions: int, filled: bool, only_painel: bool) -> None:
    started = time.perf_counter()
    async with open_database(url):  # migrates
        pass
    if filled:
        print(f"migrated in {time.perf_counter() - started:.1f} s")
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
    else:
        await _fill_and_time(url, clientes, sessions, only_painel)
    if only_painel:
        await trio.to_thread.run_sync(_painel_parts, url)


async def _fill_and_time(url: str, clientes: int, sessions: int, only_painel: bool) -> None:
    started = time.perf_counter()
    cliente = await trio.to_thread.run_sync(_fill, url, clientes, sessions)
    print(
        f"filled: {clientes} chains, {clientes * 20} balcões, {sessions:,} conversations,"
        f" {sessions * 2:,} utterances in {time.perf_counter() - started:.0f} s"
    )
    if only_painel:
        return
    cases = await trio.to_thread.run_sync(_cases, url, cliente)
    results: dict[str, dict[str, float]] = {}
    for label, ddl in (
        ("with the index", None),
        (
            "without it",
            "DROP INDEX sessions_started, segments_words, recommendations_words",
        ),
    ):
        if ddl is not None:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(ddl.encode())
        for name, call in cases:
            ms = await trio.to_thread.run_sync(_median_ms, url, call)
            results.setdefault(name, {})[label] = ms
    print("| call | with migration 0025's indexes (ms) | without (ms) |")
    print("|---|---|---|")
    for name, by_label in results.items():
        print(f"| {name} | {by_label['with the index']:.1f} | {by_label['without it']:.1f} |")
    # what the migration costs a database that already holds this much (it runs at start)
    await trio.to_thread.run_sync(_words, url, False)
    inserts: dict[str, list[float]] = {"with migration 0025": [], "before it": []}
    inserts["before it"].append(await trio.to_thread.run_sync(_insert_us, url))
    started = time.perf_counter()
    await trio.to_thread.run_sync(_words, url, True)
    print(f"migration 0025's words on this database: {time.perf_counter() - started:.1f} s")
    # the live write path, alternating, so the machine's drift falls on both
    for _ in range(2):
        inserts["with migration 0025"].append(await trio.to_thread.run_sync(_insert_us, url))
        await trio.to_thread.run_sync(_words, url, False)
        inserts["before it"].append(await trio.to_thread.run_sync(_insert_us, url))
        await trio.to_thread.run_sync(_words, url, True)
    for label, runs in inserts.items():
        print(
            f"an utterance written {label}: {statistics.median(runs):.0f} µs (runs"
            f" {', '.join(f'{us:.0f}' for us in runs)}; 5,000 rows, 100 to a transaction)"
        )


def _words(url: str, present: bool) -> None:
    """Add migration 0025's words (columns and their indexes), as it does, or drop them."""
    migration = (
        resources.files("balto.store").joinpath("migrations", "0025_history_search.sql")
    ).read_text(encoding="utf-8")
    with psycopg.connect(url, autocommit=True) as conn:
        if present:
            words = [part for part in migration.split(";") if "palavras" in part]
            conn.execute(";".join(words).encode())
        else:
            for table in ("segments", "recommendations"):
                conn.execute(f"ALTER TABLE {table} DROP COLUMN palavras".encode())


def main() -> None:
    """Parse the arguments, start a database if none is given, run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=1_000_000)
    parser.add_argument("--clientes", type=int, default=50)
    parser.add_argument("--database-url", help="an empty database (default: an embedded one)")
    parser.add_argument("--filled", action="store_true", help="the database is already filled")
    parser.add_argument("--painel", action="store_true", help="time the Painel and Ao vivo only")
    args = parser.parse_args()
    options = (args.clientes, args.sessions, args.filled, args.painel)

    async def with_embedded() -> None:
        with tempfile.TemporaryDirectory(prefix="balto-history-") as scratch:
            async with embedded_postgres(Path(scratch) / "pg") as pg:
                await _run(pg.url, *options)

    if args.database_url:
        trio.run(_run, args.database_url, *options)
    else:
        trio.run(with_embedded)


if __name__ == "__main__":
    main()
