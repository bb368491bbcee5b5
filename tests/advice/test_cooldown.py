"""The cooldown between two suggestions runs on the conversation's clock: utterances said far
enough apart each get their suggestion however late the pipeline hears them (a slow provider or a
backlog), and one said too soon after a suggestion waits for a later utterance instead."""

from __future__ import annotations

from balto.advice.session import AdviceSession
from balto.catalog import Catalog
from balto.providers.catalog_advisor import CatalogAdvisor

ALLERGY = "tô espirrando o dia inteiro, acho que é rinite, o olho coçando"
MUSCLE = "voltei pra academia e tô com uma dor muscular nas pernas"


def _session() -> AdviceSession:
    return AdviceSession(Catalog.load(), [CatalogAdvisor()], cooldown_s=2.0)


async def _shown(session: AdviceSession, text: str, end: float) -> str | None:
    decision = await session.hear(text, end - 2.5, end)
    return None if decision.product is None else decision.product.nome


async def test_utterances_said_apart_each_get_theirs_though_heard_at_once() -> None:
    session = _session()
    first = await _shown(session, ALLERGY, 3.0)
    second = await _shown(session, MUSCLE, 7.0)  # said 4 s later, heard at once (a backlog)
    assert first is not None and second is not None and first != second


async def test_one_said_too_soon_waits_for_a_later_utterance() -> None:
    session = _session()
    assert await _shown(session, ALLERGY, 3.0) is not None
    assert await _shown(session, MUSCLE, 4.0) is None  # 1 s after: the screen keeps the first
    later = await _shown(session, "e essa dor nas pernas, tem alguma pomada?", 6.5)
    assert later is not None  # the need was left open, not dropped
