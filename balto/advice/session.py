"""One session's advice: what each new utterance brings to the attendant's screen.

In: utterances, one at a time (already redacted). Out: a `Decision` per utterance — the red flags
to alert on, the product to show, and the advisor chain's work for accounting. No I/O besides the
advisors' calls; the advisor actor stores and sends, and the advice benchmark drives this directly.

For each utterance, over a rolling window (`WINDOW_S`, `MAX_TURNS`):
1. Red flags (`balto.providers.red_flags`): every sign not alerted yet in this session is in the
   decision's `flags` (one alert names them all); while any sign is in the window, no product.
2. Needs (`balto.advice.needs`): those said in this utterance, or said before and not advised on
   yet. None open (small talk, or needs already served and not said again): no advisor is asked.
3. Unless a product was shown for an utterance said less than `cooldown_s` before (the audio
   clock), the advisor chain (`balto.advice.chain`) decides; its needs are then settled,
   whatever it said.
4. A product already shown in this session is not shown again.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

from balto.advice import chain
from balto.advice.heard_memo import HeardMemo
from balto.advice.needs import FirstReads, NeedDetector
from balto.catalog import Catalog, Product, normalize
from balto.providers import red_flags
from balto.providers.ports import AdviceResult, Advisor, Turn

WINDOW_S = 120.0  # a counter conversation rarely runs longer; older talk is another customer
MAX_TURNS = 16  # bounds the prompt size whatever the window holds
# Two suggestions less than this apart would replace each other on the screen before the
# attendant has read the first.
DEFAULT_COOLDOWN_S = 2.0


@dataclass(frozen=True, slots=True)
class Decision:
    """What one utterance brings.

    Attributes:
        flags: Red flags to alert on now (empty when none is new).
        advice: The chain's work, when advisors were asked.
        product: The product to show, or None.
        result: The answer the product came from (reason, provider).
    """

    flags: tuple[red_flags.RedFlag, ...] = ()
    advice: chain.Advice | None = None
    product: Product | None = None
    result: AdviceResult | None = None


@dataclass(slots=True)
class AdviceSession:
    """The advice state of one device session (see the module docstring)."""

    catalog: Catalog
    advisors: Sequence[Advisor]
    cooldown_s: float = DEFAULT_COOLDOWN_S
    dialogue: deque[Turn] = field(default_factory=lambda: deque(maxlen=MAX_TURNS))
    _detector: NeedDetector | None = None
    _suggested: set[str] = field(default_factory=set)
    _alerted: set[str] = field(default_factory=set)
    _decided: set[str] = field(default_factory=set)
    _last_shown: float | None = None
    # What the window's turns showed, so each utterance parses only what it changed.
    _memo: HeardMemo = field(default_factory=HeardMemo)
    _firsts: FirstReads = field(default_factory=FirstReads)

    def replace_catalog(self, catalog: Catalog) -> None:
        """Advise from `catalog` from now on; what was suggested and alerted stays remembered."""
        self.catalog = catalog
        self._detector = None  # its needs read the catalog's indications

    async def hear(
        self, text: str, start: float, end: float, *, speaker: str | None = None
    ) -> Decision:
        """Take one utterance (audio-clock `start`/`end`; `speaker`: its role, when known)."""
        dialogue = self.dialogue
        dialogue.append(Turn(text, speaker, start, end))
        self._firsts.heard += 1
        while dialogue and dialogue[-1].end - dialogue[0].end > WINDOW_S:
            dialogue.popleft()
        self._memo.next_window()  # what no reader uses for a whole window is then dropped
        flags = red_flags.detect_all(list(dialogue), self._memo)
        if flags:
            fresh = tuple(flag for flag in flags if flag.code not in self._alerted)
            self._alerted.update(flag.code for flag in fresh)
            return Decision(flags=fresh)
        if self._detector is None:
            self._detector = NeedDetector(self.catalog)
        shown = self._detector.detect(dialogue, self._memo, self._firsts)
        needs = shown.still_open(self._decided, len(dialogue) - 1)
        if not needs:
            return Decision()
        # On the conversation's clock (when the utterances were said), not the pipeline's: a
        # slow provider or a backlog that delivers two utterances at once must not cost the
        # second its suggestion; its need stays open when it is held back.
        if self._last_shown is not None and end - self._last_shown < self.cooldown_s:
            return Decision()
        advice = await chain.advise(list(dialogue), needs, self.advisors, self.catalog, shown)
        if advice.result is not None:
            self._decided.update(need.code for need in needs.needs)
        product = advice.product
        if product is None or normalize(product.nome) in self._suggested:
            return Decision(advice=advice)
        self._suggested.add(normalize(product.nome))
        self._last_shown = end
        return Decision(advice=advice, product=product, result=advice.result)
