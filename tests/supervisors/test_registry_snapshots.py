"""The registry snapshots many sessions a few at a time, letting the rest of the server run."""

from __future__ import annotations

import trio

from actors.context import SessionInfo
from supervisors.batches import BATCH
from supervisors.registry import LiveSession, Registry
from supervisors.session import Session


def _registry(n: int) -> tuple[Registry, list[LiveSession]]:
    registry = Registry()
    lives = [
        LiveSession(Session(SessionInfo(f"s{i}", f"b{i}", "c", f"Balcão {i}"))) for i in range(n)
    ]
    for live in lives:
        registry.register(live)
    return registry, lives


class _Steps(trio.abc.Instrument):
    """Stamps every session with how many times `task` has been scheduled so far (through the
    receiver's restart count, which the snapshot reports)."""

    def __init__(self, task: trio.lowlevel.Task, lives: list[LiveSession]) -> None:
        self.task, self.lives, self.steps = task, lives, 0

    def before_task_step(self, task: trio.lowlevel.Task) -> None:
        if task is self.task:
            self.steps += 1
            for live in self.lives:
                live.session.health["receiver"].restarts = self.steps


async def test_the_thread_is_given_back_after_every_small_batch_of_snapshots() -> None:
    n = 10 * BATCH + 3
    registry, lives = _registry(n)
    steps = _Steps(trio.lowlevel.current_task(), lives)
    trio.lowlevel.add_instrument(steps)
    try:
        snapshots = await registry.snapshots()
    finally:
        trio.lowlevel.remove_instrument(steps)
    assert len(snapshots) == n
    # which of the task's steps (runs between two schedule points) took each snapshot
    taken_in = [snapshot["restarts"] for _, snapshot in snapshots]
    per_step = [taken_in.count(step) for step in sorted(set(taken_in))]
    assert per_step == [BATCH] * 10 + [3], taken_in


async def test_a_session_that_ends_meanwhile_is_left_out() -> None:
    registry, lives = _registry(3 * BATCH)
    gone = lives[-1]

    async def end_it() -> None:
        registry.unregister(gone)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(end_it)
        snapshots = await registry.snapshots()
    ids = [snapshot["balcao_id"] for _, snapshot in snapshots]
    assert ids == [f"b{i}" for i in range(3 * BATCH - 1)]
    assert all(live is not gone for live, _ in snapshots)
