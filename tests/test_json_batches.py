"""Documents carrying every live session: the same JSON, encoded a few sessions at a time."""

from __future__ import annotations

import json

import pytest
import trio

from balto.web.json_batches import dumps_batched
from supervisors.batches import BATCH


class _Steps(trio.abc.Instrument):
    """Counts how many times `task` is scheduled (its runs between two schedule points)."""

    def __init__(self, task: trio.lowlevel.Task) -> None:
        self.task, self.steps = task, 0

    def before_task_step(self, task: trio.lowlevel.Task) -> None:
        if task is self.task:
            self.steps += 1


@pytest.mark.parametrize("n", [0, 1, BATCH, 5 * BATCH + 1])
async def test_the_text_is_json_dumps_and_the_thread_is_given_back_between_batches(n: int) -> None:
    sessions = [
        {"balcao_id": f"b{i}", "nome": "Balcão ção \u2713", "lag_s": i / 3, "actors": [{"n": None}]}
        for i in range(n)
    ]
    document = {"sessions": sessions, "encerradas": [{"close_code": 4003}], "agora": "hoje"}
    steps = _Steps(trio.lowlevel.current_task())
    trio.lowlevel.add_instrument(steps)
    try:
        text = await dumps_batched(document, "sessions")
    finally:
        trio.lowlevel.remove_instrument(steps)
    assert text == json.dumps(document)
    assert steps.steps == max(0, (n - 1) // BATCH)  # one checkpoint per batch after the first


async def test_a_document_with_only_the_list() -> None:
    assert await dumps_batched({"sessions": [{"a": 1}]}, "sessions") == '{"sessions": [{"a": 1}]}'


async def test_the_list_must_come_first() -> None:
    with pytest.raises(ValueError, match="first key"):
        await dumps_batched({"agora": "hoje", "sessions": []}, "sessions")
