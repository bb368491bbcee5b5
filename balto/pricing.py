"""Provider prices and the cost of one call.

Starting values come from PROVIDERS.md (best public figures, late 2026); override any of them with
``BALTO_PRICING`` (JSON, same shape) without a code change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class LlmPrice:
    """USD per one million input and output tokens."""

    input_per_m: float
    output_per_m: float


@dataclass(frozen=True, slots=True)
class Pricing:
    """STT prices per audio hour and LLM prices per 1M tokens, keyed by ``provider:model``."""

    stt_per_hour: Mapping[str, float] = field(default_factory=dict)
    llm: Mapping[str, LlmPrice] = field(default_factory=dict)

    def stt_cost(self, provider: str, model: str, audio_seconds: float) -> float:
        """Cost in USD of transcribing `audio_seconds`; 0 for an unpriced model."""
        rate = self.stt_per_hour.get(f"{provider}:{model}", self.stt_per_hour.get(provider, 0.0))
        return rate * audio_seconds / 3600.0

    def llm_cost(self, provider: str, model: str, input_tokens: int, output_tokens: int) -> float:
        """Cost in USD of one chat completion; 0 for an unpriced model."""
        price = self.llm.get(f"{provider}:{model}") or self.llm.get(provider)
        if price is None:
            return 0.0
        return (input_tokens * price.input_per_m + output_tokens * price.output_per_m) / 1e6

    def merged(self, override: Mapping[str, object]) -> Pricing:
        """A copy with `override` (``{"stt_per_hour": {...}, "llm": {...}}``) applied."""
        stt = dict(self.stt_per_hour)
        llm = dict(self.llm)
        stt_raw = override.get("stt_per_hour", {})
        llm_raw = override.get("llm", {})
        if not isinstance(stt_raw, Mapping) or not isinstance(llm_raw, Mapping):
            raise TypeError("stt_per_hour and llm must be objects")
        for key, value in stt_raw.items():
            stt[str(key)] = float(value)
        for key, value in llm_raw.items():
            if not isinstance(value, Mapping):
                raise TypeError(f"llm price for {key} must be an object")
            llm[str(key)] = LlmPrice(float(value["input_per_m"]), float(value["output_per_m"]))
        return Pricing(stt_per_hour=stt, llm=llm)


DEFAULT_PRICING = Pricing(
    stt_per_hour={
        "elevenlabs:scribe_v2": 0.22,
        "elevenlabs:scribe_v1": 0.22,
        "elevenlabs": 0.22,
        "assemblyai:universal-3-5-pro": 0.21,
        "assemblyai:universal-2": 0.15,
        "assemblyai": 0.21,
        # OpenAI transcription is token-billed; these are its per-minute equivalents × 60.
        "openai_stt:whisper-1": 0.36,
        "openai_stt:gpt-4o-transcribe": 0.36,
        "openai_stt:gpt-4o-mini-transcribe": 0.18,
        "openai_stt": 0.36,
    },
    llm={
        "xai:grok-4-1-fast-non-reasoning": LlmPrice(0.20, 0.50),
        "xai:grok-4-1-fast-reasoning": LlmPrice(0.20, 0.50),
        "openai:gpt-4o-mini": LlmPrice(0.15, 0.60),
        "openai:gpt-4o": LlmPrice(2.50, 10.00),
    },
)
