"""The Painel's totals (`balto.store.charts.summaries`): every summary from one grouped read."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import psycopg
import pytest

from balto.store.charts import summaries
from balto.store.history import Filters
from balto.store.migrations import apply_migrations
from tests.conftest import migrate_before
from tests.painel_sums import sums_mismatch

SUMS = ("sessoes", "recomendacoes", "aceitas", "com_feedback", "alertas", "custo_usd")
# Monday 2 and Tuesday 3 March 2026, noon in São Paulo (15:00 UTC); and 02:00 UTC on the 4th,
# still the 3rd in São Paulo
MON, TUE, TUE_LATE = (
    datetime(2026, 3, 2, 15, tzinfo=UTC),
    datetime(2026, 3, 3, 15, tzinfo=UTC),
    datetime(2026, 3, 4, 2, tzinfo=UTC),
)


def _sums(*values: float) -> dict[str, float]:
    return dict(zip(SUMS, values, strict=True))


def _seed(conn: psycopg.Connection) -> dict[str, str]:
    """Rede A: store Centro (balcões Zeta and Alfa) and balcão Beta in no store; Rede B: Gama."""
    ids = {k: str(uuid.uuid4()) for k in ("A", "B", "centro", "zeta", "alfa", "beta", "gama")}
    for n, rede in enumerate(("A", "B")):
        conn.execute(
            "INSERT INTO clientes (id, codigo, email, razao_social, telefone)"
            " VALUES (%s, %s, 'a@b.com', %s, '1')",
            (ids[rede], f"80000{n}", f"Rede {rede}"),
        )
    conn.execute(
        "INSERT INTO lojas (id, cliente_id, nome) VALUES (%s, %s, 'Centro')",
        (ids["centro"], ids["A"]),
    )
    for balcao, rede, loja in (
        ("zeta", "A", "centro"),
        ("alfa", "A", "centro"),
        ("beta", "A", None),
        ("gama", "B", None),
    ):
        conn.execute(
            "INSERT INTO balcoes (id, cliente_id, nome_balcao, api_key_hash, api_key_hint,"
            " loja_id) VALUES (%s, %s, %s, %s, 'bk_', %s)",
            (ids[balcao], ids[rede], balcao.title(), uuid.uuid4().bytes, loja and ids[loja]),
        )
    # sessions: Zeta 2 (Mon, Tue late), Alfa 2 (Tue), Beta 1 (Mon), Gama 2 (Mon, Tue)
    for balcao, at, said in (
        ("zeta", MON, [(True, False)]),
        ("zeta", TUE_LATE, []),
        ("alfa", TUE, [(None, False)]),
        ("alfa", TUE, []),
        ("beta", MON, [(False, True)]),
        ("gama", MON, [(True, False), (True, False)]),
        ("gama", TUE, []),
    ):
        session = str(uuid.uuid4())
        conn.execute(
            "INSERT INTO sessions (id, balcao_id, started_at) VALUES (%s, %s, %s)",
            (session, ids[balcao], at),
        )
        for aceita, alert in said:  # a suggestion (with its feedback) or an alert
            if alert:
                conn.execute(
                    "INSERT INTO alerts (id, session_id, sinal, sinais, motivo, orientacao,"
                    " transcricao_base, created_at) VALUES (gen_random_uuid(), %s,"
                    " 'dor_no_peito', '{dor_no_peito}', 'Dor', 'SAMU', '', %s)",
                    (session, at),
                )
            else:
                conn.execute(
                    "INSERT INTO recommendations (id, session_id, produto, explicacao,"
                    " transcricao_base, source, created_at, aceita) VALUES (gen_random_uuid(),"
                    " %s, 'Dipirona', 'porque', '', 'catalog', %s, %s)",
                    (session, at, aceita),
                )
        conn.execute(
            "INSERT INTO provider_calls (session_id, kind, provider, model, ok, latency_ms,"
            " cost_usd, created_at) VALUES (%s, 'stt', 'elevenlabs', 'scribe', true, 1, 0.25, %s)",
            (session, at),
        )
    return ids


def test_the_painels_totals_per_period_balcao_store_and_chain(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        apply_migrations(conn)
        ids = _seed(conn)
        got = summaries(conn, Filters(), "day", "America/Sao_Paulo")
        assert got["series"] == [
            {"periodo": "2026-03-02", **_sums(3, 3, 3, 3, 1, 0.75)},
            {"periodo": "2026-03-03", **_sums(4, 1, 0, 0, 0, 1.0)},  # the 4th at 02:00 UTC too
        ]
        assert got["por_balcao"] == [  # busiest first, then by name
            {"balcao_id": uuid.UUID(ids["alfa"]), "nome_balcao": "Alfa", "razao_social": "Rede A"}
            | _sums(2, 1, 0, 0, 0, 0.5),
            {"balcao_id": uuid.UUID(ids["gama"]), "nome_balcao": "Gama", "razao_social": "Rede B"}
            | _sums(2, 2, 2, 2, 0, 0.5),
            {"balcao_id": uuid.UUID(ids["zeta"]), "nome_balcao": "Zeta", "razao_social": "Rede A"}
            | _sums(2, 1, 1, 1, 0, 0.5),
            {"balcao_id": uuid.UUID(ids["beta"]), "nome_balcao": "Beta", "razao_social": "Rede A"}
            | _sums(1, 0, 0, 0, 1, 0.25),
        ]
        centro, nenhuma = uuid.UUID(ids["centro"]), None
        rede_a, rede_b = uuid.UUID(ids["A"]), uuid.UUID(ids["B"])
        assert got["por_loja"] == [  # the balcões in no store are a row of their own
            {"cliente_id": rede_a, "razao_social": "Rede A", "loja_id": centro, "loja": "Centro"}
            | _sums(4, 2, 1, 1, 0, 1.0),
            {"cliente_id": rede_b, "razao_social": "Rede B", "loja_id": nenhuma, "loja": None}
            | _sums(2, 2, 2, 2, 0, 0.5),
            {"cliente_id": rede_a, "razao_social": "Rede A", "loja_id": nenhuma, "loja": None}
            | _sums(1, 0, 0, 0, 1, 0.25),
        ]
        assert got["por_cliente"] == [
            {"cliente_id": rede_a, "razao_social": "Rede A"} | _sums(5, 2, 1, 1, 1, 1.25),
            {"cliente_id": rede_b, "razao_social": "Rede B"} | _sums(2, 2, 2, 2, 0, 0.5),
        ]
        # a week's grain and the filters: one store's Tuesday
        week = summaries(
            conn,
            Filters(loja_id=ids["centro"], desde=datetime(2026, 3, 3, 3, tzinfo=UTC)),
            "week",
            "America/Sao_Paulo",
        )
        assert week["series"] == [{"periodo": "2026-03-02", **_sums(3, 1, 0, 0, 0, 0.75)}]
        assert [r["nome_balcao"] for r in week["por_balcao"]] == ["Alfa", "Zeta"]
        assert [r["loja"] for r in week["por_loja"]] == ["Centro"]
        assert [r["razao_social"] for r in week["por_cliente"]] == ["Rede A"]


def _expected_days(got: dict[str, list[dict[str, object]]]) -> None:
    """The seed's two days, as the first test reads them."""
    assert got["series"] == [
        {"periodo": "2026-03-02", **_sums(3, 3, 3, 3, 1, 0.75)},
        {"periodo": "2026-03-03", **_sums(4, 1, 0, 0, 0, 1.0)},
    ]


