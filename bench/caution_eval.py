"""Contraindications benchmark: labelled pt-BR dialogues where a condition rules products out.

Each dialogue of ``bench/data/caution_dialogues_{tune,holdout}.json`` (written by writers who saw
no code, from `bench/data/caution_writer_brief.md`; ``tune`` was read while tuning, ``holdout``
was measured once on frozen code) is fed, utterance by utterance, to
`balto.advice.session.AdviceSession` with the chain Balto builds from its configuration, its LLMs
pointed at two loopback OpenAI-compatible fakes behaving one way per column:

- ``catalogo``: no LLM (the catalog advisor alone);
- ``exato``: names the labelled safe product (declines when there is none);
- ``inseguro``: names a product the writer said must not be suggested to this customer (a model
  that ignores what it was told), else the labelled one.

And ``sem_contraindicacoes`` runs ``catalogo`` on the same catalog with every product's
``contraindicacoes`` emptied: what Balto did before it read conditions.

Per column and split: conditions found (each labelled condition or allergy read by the end of its
dialogue), dialogues left with an unsafe suggestion on the screen (the last product shown and not
withdrawn is one the writer listed in ``evitar``), unsafe products shown after the condition was
said, needs met with a safe product of a right category, and, on ``need`` dialogues (condition
words that do not apply), false cautions (a product ruled out) and needs met.

    .venv/bin/python bench/caution_eval.py [--splits tune,holdout] [--columns ...] [--misses]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import trio

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from balto.advice import cautions, cautions_table  # noqa: E402
from balto.advice.lexicon import spoken  # noqa: E402
from balto.advice.session import AdviceSession  # noqa: E402
from balto.catalog import Catalog  # noqa: E402
from balto.config import Settings  # noqa: E402
from balto.fakes.openai_compat import NO_RECOMMENDATION, FakeOpenAICompat  # noqa: E402
from balto.fakes.wiring import provider_env  # noqa: E402
from balto.providers.ports import Turn  # noqa: E402
from balto.providers.registry import open_providers  # noqa: E402

DATA = ROOT / "bench" / "data"
COLUMNS = ("sem_contraindicacoes", "catalogo", "exato", "inseguro")


@dataclass
class Tally:
    """The counts of one column on one split."""

    cautions: int = 0
    conditions: int = 0
    found: int = 0
    left_unsafe: int = 0
    unsafe_after: int = 0
    needs: int = 0
    met: int = 0
    plain: int = 0
    false_cautions: int = 0
    plain_met: int = 0
    misses: list[str] = field(default_factory=list)

    def add(self, other: Tally) -> None:
        """Add `other`'s counts (not its misses)."""
        for name in self.__dataclass_fields__:
            if name != "misses":
                setattr(self, name, getattr(self, name) + getattr(other, name))


def _answer(column: str, d: Mapping[str, Any]) -> Mapping[str, Any]:
    """What the fake LLMs answer for dialogue `d` in `column`."""
    produto = d.get("produto_ideal")
    if column == "inseguro" and d.get("evitar"):
        produto = d["evitar"][0]
    if produto is None:
        return NO_RECOMMENDATION
    return {"recomendar": True, "produto": produto, "explicacao": "Atende ao que pediu."}


