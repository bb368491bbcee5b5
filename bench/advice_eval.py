"""Advice benchmark: labelled pt-BR counter dialogues through the real advisor chain.

Each dialogue of ``bench/data/advice_dialogues_{tune,holdout,holdout2}.json`` is fed, utterance by
utterance, to `balto.advice.session.AdviceSession` with the providers Balto builds from its
configuration (`balto.providers.registry.open_providers`: guarded xAI and OpenAI clients with their
breakers, then the catalog advisor), pointed at two loopback OpenAI-compatible fakes that both
behave one way per column:

- ``exato``: names the labelled product exactly (and declines when there is no need);
- ``quase``: the same product, misspelt the way models do (case, accents, spacing, dosage);
- ``fora``: a real product that is not in the catalog;
- ``categoria``: a catalog product of the wrong category;
- ``malformado``: prose instead of the JSON schema;
- ``recusa``: a refusal (``message.refusal``);
- ``receita``: a prescription-only catalog product;
- ``timeout``: no answer within the budget (``BALTO_LLM_TIMEOUT``, 1 s here).

Per column it prints: needs met with a product of a right category, wrong products shown,
red-flag signs alerted, prescription-only products shown, products shown on small talk, and the
latency the chain adds per advised utterance (p50 / p95), per split and for all of them:
``tune`` (tuned on); ``train_a`` to ``train_f`` (written for training the reader); ``holdout`` to
``holdout24`` (each written apart by someone who saw no code or other corpus, measured once on
frozen code, then studied; their first figures are in docs/BENCHMARKS.md; ``holdout21`` to
``holdout24`` were measured last: their misses were read, nothing was changed for them). Alerts
raised on dialogues without that sign are counted as false alerts.
The cooldown is 0: the dialogues are fed back to back.

    .venv/bin/python bench/advice_eval.py [--columns exato,quase,...] [--splits tune,holdout]
        [--misses] [--reader model.npz] [--roles]
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import trio

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from balto.advice import reader  # noqa: E402
from balto.advice.session import AdviceSession  # noqa: E402
from balto.catalog import Catalog  # noqa: E402
from balto.config import Settings  # noqa: E402
from balto.fakes.openai_compat import NO_RECOMMENDATION, FakeOpenAICompat  # noqa: E402
from balto.fakes.wiring import provider_env  # noqa: E402
from balto.providers.registry import open_providers  # noqa: E402

DATA = ROOT / "bench" / "data"
SPLITS = (
    "tune",
    "holdout",
    "holdout2",
    "holdout3",
    "holdout4",
    "holdout5",
    "holdout6",
    "holdout7",
    "holdout8",
    "holdout9",
    "train_a",
    "train_b",
    "train_c",
    "train_d",
    "holdout10",
    "holdout11",
    "holdout12",
    "holdout13",
    "holdout14",
    "holdout15",
    "holdout16",
    "train_e",
    "train_f",
    "holdout17",
    "holdout18",
    "holdout19",
    "holdout20",
    "holdout21",
    "holdout22",
    "holdout23",
    "holdout24",
)
COLUMNS = ("exato", "quase", "fora", "categoria", "malformado", "recusa", "receita", "timeout")
LLM_TIMEOUT_S = 1.0
ROLES = False  # --roles: turns carry their speaker's role, as speaker identification gives it
OFF_CATALOG = ("Tylenol", "Benegrip", "Estomazil", "Allegra", "Vick VapoRub", "Strepsils")


@dataclass
class Tally:
    """The counts of one column on one split."""

    needs: int = 0
    met: int = 0
    wrong: int = 0
    signs: int = 0
    alerted: int = 0
    rx_shown: int = 0
    small_talk_shown: int = 0
    shown: int = 0
    from_llm: int = 0
    refused: int = 0
    false_alerts: int = 0
    latencies: list[float] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)

    def add(self, other: Tally) -> None:
        for name in (
            "needs",
            "met",
            "wrong",
            "signs",
            "alerted",
            "rx_shown",
            "small_talk_shown",
            "shown",
            "from_llm",
            "refused",
            "false_alerts",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.latencies += other.latencies
        self.misses += other.misses


def _near_miss(name: str, n: int) -> str:
    """`name` as a model might misspell it; which way depends on `n`."""
    bare = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))
    variants = [
        name.lower(),
        name.upper(),
        bare,
        name.replace(" mg", "mg").replace(" g ", "g "),
        name.split(" (")[0] if " (" in name else name.replace(" ", "  ") + ".",
        name.replace(" + ", " e ").replace(",", ".").lower(),
    ]
    return variants[n % len(variants)]


def _behaviour(column: str, catalog: Catalog) -> Callable[[dict[str, Any], int], Mapping[str, Any]]:
    """The answer a fake gives in `column` for dialogue `d` (its number `n` varies the answer)."""
    by_category = {p.categoria: p.nome for p in catalog.products if not p.prescription_only}

    def answer(d: dict[str, Any], n: int) -> Mapping[str, Any]:
        ideal = d.get("produto_ideal")
        if column == "exato":
            if ideal is None:
                return NO_RECOMMENDATION
            return {"recomendar": True, "produto": ideal, "explicacao": "Atende ao que pediu."}
        if column == "quase":
            if ideal is None:
                return NO_RECOMMENDATION
            produto = _near_miss(ideal, n)
        elif column == "fora":
            produto = OFF_CATALOG[n % len(OFF_CATALOG)]
        elif column == "categoria":
            wrong = [name for cat, name in by_category.items() if cat not in d["categorias"]]
            produto = wrong[n % len(wrong)]
        elif column == "receita":
            produto = ("Amoxicilina 500 mg", "Clonazepam 2 mg")[n % 2]
        else:
            raise AssertionError(column)
        return {"recomendar": True, "produto": produto, "explicacao": "Resolve."}

    return answer


def _script(fake: FakeOpenAICompat, column: str) -> None:
    """Queue the faults of failure columns (plenty: the breaker stops most calls anyway)."""
    if column == "malformado":
        fake.malformed_next(times=10_000)
    elif column == "timeout":
        fake.hang_next(30.0, times=10_000)
    elif column == "recusa":
        for _ in range(10_000):
            fake.refuse_next("Desculpe, não posso recomendar medicamentos.")


async def run_column(column: str, dialogues: dict[str, list[dict[str, Any]]]) -> dict[str, Tally]:
    """Every dialogue of every split through a fresh chain whose LLMs behave as `column`."""
    catalog = Catalog.load()
    answer = _behaviour(column, catalog)
    current: dict[str, Any] = {}
    fakes = [FakeOpenAICompat("xai"), FakeOpenAICompat("openai")]
    for fake in fakes:
        fake.respond = lambda body: answer(current["d"], current["n"])
        _script(fake, column)
    tallies = {split: Tally() for split in dialogues}
    async with trio.open_nursery() as nursery:
        env = await provider_env(nursery, llms=fakes)
        env.update({"BALTO_LLM": "xai,openai,catalog", "BALTO_LLM_TIMEOUT": str(LLM_TIMEOUT_S)})
        settings = Settings.from_env(env)
        async with open_providers(settings) as providers:
            n = 0
            for split, items in dialogues.items():
                for d in items:
                    current.update(d=d, n=n)
                    n += 1
                    tallies[split].add(await _one(d, providers.advisors, catalog))
        nursery.cancel_scope.cancel()
    return tallies


async def _one(d: dict[str, Any], advisors: Any, catalog: Catalog) -> Tally:
    """One dialogue: what was shown and alerted, scored against its labels."""
    session = AdviceSession(catalog, advisors, cooldown_s=0.0)
    tally = Tally()
    shown, alerted = [], set()
    for i, turn in enumerate(d["turns"]):
        started = trio.current_time()
        speaker = turn["falante"] if ROLES else None
        decision = await session.hear(turn["texto"], 4.0 * i, 4.0 * i + 3.0, speaker=speaker)
        if decision.advice is not None and decision.advice.asked:
            tally.latencies.append(trio.current_time() - started)
            tally.refused += sum(a.refusal is not None for a in decision.advice.asked)
        alerted.update(flag.code for flag in decision.flags)
        if decision.product is not None and decision.result is not None:
            shown.append(decision.product)
            tally.from_llm += decision.result.provider != "catalog"
    kind = d["kind"]
    tally.shown = len(shown)
    tally.rx_shown = sum(p.prescription_only for p in shown)
    if kind == "need":
        tally.needs = 1
        tally.met = int(any(p.categoria in d["categorias"] for p in shown))
        tally.wrong = sum(p.categoria not in d["categorias"] for p in shown)
    elif kind in ("small_talk", "red_flag"):
        tally.wrong = len(shown)
        tally.small_talk_shown = len(shown) if kind == "small_talk" else 0
    tally.signs = len(d["sinais"])
    tally.alerted = len(alerted & set(d["sinais"]))
    tally.false_alerts = len(alerted - set(d["sinais"]))
    names = [p.nome for p in shown]
    if kind == "need" and not tally.met:
        tally.misses.append(f"{d['id']}: need {d['categorias']} not met; shown {names}")
    elif tally.wrong or tally.rx_shown:
        tally.misses.append(f"{d['id']}: {kind} shown {names}")
    for code in sorted(set(d["sinais"]) - alerted):
        tally.misses.append(f"{d['id']}: sign {code} not alerted")
    for code in sorted(alerted - set(d["sinais"])):
        tally.misses.append(f"{d['id']}: false alert {code}")
    return tally


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}% ({part}/{whole})" if whole else "—"


def _ms(values: list[float]) -> str:
    if not values:
        return "—"
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return f"{1000 * statistics.median(ordered):.0f} / {1000 * p95:.0f}"


def print_table(results: dict[str, dict[str, Tally]], split: str) -> None:
    """One markdown table: a row per column of LLM behaviour."""
    print(f"\n### {split}\n")
    print(
        "| LLM behaviour | needs met (right category) | wrong products shown | red flags alerted"
        " | prescription-only shown | products on small talk | advisor latency p50 / p95 ms"
        " | shown from an LLM | answers refused | false alerts |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for column, tallies in results.items():
        t = Tally()
        for name, tally in tallies.items():
            if split == "all" or name == split:
                t.add(tally)
        print(
            f"| {column} | {_pct(t.met, t.needs)} | {t.wrong} | {_pct(t.alerted, t.signs)}"
            f" | {t.rx_shown} | {t.small_talk_shown} | {_ms(t.latencies)}"
            f" | {t.from_llm}/{t.shown} | {t.refused} | {t.false_alerts} |"
        )


def _path(split: str) -> Path:
    """A split's file: a name in bench/data, or a path to a corpus file of the same shape."""
    if split.endswith(".json"):
        return Path(split)
    return DATA / f"advice_dialogues_{split}.json"


async def main(columns: list[str], splits: list[str], misses: bool) -> None:
    """Run the columns and print the tables (and, with `misses`, every failure)."""
    logging.basicConfig(level=logging.ERROR)  # refused answers are expected here, by the dozen
    dialogues = {split: json.loads(_path(split).read_text(encoding="utf-8")) for split in splits}
    counts = ", ".join(f"{split} {len(items)}" for split, items in dialogues.items())
    print(f"dialogues: {counts}; LLM chain xai → openai → catalog; budget {LLM_TIMEOUT_S:g} s")
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
    parser.add_argument("--splits", default=",".join(SPLITS), help="names or .json paths")
    parser.add_argument("--reader", help="the reader model to use (default: the packaged one)")
    parser.add_argument(
        "--roles", action="store_true", help="give each turn its speaker's role, as identified"
    )
    parser.add_argument("--misses", action="store_true", help="list every failure")
    args = parser.parse_args()
    globals()["ROLES"] = args.roles
    if args.reader:
        reader.MODEL = Path(args.reader)  # read once, at the first window
    trio.run(main, args.columns.split(","), args.splits.split(","), args.misses)
