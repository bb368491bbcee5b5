"""Fault injection: make a named actor crash, hang or slow down, or a provider call fail.

A `FaultPlan` is process-wide and consulted live, so a fault added while sessions run hits them.
Each session counts messages per target (`SessionFaults`), which makes faults deterministic:
`Fault(target="decoder", kind=CRASH, after=3)` lets three messages through and crashes the
decoder as it takes the fourth. Targets are actor names (faults apply where the actor takes its
next message) or provider roles: ``stt`` / ``llm`` for any provider of the role, ``stt:<name>`` /
``llm:<name>`` for one (faults apply as the call starts).

Tests use the plan directly; the admin route exposes it only when ``BALTO_FAULTS=1``.
"""

from __future__ import annotations

import enum
import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import trio

from balto.catalog import Catalog
from balto.errors import BaltoError, Category, ProviderError
from balto.providers.ports import AdviceResult, Advisor, SpeechToText, SttResult, Turn

ACTOR_TARGETS = ("receiver", "decoder", "vad", "transcriber", "advisor", "sender")
ROLE_TARGETS = ("stt", "llm")


class FaultKind(enum.StrEnum):
    """What the fault does."""

    CRASH = "crash"  # raise InjectedFault
    HANG = "hang"  # never return (the watchdog's business)
    SLOW = "slow"  # sleep `delay_s` first
    FAIL = "fail"  # provider targets: raise ProviderError(category)


class InjectedFault(BaltoError):
    """The crash a `FaultKind.CRASH` fault raises."""


@dataclass(frozen=True, slots=True)
class Fault:
    """One planned fault; `times=0` keeps firing for every message after `after`."""

    target: str
    kind: FaultKind
    after: int = 0
    times: int = 1
    delay_s: float = 1.0
    category: Category = Category.SERVER
    balcao_id: str | None = None
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])

    def __post_init__(self) -> None:
        """Refuse faults that could never fire or make no sense."""
        role, _, _provider = self.target.partition(":")
        if self.target not in ACTOR_TARGETS and role not in ROLE_TARGETS:
            raise ValueError(f"target must be one of {ACTOR_TARGETS} or stt[:name] / llm[:name]")
        if role in ROLE_TARGETS and self.kind is FaultKind.CRASH:
            raise ValueError("provider targets take fail, hang or slow")
        if self.target in ACTOR_TARGETS and self.kind is FaultKind.FAIL:
            raise ValueError("actor targets take crash, hang or slow")
        if self.after < 0 or self.times < 0 or self.delay_s < 0:
            raise ValueError("after, times and delay_s must not be negative")

    def hits(self, count: int) -> bool:
        """Whether the `count`-th message (1-based) triggers this fault."""
        return count > self.after and (self.times == 0 or count <= self.after + self.times)

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> Fault:
        """Parse the admin route's body; raises ValueError naming what is wrong."""
        try:
            target = str(data["target"])
            kind = FaultKind(str(data["kind"]))
            category = Category(str(data.get("category", Category.SERVER.value)))
        except KeyError as exc:
            raise ValueError(f"missing field {exc.args[0]!r}") from exc
        numbers: dict[str, int | float] = {}
        for name, kind_of in (("after", int), ("times", int), ("delay_s", float)):
            if name in data:
                value = data[name]
                if isinstance(value, bool) or not isinstance(value, int | float):
                    raise ValueError(f"{name} must be a number")
                numbers[name] = kind_of(value)
        balcao = data.get("balcao_id")
        return cls(
            target=target,
            kind=kind,
            category=category,
            balcao_id=str(balcao) if balcao else None,
            after=int(numbers.get("after", 0)),
            times=int(numbers.get("times", 1)),
            delay_s=float(numbers.get("delay_s", 1.0)),
        )

    def to_json(self) -> dict[str, object]:
        """A JSON-ready view."""
        return {
            "id": self.id,
            "target": self.target,
            "kind": self.kind.value,
            "after": self.after,
            "times": self.times,
            "delay_s": self.delay_s,
            "category": self.category.value,
            "balcao_id": self.balcao_id,
        }


