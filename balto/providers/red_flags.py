"""Red-flag symptoms: when the counter must refer the customer to a doctor instead of selling.

In: the dialogue's recent turns. Out: every `RedFlag` said. Raises nothing.

Phrases are written the way customers say them at a Brazilian counter and matched on normalized
text (lower case, no accents, whole words; the pattern language of `balto.advice.lexicon`). Some
flags need two things said together (fever *and* a baby); those are checked across the whole
window, since "minha filha de 3 meses" and "está com febre de 39" often come in different
utterances. The signs and their phrases are data: ``red_flags.toml`` beside this module.
The learned reader (`balto.advice.reader`) adds the signs it reads in the window that no rule
caught; it never removes one.
"""

from __future__ import annotations

import itertools
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources

from balto.advice import reader
from balto.advice.heard import Heard
from balto.advice.heard_memo import HeardMemo
from balto.advice.lexicon import compile_patterns
from balto.providers.ports import Turn


@dataclass(frozen=True, slots=True)
class RedFlag:
    """A symptom that calls for a referral.

    Attributes:
        code: A stable identifier (``dor_no_peito``), sent to the device as ``sinal``.
        motivo: What was recognized, for the attendant.
        orientacao: What the attendant should do.
    """

    code: str
    motivo: str
    orientacao: str


@dataclass(frozen=True, slots=True)
class _Rule:
    flag: RedFlag
    any_of: tuple[str, ...]
    # When set, one of these must also appear somewhere in the window.
    with_any_of: tuple[str, ...] = ()
    # Combinations of word groups: the sign is shown when one word of every group of a
    # combination is said in the same clause, in any order ("o peito tá doendo", "dói aqui no
    # peito"): wider than any list of phrases.
    together: tuple[tuple[tuple[str, ...], ...], ...] = ()
    # Over how many consecutive turns a combination may be said ("um negócio no peito" — "que
    # negócio?" — "um aperto"); 1 keeps it to one clause. Wider only for signs whose words are
    # not ambiguous, since missing them costs more than a needless referral.
    reach: int = 1
    # Clues: the sign is shown when `clues_needed` different ones are said in the window, in any
    # turns — how lay people tell a seizure ("um treco", "tremeu toda", "não respondia") without
    # ever naming it. Each clue alone is too common to count.
    clues: tuple[str, ...] = ()
    clues_needed: int = 2


def _load() -> tuple[tuple[_Rule, ...], tuple[str, ...]]:
    text = resources.files("balto.providers").joinpath("red_flags.toml").read_text("utf-8")
    data = tomllib.loads(text)
    return tuple(
        _Rule(
            RedFlag(entry["code"], entry["motivo"], entry.get("orientacao", data["referral"])),
            tuple(entry["phrases"]),
            tuple(entry.get("with_any_of", ())),
            tuple(tuple(tuple(group) for group in combo) for combo in entry.get("together", ())),
            entry.get("reach", 1),
            tuple(entry.get("clues", ())),
            entry.get("clues_needed", 2),
        )
        for entry in data["flag"]
    ), tuple(data["not_a_sign"])


_RULES, _NOT_A_SIGN = _load()
# A sign with two rules is named by its first.
_BY_CODE = {rule.flag.code: rule.flag for rule in reversed(_RULES)}


def _heard_together(
    heard: Heard,
    together: Sequence[Sequence[re.Pattern[str]]],
    in_a_clause: Sequence[tuple[int, int] | None],
    rule: _Rule,
) -> bool:
    """A combination in one clause, or over `rule.reach` consecutive turns when it has one.

    `in_a_clause`: where each of `together` was found in one clause (`Heard.find_each_together`).
    """
    if rule.reach > 1:
        return any(heard.nearby(combo, rule.reach) for combo in together)
    return any(place is not None for place in in_a_clause)


_IDIOMS = compile_patterns(_NOT_A_SIGN)

_COMPILED = [
    (
        rule,
        compile_patterns(rule.any_of),
        compile_patterns(rule.with_any_of or ("\x00",)),
        [[compile_patterns(group) for group in combo] for combo in rule.together],
        [compile_patterns(clue.split(" | ")) for clue in rule.clues],
    )
    for rule in _RULES
]


