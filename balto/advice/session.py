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
4. A product already shown in this customer's service (*atendimento*) is not shown again, and
   a product out of stock at this balcão (`replace_missing`) or ruled out by what the customer
   said (`balto.advice.cautions`: a pregnancy, high blood pressure, an allergy…) is offered to
   no advisor; a pregnancy said with certainty settles the pregnancy-test need. A product
   already shown that later words rule out is withdrawn (`Decision.withdrawn`), and the need
   it served is advised on again at once, the replacement's reason saying what it replaces.

A counter session lasts a shift, and its customers follow one another: what one customer said,
was alerted on or was shown must not silence the next one's. So a sign or a product is
remembered for one atendimento, and at most `WINDOW_S` of conversation after the utterance that
brought it (by then that utterance has left the window: the same sign said again is said anew,
most likely by someone else, and a missed referral costs more than a repeated one). An
atendimento ends when the device says the next customer is served (`new_conversation`, the
counter page's *Próximo cliente*) or after a pause of `pause_s` with nothing said; the next
starts with an empty window, so an LLM never reads the previous customer's words.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from balto.advice import cautions as caution
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
# A minute with nothing said at the counter: one customer's service rarely stops that long
# (the attendant fetching a box from the back is the case it splits; see README, Advice).
DEFAULT_PAUSE_S = 60.0


@dataclass(frozen=True, slots=True)
class Decision:
    """What one utterance brings.

    Attributes:
        flags: Red flags to alert on now (empty when none is new).
        advice: The chain's work, when advisors were asked.
        product: The product to show, or None.
        result: The answer the product came from (reason, provider).
        paused: This utterance began a new atendimento after a pause of `pause_s`.
        cautions: What the customer said that rules products out, as the attendant reads it
            ("gravidez", "alergia a dipirona"), when advisors were asked.
        withdrawn: Products shown to this customer that what was said since rules out, each
            with why (``("Neosaldina", "amamentação")``): the screen should say so, whether or
            not `product` replaces them.
    """

    flags: tuple[red_flags.RedFlag, ...] = ()
    advice: chain.Advice | None = None
    product: Product | None = None
    result: AdviceResult | None = None
    paused: bool = False
    cautions: tuple[str, ...] = ()
    withdrawn: tuple[tuple[str, str], ...] = ()


@dataclass(slots=True)
class AdviceSession:
    """The advice state of one device session (see the module docstring)."""

    catalog: Catalog
    advisors: Sequence[Advisor]
    cooldown_s: float = DEFAULT_COOLDOWN_S
    pause_s: float = DEFAULT_PAUSE_S  # 0: only the device ends an atendimento
    dialogue: deque[Turn] = field(default_factory=lambda: deque(maxlen=MAX_TURNS))
    _detector: NeedDetector | None = None
    missing: frozenset[str] = frozenset()  # normalized names out of stock here
    # What may be suggested: the catalog without them and without `_avoid`'s, made when one
    # of the three changes.
    _available: Catalog | None = None
    _cautions: caution.Cautions = field(default_factory=caution.Cautions)
    _avoid: dict[str, str] = field(default_factory=dict)
    _withdrawn: set[str] = field(default_factory=set)  # shown, then ruled out: replaced once
    # product name / sign code → the end of the utterance it was shown or alerted for
    _suggested: dict[str, float] = field(default_factory=dict)
    _alerted: dict[str, float] = field(default_factory=dict)
    _decided: set[str] = field(default_factory=set)
    _last_shown: float | None = None
    # What the window's turns showed, so each utterance parses only what it changed.
    _memo: HeardMemo = field(default_factory=HeardMemo)
    _firsts: FirstReads = field(default_factory=FirstReads)

    def replace_catalog(self, catalog: Catalog) -> None:
        """Advise from `catalog` from now on; what was suggested and alerted stays remembered."""
        self.catalog = catalog
        self._detector = None  # its needs read the catalog's indications
        self._forget_cautions()  # its products are ruled out anew
        self._available = None

    def replace_missing(self, missing: frozenset[str]) -> None:
        """Offer no advisor the products named in `missing` (normalized names) from now on."""
        if missing != self.missing:
            self.missing = missing
            self._available = None

    def new_conversation(self) -> None:
        """The next customer: forget the window and what was alerted, shown and decided."""
        self.dialogue.clear()
        self._suggested.clear()
        self._alerted.clear()
        self._decided.clear()
        self._withdrawn.clear()
        self._forget_cautions()  # what the last customer said rules nothing out for this one
        self._last_shown = None
        self._memo = HeardMemo()
        self._firsts.turns.clear()

    async def hear(
        self, text: str, start: float, end: float, *, speaker: str | None = None
    ) -> Decision:
        """Take one utterance (audio-clock `start`/`end`; `speaker`: its role, when known)."""
        dialogue = self.dialogue
        paused = bool(dialogue) and self.pause_s > 0 and start - dialogue[-1].end >= self.pause_s
        if paused:
            self.new_conversation()
        dialogue.append(Turn(text, speaker, start, end))
        self._firsts.heard += 1
        while dialogue and dialogue[-1].end - dialogue[0].end > WINDOW_S:
            dialogue.popleft()
        self._memo.next_window()  # what no reader uses for a whole window is then dropped
        flags = red_flags.detect_all(list(dialogue), self._memo)
        if flags:
            fresh = tuple(f for f in flags if not _recent(self._alerted.get(f.code), end))
            self._alerted.update((flag.code, end) for flag in fresh)
            if self._suggested:  # the alert holds every product; a ruled-out one still goes
                self._heed(caution.read(dialogue, self._memo))
            return Decision(flags=fresh, paused=paused, withdrawn=self._withdraw(end))
        if self._detector is None:
            self._detector = NeedDetector(self.catalog)
        shown = self._detector.detect(dialogue, self._memo, self._firsts)
        said = caution.Cautions()
        if shown or self._suggested:
            said = caution.read(dialogue, self._memo)
            self._heed(said)
        withdrawn = self._withdraw(end)
        if withdrawn and not shown:  # the reader's veto: this customer's need was real
            shown = self._detector.detect(dialogue, self._memo, self._firsts, veto=False)
        shown = shown.without(said.settled)
        # what a product ruled out served is open again, and its replacement serves that
        served = shown.serving([p for p in map(self.catalog.find, (n for n, _ in withdrawn)) if p])
        self._decided.difference_update(need.code for need in served.needs)
        needs = shown.still_open(self._decided, len(dialogue) - 1)
        if withdrawn and served:
            needs = served
        if not needs:
            return Decision(paused=paused, withdrawn=withdrawn)
        # On the conversation's clock (when the utterances were said), not the pipeline's: a
        # slow provider or a backlog that delivers two utterances at once must not cost the
        # second its suggestion; its need stays open when it is held back. A suggestion on the
        # screen that was just ruled out is replaced at once.
        if (
            not withdrawn
            and self._last_shown is not None
            and end - self._last_shown < self.cooldown_s
        ):
            return Decision(paused=paused)  # nothing was withdrawn here
        if self._available is None:
            in_stock = chain.in_stock(self.catalog, self.missing)
            self._available = chain.in_stock(in_stock, self._avoid)
        labels = said.labels(self._avoid)
        advice = await chain.advise(
            list(dialogue),
            needs,
            self.advisors,
            self.catalog,
            shown,
            self.missing,
            self._available,
            self._avoid,
            labels,
        )
        if advice.result is not None:
            self._decided.update(need.code for need in needs.needs)
        product = advice.product
        if product is None or _recent(self._suggested.get(normalize(product.nome)), end):
            return Decision(advice=advice, paused=paused, cautions=labels, withdrawn=withdrawn)
        self._suggested[normalize(product.nome)] = end
        self._last_shown = end
        result = advice.result
        if withdrawn and result is not None and not result.explicacao.startswith(withdrawn[0][0]):
            nome, why = withdrawn[0]
            instead = f"{nome} não é indicado ({why}); no lugar dele: {result.explicacao}"
            result = replace(result, explicacao=instead)
        return Decision(
            advice=advice,
            product=product,
            result=result,
            paused=paused,
            cautions=labels,
            withdrawn=withdrawn,
        )

    def _forget_cautions(self) -> None:
        """Rule nothing out until the next utterance says otherwise."""
        self._cautions = caution.Cautions()
        if self._avoid:
            self._avoid = {}
            self._available = None

    def _heed(self, said: caution.Cautions) -> None:
        """Rule out what `said` rules out, from now on (the catalog made again only on change)."""
        if said == self._cautions:
            return
        self._cautions = said
        avoid = said.avoid(self.catalog)
        if avoid != self._avoid:
            self._avoid = avoid
            self._available = None

    def _withdraw(self, now: float) -> tuple[tuple[str, str], ...]:
        """Products shown to this customer that what was said since rules out: (name, why).

        Each once: the session then asks again, and the new suggestion says why it replaces
        the one on the screen ("Ibuprofeno 400 mg não é indicado (gravidez); no lugar dele: …").
        """
        out = []
        for key, said in self._suggested.items():
            why = self._avoid.get(key)
            if why is None or key in self._withdrawn or not _recent(said, now):
                continue
            self._withdrawn.add(key)
            product = self.catalog.find(key)
            out.append((product.nome if product is not None else key, why))
        return tuple(out)


def _recent(said: float | None, now: float) -> bool:
    """Whether something given for an utterance ending at `said` is still in the window."""
    return said is not None and now - said <= WINDOW_S
