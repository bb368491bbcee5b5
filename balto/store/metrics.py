"""Totals for ``/metrics`` that live in the database: provider calls, recommendations, advice.

Plain sync functions of a connection (run them through `Database.run`). Counts cover the table's
whole history, so they only grow (Prometheus counters); each scrape scans ``provider_calls`` once.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

from actors.histogram import BUCKETS

_BUCKET_SQL = ", ".join(
    f"count(*) FILTER (WHERE latency_ms <= {bound * 1000!r})" for bound in BUCKETS
)


@dataclass(frozen=True, slots=True)
class ProviderTotals:
    """One provider and kind: calls, errors by category, cost, latency buckets (cumulative)."""

    provider: str
    kind: str
    calls: int
    latency_sum_s: float
    cost_usd: float
    cumulative_buckets: tuple[int, ...]  # one per `BUCKETS` bound, then +Inf (= calls)
    errors: dict[str, int]


def provider_totals(conn: psycopg.Connection) -> list[ProviderTotals]:
    """Every provider's totals since the database began."""
    rows = conn.execute(
        f"SELECT provider, kind, count(*), coalesce(sum(latency_ms), 0) / 1000.0,"
        f" coalesce(sum(cost_usd), 0), {_BUCKET_SQL}"
        f" FROM provider_calls GROUP BY provider, kind ORDER BY provider, kind".encode()
    ).fetchall()
    errors: dict[tuple[str, str], dict[str, int]] = {}
    for provider, kind, category, count in conn.execute(
        "SELECT provider, kind, coalesce(error_category, 'unknown'), count(*)"
        " FROM provider_calls WHERE NOT ok GROUP BY 1, 2, 3"
    ):
        errors.setdefault((provider, kind), {})[category] = int(count)
    return [
        ProviderTotals(
            provider=row[0],
            kind=row[1],
            calls=int(row[2]),
            latency_sum_s=float(row[3]),
            cost_usd=float(row[4]),
            cumulative_buckets=(*(int(n) for n in row[5:]), int(row[2])),
            errors=errors.get((row[0], row[1]), {}),
        )
        for row in rows
    ]


def recommendation_totals(conn: psycopg.Connection) -> dict[str, int]:
    """Recommendations by feedback: ``aceita``, ``recusada``, ``sem_feedback``."""
    row = conn.execute(
        "SELECT count(*) FILTER (WHERE aceita), count(*) FILTER (WHERE NOT aceita),"
        " count(*) FILTER (WHERE aceita IS NULL) FROM recommendations"
    ).fetchone()
    assert row is not None  # an aggregate always returns one row
    return {"aceita": int(row[0]), "recusada": int(row[1]), "sem_feedback": int(row[2])}


@dataclass(frozen=True, slots=True)
class AdviceTotals:
    """Refused advisor answers by provider, model and reason; alerts by sign."""

    refusals: dict[tuple[str, str, str], int]
    alerts: dict[str, int]


def advice_totals(conn: psycopg.Connection) -> AdviceTotals:
    """Every refused answer and every alerted sign since the database began."""
    refusals = {
        (provider, model, reason): int(count)
        for provider, model, reason, count in conn.execute(
            "SELECT provider, model, reason, count(*) FROM advice_refusals GROUP BY 1, 2, 3"
        )
    }
    alerts = {
        sinal: int(count)
        for sinal, count in conn.execute(
            "SELECT s, count(*) FROM alerts, unnest(sinais) AS s GROUP BY 1"
        )
    }
    return AdviceTotals(refusals, alerts)