class FaultPlan:
    """The faults planned for this process."""

    def __init__(self) -> None:
        """Start with none."""
        self._faults: dict[str, Fault] = {}

    def add(self, fault: Fault) -> Fault:
        """Plan `fault`; it applies to sessions already running too."""
        self._faults[fault.id] = fault
        return fault

    def remove(self, fault_id: str) -> bool:
        """Drop one fault; False if unknown."""
        return self._faults.pop(fault_id, None) is not None

    def clear(self) -> None:
        """Drop every fault."""
        self._faults.clear()

    def all(self) -> list[Fault]:
        """Every planned fault."""
        return list(self._faults.values())

    def for_session(self, balcao_id: str) -> SessionFaults:
        """Per-session counters over this plan."""
        return SessionFaults(self, balcao_id)


class SessionFaults:
    """One session's message counts per target, checked against the live plan."""

    def __init__(self, plan: FaultPlan, balcao_id: str) -> None:
        """Count from zero."""
        self._plan = plan
        self._balcao_id = balcao_id
        self.counts: Counter[str] = Counter()

    def armed(self, target: str) -> bool:
        """Whether any planned fault could hit `target` in this session."""
        return any(
            fault.target == target and fault.balcao_id in (None, self._balcao_id)
            for fault in self._plan.all()
        )

    def check(self, target: str) -> Fault | None:
        """Count one message for `target`; the fault it triggers, if any."""
        self.counts[target] += 1
        count = self.counts[target]
        for fault in self._plan.all():
            if fault.target != target:
                continue
            if fault.balcao_id is not None and fault.balcao_id != self._balcao_id:
                continue
            if fault.hits(count):
                return fault
        return None


async def apply_fault(fault: Fault | None, where: str) -> None:
    """Do what an actor-side fault says (nothing for None)."""
    if fault is None:
        return
    match fault.kind:
        case FaultKind.CRASH:
            raise InjectedFault(f"injected crash in {where} (fault {fault.id})")
        case FaultKind.HANG:
            await trio.sleep_forever()
        case FaultKind.SLOW:
            await trio.sleep(fault.delay_s)
        case FaultKind.FAIL:
            return


async def _provider_fault(faults: SessionFaults, role: str, provider: str) -> None:
    for target in (f"{role}:{provider}", role):
        fault = faults.check(target)
        if fault is None:
            continue
        if fault.kind is FaultKind.FAIL:
            raise ProviderError(provider, fault.category, f"injected fault {fault.id}")
        await apply_fault(fault, f"{role}:{provider}")


class FaultySpeechToText:
    """A `SpeechToText` that consults the session's faults before each call."""

    def __init__(self, inner: SpeechToText, faults: SessionFaults) -> None:
        """Wrap `inner`."""
        self.inner = inner
        self.name = inner.name
        self.model = inner.model
        self._faults = faults

    async def transcribe(self, pcm: bytes, sample_rate: int) -> SttResult:
        """Fail, hang or slow down as planned, then call the real provider."""
        await _provider_fault(self._faults, "stt", self.name)
        return await self.inner.transcribe(pcm, sample_rate)


class FaultyAdvisor:
    """An `Advisor` that consults the session's faults before each call."""

    def __init__(self, inner: Advisor, faults: SessionFaults) -> None:
        """Wrap `inner`."""
        self.inner = inner
        self.name = inner.name
        self.model = inner.model
        self._faults = faults

    async def advise(self, dialogue: Sequence[Turn], catalog: Catalog) -> AdviceResult:
        """Fail, hang or slow down as planned, then call the real advisor."""
        await _provider_fault(self._faults, "llm", self.name)
        return await self.inner.advise(dialogue, catalog)
