"""The capacity bench's server process: ``balto serve`` plus a probe the bench reads.

Runs exactly what ``python -m balto serve`` runs (settings from the environment, embedded
PostgreSQL, Hypercorn, one supervised pipeline per device), and in the same `trio.run` a probe
that sleeps 10 ms in a loop and records how late each wake-up is (the event-loop lag), appending
once a second to the JSON-lines file named by ``BENCH_STATS``: the monotonic time, the lags seen
since the last line, the process-wide per-stage CPU totals (`balto.audio.frontend.STAGE_CPU`)
and the garbage collections since the last line (generation, seconds, and the CPU seconds
of the thread that collected: on a loaded machine a pause can last longer than its work).
The probe costs ~100 wake-ups a second, which is counted in the server's CPU.
"""

from __future__ import annotations

import gc
import json
import os
import sys
import time
from pathlib import Path

import trio

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from balto.audio.frontend import STAGE_CPU  # noqa: E402
from balto.audio.opus_decoder import OPUS_CPU  # noqa: E402
from balto.cli import _configure_logging, _serve  # noqa: E402
from balto.config import Settings  # noqa: E402

PROBE_S = 0.01
_gc_pauses: list[tuple[int, float, float]] = []  # (generation, seconds, CPU seconds) of each
_gc_started = (0.0, 0.0)


def _gc_timer(phase: str, info: dict[str, int]) -> None:
    """Time every garbage collection (a pause of the whole process, Trio thread included)."""
    global _gc_started
    debug = os.environ.get("BENCH_GC_DEBUG")
    if phase == "start" and info["generation"] == 2 and debug:
        _gc_census()
    if debug == "young" and info["generation"] < 2:
        _young_census(phase, info)
    if phase == "start":
        _gc_started = (time.perf_counter(), time.thread_time())
    else:
        wall, cpu = time.perf_counter() - _gc_started[0], time.thread_time() - _gc_started[1]
        _gc_pauses.append((info["generation"], wall, cpu))


def _gc_census() -> None:
    """``BENCH_GC_DEBUG=1``: before each full collection, print what it is about to walk."""
    from collections import Counter

    objects = gc.get_objects(generation=2)
    kinds = Counter(type(o).__name__ for o in objects).most_common(12)
    print(f"gc census: {len(objects)} in gen 2, {len(gc.get_objects(1))} in gen 1, "
          f"{gc.get_freeze_count()} frozen; {kinds}", file=sys.stderr, flush=True)  # fmt: skip
    del objects


_young_seen = [0]


def _young_census(phase: str, info: dict[str, int]) -> None:
    """``BENCH_GC_DEBUG=young``: at every 10th young collection and every middle one, what it
    walks (sizes and kinds of the generations it takes) and how much of it was garbage."""
    from collections import Counter

    if phase == "start":
        _young_seen[0] += 1
        if _young_seen[0] % 10 and info["generation"] == 0:
            return
        gen = info["generation"]
        objects = [o for g in range(gen + 1) for o in gc.get_objects(generation=g)]
        kinds = Counter(type(o).__name__ for o in objects).most_common(15)
        sizes = [len(gc.get_objects(generation=g)) for g in range(3)]
        print(f"gc young census: gen {gen}, generations {sizes}; {kinds}", file=sys.stderr,
              flush=True)  # fmt: skip
        # `gc.get_referents`, not indexing: a tuple being filled when the collection started
        # holds NULLs, and reading one crashes the process.
        shapes = Counter(
            (len(o), *(type(x).__name__ for x in gc.get_referents(o)[:3]))
            for o in objects
            if type(o) is tuple
        ).most_common(12)
        print(f"gc young census: tuples {shapes}", file=sys.stderr, flush=True)
        del objects
    elif _young_seen[0] % 10 == 0 or info["generation"] == 1:
        print(f"gc young census: collected {info['collected']}", file=sys.stderr, flush=True)


