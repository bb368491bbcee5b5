"""The retention task: what was said more than ``BALTO_RETENTION_DAYS`` days ago is erased.

A root child, started only when retention is set. At start and then every `EVERY_S` it erases
old texts in steps of `balto.store.erasure.BATCH` rows per table, pausing between steps so the
live traffic's writes are never held behind a long transaction, until nothing older is left.
Instances sharing the database take turns through an advisory lock (one erases, the others skip
that round). Raises nothing: a database that is away, or any failure, is logged and the next round
tries again; the server goes on either way.
"""

from __future__ import annotations

import logging
from collections import Counter

import trio

from balto.store.database import Database, DatabaseUnavailable
from balto.store.erasure import erase_older_than

log = logging.getLogger(__name__)

EVERY_S = 3600.0  # rows cross the limit continuously; an hour late is within any stated period
PAUSE_S = 0.2  # between steps


async def erase_round(db: Database, days: int) -> Counter[str]:
    """Erase everything said more than `days` days ago; the rows erased, per kind."""
    total: Counter[str] = Counter()
    while True:
        counts = await db.run(erase_older_than, days)
        if counts is None:
            log.info("retention: another instance is erasing; skipped this round")
            return total
        total.update(counts)
        if not any(counts.values()):
            return total
        await trio.sleep(PAUSE_S)


async def keep_retention(
    db: Database, days: int, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
) -> None:
    """Run `erase_round` now and every `EVERY_S` until cancelled."""
    task_status.started()
    while True:
        try:
            erased = await erase_round(db, days)
        except DatabaseUnavailable as exc:
            log.warning("retention: the database is away (%s); next round in %.0f s", exc, EVERY_S)
        except Exception:  # a bug here must not end the server: the next round tries again
            log.exception("retention: the round failed; next round in %.0f s", EVERY_S)
        else:
            if any(erased.values()):
                log.info(
                    "retention: erased what was said more than %d days ago: %s",
                    days,
                    ", ".join(f"{key} {n}" for key, n in sorted(erased.items()) if n),
                )
        await trio.sleep(EVERY_S)
