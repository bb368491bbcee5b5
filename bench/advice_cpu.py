"""Advice CPU per utterance: `AdviceSession.hear` over labelled dialogues.

    .venv/bin/python bench/advice_cpu.py full [splits...]    one session, dialogues back to back
    .venv/bin/python bench/advice_cpu.py dialog [splits...]  a session per dialogue

With ``BENCH_ADVISORS=catalog`` the chain holds the catalog advisor, as a server with no LLM key
runs (the capacity bench's): every open need is then advised on. Default: no advisors.

`full` is a counter's steady state (the window holds its 16 turns); `dialog` is the short
sessions of the capacity bench. Splits default to holdout13 (bench/data). Prints the CPU time
(`time.process_time`) per utterance; run under ``flock /work/bench.lock`` on a quiet machine.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import trio

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from balto.advice import reader  # noqa: E402
from balto.advice.session import AdviceSession  # noqa: E402
from balto.catalog import Catalog  # noqa: E402
from balto.providers.catalog_advisor import CatalogAdvisor  # noqa: E402
from balto.providers.ports import Advisor  # noqa: E402

ADVISORS: tuple[Advisor, ...] = (
    (CatalogAdvisor(),) if os.environ.get("BENCH_ADVISORS") == "catalog" else ()
)


async def _measure(mode: str, dialogues: list[dict[str, object]], catalog: Catalog) -> float:
    cpu, count, at = 0.0, 0, 0.0
    session = AdviceSession(catalog, ADVISORS, cooldown_s=0.0)
    for dialogue in dialogues:
        if mode == "dialog":
            session = AdviceSession(catalog, ADVISORS, cooldown_s=0.0)
        for turn in dialogue["turns"]:  # type: ignore[attr-defined]
            started = time.process_time()
            await session.hear(turn["texto"], at, at + 3.0, speaker=turn["falante"])
            cpu += time.process_time() - started
            count += 1
            at += 4.0
    return 1000 * cpu / count


def main() -> None:
    """Print the advice CPU per utterance for the mode and splits given."""
    mode = sys.argv[1] if len(sys.argv) > 1 else "full"
    splits = sys.argv[2:] or ["holdout13"]
    data = ROOT / "bench" / "data"
    dialogues = [
        d for s in splits for d in json.loads((data / f"advice_dialogues_{s}.json").read_text())
    ]
    catalog = Catalog.load()
    reader.shared()  # loaded before timing
    warm = AdviceSession(catalog, ADVISORS, cooldown_s=0.0)
    trio.run(warm.hear, "bom dia, tô com dor de cabeça", 0.0, 1.0)
    per = trio.run(_measure, mode, dialogues, catalog)
    utterances = sum(len(d["turns"]) for d in dialogues)  # type: ignore[arg-type]
    print(f"{mode} {'+'.join(splits)}: {utterances} utterances, {per:.3f} ms CPU per utterance")


if __name__ == "__main__":
    main()