async def _probe(path: Path) -> None:
    lags: list[float] = []
    next_write = time.monotonic() + 1.0
    with path.open("a") as out:
        while True:
            before = trio.current_time()
            await trio.sleep(PROBE_S)
            lags.append(trio.current_time() - before - PROBE_S)
            now = time.monotonic()
            if now >= next_write:
                stage = [STAGE_CPU.audio_s, STAGE_CPU.denoise_s, STAGE_CPU.vad_s]
                stage += [OPUS_CPU.audio_s, OPUS_CPU.cpu_s]
                gc_pauses = _gc_pauses[:]
                del _gc_pauses[:]
                row = {"t": now, "lags": lags, "stage": stage, "gc": gc_pauses}
                out.write(json.dumps(row) + "\n")
                out.flush()
                lags = []
                next_write = now + 1.0


async def _freeze_after_start() -> None:
    """``BENCH_GC_FREEZE=1``: what a ``gc.freeze()`` after startup would do (a proposal, not what
    ``balto serve`` does today): the imported modules and the app's objects leave the collector's
    generations, so a full collection no longer walks them."""
    await trio.sleep(5.0)
    gc.collect()
    gc.freeze()


async def _thresholds_after_start(thresholds: str) -> None:
    """``BENCH_GC_THRESHOLD=a,b,c``: try other collector thresholds than the server's own."""
    await trio.sleep(5.0)
    gc.set_threshold(*(int(x) for x in thresholds.split(",")))


async def _collect_on_a_clock(every_s: float) -> None:
    """``BENCH_GC_CLOCK=S``: no automatic collection; a full one every S seconds, printing how
    much cyclic garbage the load made since the last (``BENCH_GC_CLOCK_CENSUS=1``: and of what
    kinds)."""
    from collections import Counter

    census = os.environ.get("BENCH_GC_CLOCK_CENSUS") == "1"
    await trio.sleep(5.0)
    gc.disable()
    while True:
        await trio.sleep(every_s)
        if census:
            gc.set_debug(gc.DEBUG_SAVEALL)  # the garbage is kept in gc.garbage to be counted
        found = gc.collect()
        print(f"gc clock: full collection found {found}", file=sys.stderr, flush=True)
        if census:
            kinds = Counter(type(o).__qualname__ for o in gc.garbage).most_common(40)
            print(f"gc clock: garbage {kinds}", file=sys.stderr, flush=True)
            gc.set_debug(0)
            del gc.garbage[:]


async def _growth(at: list[float]) -> None:
    """``BENCH_GC_GROWTH=t1,t2,...`` (seconds after start): the kinds of object that grew most
    between those moments (the live objects the collector tracks, by type)."""
    from collections import Counter

    start, before = trio.current_time(), Counter[str]()
    for t in at:
        await trio.sleep_until(start + t)
        now = Counter(type(o).__qualname__ for o in gc.get_objects())
        grew = (now - before).most_common(25)
        print(f"gc growth at {t:.0f} s: {sum(now.values())} tracked; {grew}", file=sys.stderr,
              flush=True)  # fmt: skip
        before = now


async def _main(settings: Settings, stats: Path) -> None:
    gc.callbacks.append(_gc_timer)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(_probe, stats)
        if os.environ.get("BENCH_GC_GROWTH"):
            at = [float(t) for t in os.environ["BENCH_GC_GROWTH"].split(",")]
            nursery.start_soon(_growth, at)
        if os.environ.get("BENCH_GC_THRESHOLD"):
            nursery.start_soon(_thresholds_after_start, os.environ["BENCH_GC_THRESHOLD"])
        if os.environ.get("BENCH_GC_CLOCK"):
            nursery.start_soon(_collect_on_a_clock, float(os.environ["BENCH_GC_CLOCK"]))
        if os.environ.get("BENCH_GC_FREEZE") == "1":
            nursery.start_soon(_freeze_after_start)
        await _serve(settings)
        nursery.cancel_scope.cancel()


if __name__ == "__main__":
    settings = Settings.from_env()
    _configure_logging(settings.log_level)
    profile_to = os.environ.get("BENCH_PROFILE")  # a path: cProfile the Trio thread into it
    if profile_to:
        import cProfile

        with cProfile.Profile() as profiler:
            trio.run(_main, settings, Path(os.environ["BENCH_STATS"]))
        profiler.dump_stats(profile_to)
    else:
        trio.run(_main, settings, Path(os.environ["BENCH_STATS"]))
