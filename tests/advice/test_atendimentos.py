"""A counter session serves customer after customer: what one customer said, was alerted on or
was shown must not silence the next one's (`AdviceSession`: atendimentos).

Before atendimentos a sign was alerted and a product shown once per *connection*, which lasts
a shift: the second customer of the day with chest pain got no referral alert.
"""

from __future__ import annotations

from collections.abc import Sequence

from balto.advice.session import WINDOW_S, AdviceSession
from balto.catalog import Catalog
from balto.providers.catalog_advisor import CatalogAdvisor
from balto.providers.ports import AdviceResult, Turn

CHEST = "moço, tô com uma dor no peito forte que vai pro braço esquerdo"
HEADACHE = "tô com uma dor de cabeça muito forte desde ontem"
SMALL_TALK = "bom dia, tudo bem com a senhora?"


class Listening:
    """An advisor that remembers every dialogue it was shown, then lets the catalog answer."""

    name = "ouvinte"
    model = "fake"

    def __init__(self) -> None:
        self.seen: list[list[str]] = []

    async def advise(self, dialogue: Sequence[Turn], catalog: Catalog) -> AdviceResult:
        self.seen.append([turn.text for turn in dialogue])
        return await CatalogAdvisor().advise(dialogue, catalog)


def _session(pause_s: float = 60.0) -> AdviceSession:
    return AdviceSession(Catalog.load(), [CatalogAdvisor()], cooldown_s=0.0, pause_s=pause_s)


async def _signs(session: AdviceSession, text: str, end: float) -> list[str]:
    return [flag.code for flag in (await session.hear(text, end - 3.0, end)).flags]


async def _product(session: AdviceSession, text: str, end: float) -> str | None:
    decision = await session.hear(text, end - 3.0, end)
    return None if decision.product is None else decision.product.nome


async def test_the_next_customer_with_the_same_sign_is_alerted_again() -> None:
    session = _session()
    assert await _signs(session, CHEST, 5.0) == ["dor_no_peito"]
    assert await _signs(session, "e dói mais quando eu subo escada", 9.0) == []
    session.new_conversation()  # the counter's "Próximo cliente"
    assert await _signs(session, CHEST, 20.0) == ["dor_no_peito"]


async def test_within_one_customer_a_sign_is_alerted_once() -> None:
    session = _session()
    assert await _signs(session, CHEST, 5.0) == ["dor_no_peito"]
    for end in (15.0, 40.0, 70.0, 100.0):  # talk goes on, no pause of a minute, within the window
        assert await _signs(session, "essa dor no peito começou hoje cedo", end) == []


async def test_a_minute_with_nothing_said_starts_the_next_customer() -> None:
    session = _session(pause_s=60.0)
    assert await _signs(session, CHEST, 5.0) == ["dor_no_peito"]
    after_pause = await session.hear(CHEST, 5.0 + 61.0, 5.0 + 64.0)  # began 61 s after the end
    assert [flag.code for flag in after_pause.flags] == ["dor_no_peito"]
    assert after_pause.paused
    # less than the pause: the same customer still
    assert not (await session.hear(SMALL_TALK, 64.0 + 59.0, 64.0 + 61.0)).paused


async def test_without_any_boundary_a_sign_said_again_past_the_window_is_alerted_again() -> None:
    # a device that never says the next customer is served, at a counter that never pauses
    session = _session(pause_s=0.0)
    assert await _signs(session, CHEST, 5.0) == ["dor_no_peito"]
    end = 5.0
    while end < 5.0 + WINDOW_S:  # a busy counter: someone talks every 20 s
        end += 20.0
        await session.hear(SMALL_TALK, end - 3.0, end)
    assert await _signs(session, CHEST, end + 10.0) == ["dor_no_peito"]


async def test_the_next_customer_with_the_same_need_is_shown_the_product_again() -> None:
    session = _session()
    first = await _product(session, HEADACHE, 5.0)
    assert first is not None
    assert await _product(session, "a dor de cabeça é bem forte mesmo", 15.0) is None  # shown
    session.new_conversation()
    assert await _product(session, HEADACHE, 30.0) == first


async def test_the_next_customer_is_not_advised_on_the_last_ones_words() -> None:
    listening = Listening()
    session = AdviceSession(Catalog.load(), [listening], cooldown_s=0.0)
    assert (await session.hear(HEADACHE, 2.0, 5.0)).product is not None
    session.new_conversation()
    decision = await session.hear("tem alguma coisa pra azia? comi demais", 12.0, 15.0)
    assert decision.product is not None
    assert listening.seen[-1] == ["tem alguma coisa pra azia? comi demais"]


async def test_a_sign_from_the_last_customer_no_longer_holds_back_the_next_ones_product() -> None:
    session = _session()
    assert await _signs(session, CHEST, 5.0) == ["dor_no_peito"]
    held = await session.hear(HEADACHE, 10.0, 13.0)  # while the sign is in the window: no product
    assert held.product is None and not held.flags
    session.new_conversation()
    assert await _product(session, HEADACHE, 20.0) is not None
