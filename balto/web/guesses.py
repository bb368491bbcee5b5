"""Wrong admin-secret guesses per client address, whichever door they come through.

The sign-in form (`balto.web.signin`) and every ``Authorization: Bearer`` header share one
budget per address: `MAX_FAILURES` wrong secrets within `WINDOW_S`, each answered after
`FAILURE_DELAY_S`; past it the address gets 429 with ``Retry-After`` (even with the right secret)
until the oldest leaves the window. Counted per instance, in memory: the secret is long, and this
only stops brute force from one place. Before the bearer header counted, the form's limit was
no limit at all: any admin route answered a wrong bearer guess at once, as often as asked.
"""

from __future__ import annotations

import logging
from collections import deque

import trio
from quart import current_app

log = logging.getLogger(__name__)

MAX_FAILURES = 5
WINDOW_S = 300.0
FAILURE_DELAY_S = 0.5  # every wrong guess costs the guesser time, not the server (a sleep)
_MAX_ADDRESSES = 10_000  # bounds the table under a spray of addresses


class Guesses:
    """Wrong guesses per client address within the window (`trio.current_time` clock)."""

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
        """Count one guess from `addr` (before checking it: parallel guesses all count)."""
        now = trio.current_time()
        if len(self._at) >= _MAX_ADDRESSES and addr not in self._at:
            self._at.clear()  # crude, but memory stays bounded and the limit resumes at once
        times = self._recent(addr, now)
        times.append(now)
        self._at[addr] = times
        if len(times) == MAX_FAILURES:
            log.warning("admin secret: %d wrong guesses from %s; limited", MAX_FAILURES, addr)

    def take_back(self, addr: str) -> None:
        """Uncount the guess `add` just counted for `addr`: it was right."""
        times = self._at.get(addr)
        if times:
            times.pop()

    def clear(self, addr: str) -> None:
        """Forget `addr`'s guesses (a person signed in)."""
        self._at.pop(addr, None)


def guesses() -> Guesses:
    """This app's table (one per app: tests run several servers in one process)."""
    table: Guesses = current_app.config.setdefault("BALTO_ADMIN_GUESSES", Guesses())
    return table