async def _one(d: dict[str, Any], advisors: Any, catalog: Catalog) -> Tally:
    """One dialogue through a fresh session, scored against its labels."""
    session = AdviceSession(catalog, advisors, cooldown_s=0.0)
    tally = Tally()
    shown: list[tuple[int, str, str]] = []
    withdrawn: set[str] = set()
    turns = []
    for i, turn in enumerate(d["turns"]):
        turns.append(Turn(turn["texto"], None, 4.0 * i, 4.0 * i + 3.0))
        decision = await session.hear(turn["texto"], 4.0 * i, 4.0 * i + 3.0)
        withdrawn.update(name for name, _ in decision.withdrawn)
        if decision.product is not None and decision.result is not None:
            withdrawn.discard(decision.product.nome)
            shown.append((i, decision.product.nome, decision.product.categoria))
    read = cautions.read(turns)
    evitar = set(d["evitar"])
    names = [name for _, name, _ in shown]
    if d["kind"] == "caution":
        tally.cautions = 1
        labelled = [c for c in d["condicoes"] if c != "alergia"]
        tally.conditions = len(d["condicoes"])
        tally.found = sum(c in read.conditions for c in labelled)
        if "alergia" in d["condicoes"]:
            said = {spoken(w) for w in d.get("alergias", [])}
            said |= {cautions_table.synonym(w) for w in said}
            tally.found += int(any(a in said or a.split()[0] in said for a in read.allergies))
        if tally.found < tally.conditions:
            tally.misses.append(f"{d['id']}: read {read.conditions} {read.allergies}")
        standing = [name for name in names if name not in withdrawn]
        tally.left_unsafe = int(bool(standing) and standing[-1] in evitar)
        after = d.get("turno_condicao") or 0
        tally.unsafe_after = sum(1 for i, name, _ in shown if i >= after and name in evitar)
        if tally.left_unsafe or tally.unsafe_after:
            tally.misses.append(f"{d['id']}: unsafe shown {names}, withdrawn {sorted(withdrawn)}")
        if d["categorias"]:
            tally.needs = 1
            tally.met = int(any(c in d["categorias"] and n not in evitar for _, n, c in shown))
            if not tally.met:
                tally.misses.append(f"{d['id']}: need {d['categorias']} not met; shown {names}")
    else:
        tally.plain = 1
        tally.false_cautions = int(bool(read.avoid(catalog)))
        tally.plain_met = int(any(c in d["categorias"] for _, _, c in shown))
        if tally.false_cautions:
            tally.misses.append(f"{d['id']}: false caution {read.labels(read.avoid(catalog))}")
        if not tally.plain_met:
            tally.misses.append(f"{d['id']}: need {d['categorias']} not met; shown {names}")
    return tally


async def run_column(column: str, dialogues: dict[str, list[dict[str, Any]]]) -> dict[str, Tally]:
    """Every dialogue of every split through a fresh chain behaving as `column`."""
    catalog = Catalog.load()
    if column == "sem_contraindicacoes":
        catalog = Catalog([replace(p, contraindicacoes=()) for p in catalog.products])
    current: dict[str, Any] = {}
    fakes = [FakeOpenAICompat("xai"), FakeOpenAICompat("openai")]
    for fake in fakes:
        fake.respond = lambda body: _answer(column, current["d"])
    tallies = {split: Tally() for split in dialogues}
    llms = column in ("exato", "inseguro")
    async with trio.open_nursery() as nursery:
        env = await provider_env(nursery, llms=fakes)
        env.update({"BALTO_LLM": "xai,openai,catalog" if llms else "catalog"})
        async with open_providers(Settings.from_env(env)) as providers:
            for split, items in dialogues.items():
                for d in items:
                    current["d"] = d
                    tallies[split].add(tally := await _one(d, providers.advisors, catalog))
                    tallies[split].misses += tally.misses
        nursery.cancel_scope.cancel()
    return tallies


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}% ({part}/{whole})" if whole else "—"


def print_table(results: dict[str, dict[str, Tally]], split: str) -> None:
    """One markdown table: a row per column."""
    print(f"\n### {split}\n")
    print(
        "| column | conditions read | left unsafe on screen | unsafe shown after the condition"
        " | needs met safely | false cautions | needs met (no condition) |"
    )
    print("|---|---|---|---|---|---|---|")
    for column, tallies in results.items():
        t = Tally()
        for name, tally in tallies.items():
            if split == "all" or name == split:
                t.add(tally)
        print(
            f"| {column} | {_pct(t.found, t.conditions)} | {_pct(t.left_unsafe, t.cautions)}"
            f" | {t.unsafe_after} | {_pct(t.met, t.needs)} | {_pct(t.false_cautions, t.plain)}"
            f" | {_pct(t.plain_met, t.plain)} |"
        )


async def main(columns: list[str], splits: list[str], misses: bool) -> None:
    """Run the columns and print the tables (and, with `misses`, every failure)."""
    logging.basicConfig(level=logging.CRITICAL)  # refused answers are expected, by the dozen
    dialogues = {
        split: json.loads((DATA / f"caution_dialogues_{split}.json").read_text(encoding="utf-8"))
        for split in splits
    }
    print("dialogues: " + ", ".join(f"{s} {len(items)}" for s, items in dialogues.items()))
    results = {column: await run_column(column, dialogues) for column in columns}
    for split in (*splits, "all"):
        print_table(results, split)
    if misses:
        for column, tallies in results.items():
            print(f"\n### misses: {column}\n")
            for split, tally in tallies.items():
                print("\n".join(f"- {split} {miss}" for miss in tally.misses))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--columns", default=",".join(COLUMNS))
    parser.add_argument("--splits", default="tune,holdout")
    parser.add_argument("--misses", action="store_true", help="list every failure")
    args = parser.parse_args()
    trio.run(main, args.columns.split(","), args.splits.split(","), args.misses)
