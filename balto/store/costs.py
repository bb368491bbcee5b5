"""Provider cost totals per session, balcão and cliente, from the accounted calls.

Plain sync functions of a connection (run them through `Database.run`). Every provider call —
pipeline, comparison or failed — is a row of ``provider_calls`` with its cost, so these sums are the
whole bill for what they cover.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

_TOTALS = (
    "SELECT count(*), coalesce(sum(pc.cost_usd) FILTER (WHERE pc.kind = 'stt'), 0),"
    " coalesce(sum(pc.cost_usd) FILTER (WHERE pc.kind = 'llm'), 0),"
    " coalesce(sum(pc.audio_seconds) FILTER (WHERE pc.kind = 'stt' AND pc.ok), 0),"
    " coalesce(sum(pc.input_tokens), 0), coalesce(sum(pc.output_tokens), 0),"
    " count(*) FILTER (WHERE NOT pc.ok)"
    " FROM provider_calls pc JOIN sessions s ON s.id = pc.session_id"
    " JOIN balcoes b ON b.id = s.balcao_id"
)


@dataclass(frozen=True, slots=True)
class CostTotals:
    """What a set of sessions cost in provider calls.

    Attributes:
        calls: Provider calls (failed ones included).
        failed_calls: Calls that failed (not billed by the providers; accounted at 0).
        stt_usd: Speech-to-text cost.
        llm_usd: LLM cost.
        audio_seconds: Audio successfully transcribed (comparison calls included).
        input_tokens: LLM prompt tokens.
        output_tokens: LLM completion tokens.
    """

    calls: int
    failed_calls: int
    stt_usd: float
    llm_usd: float
    audio_seconds: float
    input_tokens: int
    output_tokens: int

    @property
    def total_usd(self) -> float:
        """STT plus LLM."""
        return self.stt_usd + self.llm_usd


def _totals(conn: psycopg.Connection, where: str, key: str) -> CostTotals:
    row = conn.execute(f"{_TOTALS} WHERE {where} = %s".encode(), (key,)).fetchone()
    assert row is not None  # an aggregate always returns one row
    calls, stt, llm, audio, tokens_in, tokens_out, failed = row
    return CostTotals(
        calls=int(calls),
        failed_calls=int(failed),
        stt_usd=float(stt),
        llm_usd=float(llm),
        audio_seconds=float(audio),
        input_tokens=int(tokens_in),
        output_tokens=int(tokens_out),
    )


def session_costs(conn: psycopg.Connection, session_id: str) -> CostTotals:
    """Totals of one session."""
    return _totals(conn, "s.id", session_id)


def balcao_costs(conn: psycopg.Connection, balcao_id: str) -> CostTotals:
    """Totals of every session of one balcão."""
    return _totals(conn, "b.id", balcao_id)


def cliente_costs(conn: psycopg.Connection, cliente_id: str) -> CostTotals:
    """Totals of every session of every balcão of one cliente."""
    return _totals(conn, "b.cliente_id", cliente_id)
