"""Wrong admin-secret guesses per client address, counted in PostgreSQL for every instance.

`judge` decides one guess: while the address has `GuessLimit.max_failures` wrong guesses within
`GuessLimit.window_s` it answers the seconds to wait (the right secret too: a guesser learns
nothing while limited); otherwise a wrong guess is recorded. An advisory lock per address makes
the check and the record one step, so guesses sent in parallel, to any instance, cannot slip past
the limit. Plain sync functions of a connection (run them through `Database.run`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import psycopg

_ADDRESS_LOCK = 0x0BA173  # advisory-lock namespace (arbitrary, constant; cadastro uses ..71/72)


@dataclass(frozen=True, slots=True)
class GuessLimit:
    """How many wrong guesses an address may make within the window."""

    max_failures: int = 5
    window_s: float = 300.0


def judge(conn: psycopg.Connection, remote_addr: str, wrong: bool, limit: GuessLimit) -> int:
    """Seconds `remote_addr` must wait (0: go on); a wrong guess that goes on is recorded.

    Args:
        conn: A connection (the call is one transaction).
        remote_addr: The client's address, as the server sees it.
        wrong: Whether this guess was wrong (only wrong ones count).
        limit: The limit.
    """
    # taken for the right secret too: while limited, both answers cost the same statements
    conn.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (_ADDRESS_LOCK, remote_addr))
    # the max_failures-th newest guess in the window: the limit lifts when it leaves the window
    row = conn.execute(
        "SELECT extract(epoch FROM at + make_interval(secs => %s) - now())::float8"
        " FROM admin_guesses WHERE remote_addr = %s AND at > now() - make_interval(secs => %s)"
        " ORDER BY at DESC OFFSET %s LIMIT 1",
        (limit.window_s, remote_addr, limit.window_s, limit.max_failures - 1),
    ).fetchone()
    if row is not None:
        return max(1, math.ceil(float(row[0])))
    if wrong:
        conn.execute("INSERT INTO admin_guesses (remote_addr) VALUES (%s)", (remote_addr,))
        conn.execute(
            "DELETE FROM admin_guesses WHERE at < now() - make_interval(secs => %s)",
            (limit.window_s,),
        )
    return 0


def forget(conn: psycopg.Connection, remote_addr: str) -> None:
    """Drop `remote_addr`'s wrong guesses (a person signed in from it)."""
    conn.execute("DELETE FROM admin_guesses WHERE remote_addr = %s", (remote_addr,))