def test_what_was_recorded_before_the_hourly_sums_is_counted(database_url: str) -> None:
    """Migration 0027 sums the rows already there (a running network's history)."""
    with psycopg.connect(database_url) as conn:
        migrate_before(conn, "0027")
        _seed(conn)
        assert [n for n in apply_migrations(conn) if n.startswith("0027")]
        _expected_days(summaries(conn, Filters(), "day", "America/Sao_Paulo"))
        assert sums_mismatch(conn) == 0


def test_the_hourly_sums_follow_every_write(database_url: str) -> None:
    """Feedback given later, a replayed insert, and a period cut inside an hour."""
    with psycopg.connect(database_url) as conn:
        apply_migrations(conn)
        ids = _seed(conn)
        session = str(uuid.uuid4())
        conn.execute(
            "INSERT INTO sessions (id, balcao_id, started_at) VALUES (%s, %s, %s)",
            (session, ids["beta"], datetime(2026, 3, 2, 18, 10, tzinfo=UTC)),
        )
        rec = str(uuid.uuid4())
        insert = (
            "INSERT INTO recommendations (id, session_id, produto, explicacao, transcricao_base,"
            " source, created_at) VALUES (%s, %s, 'Soro', 'porque', '', 'catalog', %s)"
            " ON CONFLICT (id) DO NOTHING"
        )
        at = datetime(2026, 3, 2, 18, 40, tzinfo=UTC)
        conn.execute(insert, (rec, session, at))
        conn.execute(insert, (rec, session, at))  # the recorder's replay after an outage
        for aceita in (True, False, None, True):  # feedback given, changed, withdrawn, again
            conn.execute("UPDATE recommendations SET aceita = %s WHERE id = %s", (aceita, rec))
        assert sums_mismatch(conn) == 0
        monday = summaries(conn, Filters(), "day", "America/Sao_Paulo")["series"][0]
        assert monday == {"periodo": "2026-03-02", **_sums(4, 4, 4, 4, 1, 0.75)}
        # cut at 18:30 UTC: the session (18:10) is out, its suggestion (18:40) in
        late = summaries(
            conn,
            Filters(balcao_id=ids["beta"], desde=datetime(2026, 3, 2, 18, 30, tzinfo=UTC)),
            "day",
            "America/Sao_Paulo",
        )
        assert late["series"] == [{"periodo": "2026-03-02", **_sums(0, 1, 1, 1, 0, 0.0)}]
        # and ending there: the session in, the suggestion out, the Monday noon rows in
        early = summaries(
            conn,
            Filters(balcao_id=ids["beta"], ate=datetime(2026, 3, 2, 18, 30, tzinfo=UTC)),
            "day",
            "America/Sao_Paulo",
        )
        assert early["series"] == [{"periodo": "2026-03-02", **_sums(2, 0, 0, 0, 1, 0.25)}]
        # a time corrected moves its row to that hour; a deleted row leaves
        conn.execute(
            "UPDATE recommendations SET created_at = created_at + interval '1 day' WHERE id = %s",
            (rec,),
        )
        conn.execute(
            "UPDATE sessions SET started_at = started_at - interval '2 hours' WHERE id = %s",
            (session,),
        )
        conn.execute(
            "DELETE FROM provider_calls WHERE session_id IN"
            " (SELECT id FROM sessions WHERE balcao_id = %s)",
            (ids["beta"],),
        )
        conn.execute("DELETE FROM alerts")
        assert sums_mismatch(conn) == 0
        beta = summaries(conn, Filters(balcao_id=ids["beta"]), "day", "America/Sao_Paulo")
        assert beta["series"] == [
            {"periodo": "2026-03-02", **_sums(2, 0, 0, 0, 0, 0.0)},
            {"periodo": "2026-03-03", **_sums(0, 1, 1, 1, 0, 0.0)},
        ]
        # a suggestion's balcão is its session's, whatever an update says
        conn.execute("UPDATE recommendations SET balcao_id = %s WHERE id = %s", (ids["gama"], rec))
        assert conn.execute(
            "SELECT balcao_id::text FROM recommendations WHERE id = %s", (rec,)
        ).fetchone() == (ids["beta"],)
        assert sums_mismatch(conn) == 0
        # and what the sums rest on holds: a session stays at its balcão
        with pytest.raises(psycopg.errors.RaiseException), conn.transaction():
            conn.execute("UPDATE sessions SET balcao_id = %s WHERE id = %s", (ids["gama"], session))


def test_a_zone_half_an_hour_off_cuts_days_from_the_rows(database_url: str) -> None:
    """In Kolkata (UTC+5:30) 18:40 UTC is 00:10 the next day, though its UTC hour starts at
    23:30 local: the hourly sums cannot say which day, so the rows are read."""
    with psycopg.connect(database_url) as conn:
        apply_migrations(conn)
        ids = _seed(conn)
        conn.execute(
            "INSERT INTO sessions (id, balcao_id, started_at) VALUES (gen_random_uuid(), %s, %s)",
            (ids["gama"], datetime(2026, 3, 4, 18, 40, tzinfo=UTC)),
        )
        got = summaries(conn, Filters(balcao_id=ids["gama"]), "day", "Asia/Kolkata")
        assert [(r["periodo"], r["sessoes"]) for r in got["series"]] == [
            ("2026-03-02", 1),
            ("2026-03-03", 1),
            ("2026-03-05", 1),
        ]