# Every rule's phrases, then every rule's clues: what `_ruled` looks for in every window, as one
# tuple kept for `Heard.find_each`.
_ALONE = (
    *(any_of for _, any_of, _, _, _ in _COMPILED),
    *(clue for *_, clues in _COMPILED for clue in clues),
)


# Every rule's combinations said in one clause (no wider reach), in the rules' order: one tuple,
# kept (`Heard.find_each_together`).
_TOGETHER = tuple(
    tuple(combo) for rule, _, _, together, _ in _COMPILED if rule.reach <= 1 for combo in together
)


def _clued(found: Sequence[tuple[int, int] | None], needed: int) -> bool:
    """Whether at least `needed` of the clues `found` (an entry each) are affirmed in the window."""
    return bool(found) and sum(place is not None for place in found) >= needed


def detect_all(dialogue: Sequence[Turn], memo: HeardMemo | None = None) -> list[RedFlag]:
    """Every red flag said in `dialogue`, in the rules' order.

    A sign denied ("sem falta de ar", "febre não") or only asked about and not confirmed ("tá com
    falta de ar?" — "não, nada disso") does not count (`balto.advice.lexicon.Heard`).

    Args:
        dialogue: The recent turns, oldest first (the advisor's rolling window).
        memo: What the session's earlier windows showed (`balto.advice.heard_memo`): the same
            flags, sooner.

    Returns:
        The flags; empty when nothing in the window calls for a referral.
    """
    texts = tuple(turn.text for turn in dialogue)
    roles = tuple(turn.speaker for turn in dialogue)
    heard = Heard(texts, _IDIOMS, roles, memo)
    flags = _ruled(heard)
    # The learned reader catches what no rule lists; it can only add a sign, never remove one.
    model = reader.shared()
    if model is not None:
        for code, _ in model.read(texts, roles, memo).signs:
            flag = _BY_CODE.get(code)
            if flag is not None and all(f.code != code for f in flags) and _may_read(heard, code):
                flags.append(flag)
    return flags


def _may_read(heard: Heard, code: str) -> bool:
    """Whether the reader may show sign `code` in `heard`.

    A sign whose rules all need a circumstance (a small child, for a fever) needs one of those
    circumstances and one of its symptoms' phrases affirmed — a fever denied ("febre não") in a
    baby's dialogue shows nothing; the reader only lifts the need for both to come from one rule.
    """
    rules = [compiled for compiled in _COMPILED if compiled[0].flag.code == code]
    if any(not rule.with_any_of for rule, *_ in rules):
        return True
    circumstance = any(heard.newest(gate) >= 0 for _, _, gate, _, _ in rules)
    return circumstance and any(heard.newest(symptom) >= 0 for _, symptom, _, _, _ in rules)


def ruled(dialogue: Sequence[Turn]) -> list[RedFlag]:
    """The red flags the rules alone find in `dialogue` (see `detect_all`)."""
    return _ruled(Heard([t.text for t in dialogue], _IDIOMS, [t.speaker for t in dialogue]))


def _ruled(heard: Heard) -> list[RedFlag]:
    flags: list[RedFlag] = []
    found = heard.find_each(_ALONE)
    phrases, clued = found[: len(_COMPILED)], iter(found[len(_COMPILED) :])
    told = iter(heard.find_each_together(_TOGETHER))
    for (rule, _, with_any_of, together, clues), phrase in zip(_COMPILED, phrases, strict=True):
        clue_places = list(itertools.islice(clued, len(clues)))
        in_a_clause = list(itertools.islice(told, len(together))) if rule.reach <= 1 else []
        if (
            phrase is None
            and not _heard_together(heard, together, in_a_clause, rule)
            and not _clued(clue_places, rule.clues_needed)
        ):
            continue
        if rule.with_any_of and heard.newest(with_any_of) < 0:
            continue
        if all(flag.code != rule.flag.code for flag in flags):  # a sign may have two rules
            flags.append(rule.flag)
    return flags


def detect(dialogue: Sequence[Turn]) -> RedFlag | None:
    """The first red flag said in `dialogue`, or None (see `detect_all`)."""
    flags = detect_all(dialogue)
    return flags[0] if flags else None
