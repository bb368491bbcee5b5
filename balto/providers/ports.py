"""The provider ports: what the transcriber and advisor actors need, nothing more.

Vendor modules implement these; they raise `balto.errors.ProviderError` (with a category) and
nothing else for provider failures.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Protocol

from balto.catalog import Catalog
from balto.errors import ProviderError


@dataclass(frozen=True, slots=True)
class Attempt:
    """One failed attempt of a call that was retried or failed over: what went wrong, how fast."""

    error: ProviderError
    latency_s: float


@dataclass(frozen=True, slots=True)
class SttResult:
    """One transcription, with what it cost to get."""

    text: str
    provider: str
    model: str
    language: str | None
    latency_s: float
    audio_seconds: float
    cost_usd: float
    # Attempts that failed before this answer (retries inside `balto.providers.guard`).
    failed_attempts: tuple[Attempt, ...] = ()


@dataclass(frozen=True, slots=True)
class Turn:
    """One utterance in the rolling dialogue."""

    text: str
    speaker: str | None
    start: float
    end: float


@dataclass(frozen=True, slots=True)
class AdviceResult:
    """An advisor's answer: a catalog product name and reason, or no suggestion (`produto` None).

    `produto` is always the catalog's canonical name: advisors match what they were told to the
    catalog themselves (`balto.catalog.names`).
    """

    produto: str | None
    explicacao: str
    provider: str
    model: str
    latency_s: float
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    failed_attempts: tuple[Attempt, ...] = ()
    # Set when the advisor answered but its product may not be shown: why (`Refusal` codes in
    # `balto.advice.chain`) and what it named. `produto` is then None.
    refused: str | None = None
    said: str = ""


class SpeechToText(Protocol):
    """Transcribes one speech segment (mono s16le PCM)."""

    name: str
    model: str

    async def transcribe(self, pcm: bytes, sample_rate: int) -> SttResult:
        """Return the transcript of `pcm`; raise `ProviderError` on failure."""
        ...


class Advisor(Protocol):
    """Looks at the dialogue and proposes at most one product from the catalog."""

    name: str
    model: str

    async def advise(self, dialogue: Sequence[Turn], catalog: Catalog) -> AdviceResult:
        """Return a suggestion (or `produto=None`); raise `ProviderError` on failure."""
        ...


ASKED_MISSING: ContextVar[tuple[str, ...]] = ContextVar("balto_asked_missing", default=())
"""Set by the advisor chain around each call: the products the customer asked for by name that
are out of stock at this balcão. They are in no advisor's list; an LLM's prompt says so, so the
model can offer another of their kind rather than nothing."""

CAUTIONS: ContextVar[tuple[str, ...]] = ContextVar("balto_cautions", default=())
"""Set by the advisor chain around each call: what the customer said that rules products out
("gravidez", "alergia a dipirona": `balto.advice.cautions`). The products it rules out are in no
advisor's list; an LLM's prompt says why, so it explains the alternative it picks."""
