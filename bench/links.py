"""Per-message cost of a supervised link against a bare Trio memory channel.

Every PCM block crosses two links, so their overhead is paid ~100 times per audio-second per
session. Prints microseconds per message (send + receive, one producer, one consumer).

    .venv/bin/python bench/links.py [--messages 200000]
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import trio

from actors.context import ActorHealth
from supervisors.faults import FaultPlan
from supervisors.links import Link, Overflow


async def _pump(tx: Any, rx: Any, n: int) -> float:
    async def produce() -> None:
        async with tx:
            for i in range(n):
                await tx.send(i)

    started = time.perf_counter()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(produce)
        async with rx:
            async for _ in rx:
                pass
    return (time.perf_counter() - started) / n * 1e6


async def main(n: int) -> None:
    tx, rx = trio.open_memory_channel[int](32)
    print(f"memory channel          {await _pump(tx, rx, n):6.2f} µs/message")
    for overflow in Overflow:
        link: Link[int] = Link("bench", 32, overflow)
        link.consumer = ActorHealth("bench")
        link.faults = FaultPlan().for_session("b")  # faults checked, none planned
        sender, receiver = link.sender(), link.receiver()
        link.close_sending()
        cost = await _pump(sender, receiver, n)
        print(f"link ({overflow.value:<11})      {cost:6.2f} µs/message")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=200_000)
    trio.run(main, parser.parse_args().messages)
