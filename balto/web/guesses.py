"""Wrong admin-secret guesses per client address, whichever door and instance they come through.

The sign-in form (`balto.web.signin`) and every ``Authorization: Bearer`` header share one
budget per address: `MAX_FAILURES` wrong secrets within `WINDOW_S`, each answered after
`FAILURE_DELAY_S`; past it the address gets 429 with ``Retry-After`` (even with the right secret)
until the oldest leaves the window. A gestor's e-mail has a budget of its own as well
(`ACCOUNT_MAX_FAILURES`, whatever the addresses). Counted in PostgreSQL
(`balto.store.admin_guesses`), so the budget is the cluster's: counted in each process, N
instances behind the proxy gave an address N budgets and a restart a fresh one. Each instance
also keeps its own table (`Guesses`) of addresses, which decides alone while the database is
away, so an outage does not lift the limit.
"""

from __future__ import annotations

import logging
from collections import deque

import trio
from quart import current_app

from balto.store import admin_guesses
from balto.store.database import Database, DatabaseUnavailable

log = logging.getLogger(__name__)

MAX_FAILURES = 5
WINDOW_S = 300.0
FAILURE_DELAY_S = 0.5  # every wrong guess costs the guesser time, not the server (a sleep)
SHARED_TIMEOUT_S = 1.0  # the shared count's deadline; past it this instance's table decides
_LIMIT = admin_guesses.GuessLimit(MAX_FAILURES, WINDOW_S)
ACCOUNT_MAX_FAILURES = 10
"""Wrong passwords for one gestor e-mail within `WINDOW_S`, from any addresses, before that
e-mail's sign-ins wait (a guesser with many addresses gets no more tries at one account)."""
_ACCOUNT_LIMIT = admin_guesses.GuessLimit(ACCOUNT_MAX_FAILURES, WINDOW_S)
_MAX_ADDRESSES = 10_000  # bounds the table under a spray of addresses


class Guesses:
    """This instance's wrong guesses per client address within the window (Trio's clock)."""

    def __init__(self) -> None:
        """An empty table."""
        self._at: dict[str, deque[float]] = {}

    def _recent(self, addr: str, now: float) -> deque[float]:
        times = self._at.get(addr, deque())
        while times and now - times[0] > WINDOW_S:
            times.popleft()
        return times

    def retry_after(self, addr: str) -> int:
        """Seconds until `addr` may try again (0: now)."""
        now = trio.current_time()
        times = self._recent(addr, now)
        if len(times) < MAX_FAILURES:
            return 0
        return max(1, int(WINDOW_S - (now - times[0])) + 1)

    def add(self, addr: str) -> None:
        """Count one wrong guess from `addr`."""
        now = trio.current_time()
        if len(self._at) >= _MAX_ADDRESSES and addr not in self._at:
            self._at.clear()  # crude, but memory stays bounded and the limit resumes at once
        times = self._recent(addr, now)
        times.append(now)
        self._at[addr] = times
        if len(times) == MAX_FAILURES:
            log.warning("admin secret: %d wrong guesses from %s; limited", MAX_FAILURES, addr)

    def clear(self, addr: str) -> None:
        """Forget `addr`'s guesses (a person signed in)."""
        self._at.pop(addr, None)


def guesses() -> Guesses:
    """This app's table (one per app: tests run several servers in one process)."""
    table: Guesses = current_app.config.setdefault("BALTO_ADMIN_GUESSES", Guesses())
    return table


async def judge(db: Database, addr: str, right: bool) -> int:
    """Seconds `addr` must wait before this guess is heard (0: heard); a wrong one is counted.

    The shared count decides while the database answers (within `SHARED_TIMEOUT_S`); this
    instance's table keeps the wrong guesses it hears and decides alone otherwise, checking and
    counting in one step, so guesses sent in parallel during an outage cannot slip past it.
    """
    table = guesses()
    if not db.away:  # known away: no second's wait per request (Prometheus scrapes go on)
        try:
            wait = await db.run_within(
                SHARED_TIMEOUT_S, admin_guesses.judge, addr, not right, _LIMIT
            )
        except DatabaseUnavailable:
            pass
        else:
            if not wait and not right:
                table.add(addr)
            return wait
    wait = table.retry_after(addr)
    if not wait and not right:
        table.add(addr)
    return wait


async def forget(db: Database, addr: str) -> None:
    """Forget `addr`'s wrong guesses everywhere (a person signed in from it)."""
    guesses().clear(addr)
    try:
        await db.run_within(SHARED_TIMEOUT_S, admin_guesses.forget, addr)
    except DatabaseUnavailable:
        log.warning("admin secret: the database is away; %s's shared guesses kept", addr)


def _account_key(email: str) -> str:
    # shares the table with addresses; no address starts so
    return "conta:" + email.lower()


async def judge_account(db: Database, email: str, right: bool) -> int:
    """Seconds sign-ins to the account `email` must wait (0: heard); a wrong password counts.

    Keyed by the e-mail as typed (lower case), whether or not such an account exists, so the
    answer never says which e-mails have one. Counted in PostgreSQL only: a gestor's sign-in
    needs the database anyway.
    """
    try:
        return await db.run_within(
            SHARED_TIMEOUT_S, admin_guesses.judge, _account_key(email), not right, _ACCOUNT_LIMIT
        )
    except DatabaseUnavailable:
        return 0


async def forget_account(db: Database, email: str) -> None:
    """Forget the account's wrong passwords (its owner signed in)."""
    try:
        await db.run_within(SHARED_TIMEOUT_S, admin_guesses.forget, _account_key(email))
    except DatabaseUnavailable:
        log.warning("gestor sign-in: the database is away; the account's guesses kept")
