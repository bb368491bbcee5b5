"""Build the provider chains from configuration (``BALTO_STT``, ``BALTO_LLM`` and the keys).

A provider named in the order but lacking its key is skipped with a log line. The catalog advisor
needs no key and always ends the advisor chain, so a recommendation never depends on the network.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx

from balto.config import Settings
from balto.providers.catalog_advisor import CatalogAdvisor
from balto.providers.elevenlabs import ElevenLabsScribe
from balto.providers.openai_chat import OpenAIChatAdvisor, make_client
from balto.providers.ports import Advisor, SpeechToText

log = logging.getLogger(__name__)

_KEY_NAMES = {"elevenlabs": "ELEVENLABS_API_KEY", "xai": "XAI_API_KEY", "openai": "OPENAI_API_KEY"}


@dataclass(frozen=True, slots=True)
class Providers:
    """The STT chain, why it is empty (if it is), and the advisor chain."""

    stt: tuple[SpeechToText, ...]
    stt_missing: str | None
    advisors: tuple[Advisor, ...]


@contextlib.asynccontextmanager
async def open_providers(settings: Settings) -> AsyncIterator[Providers]:
    """Open the HTTP clients the configured providers need; close them all on exit."""
    async with contextlib.AsyncExitStack() as stack:
        http = await stack.enter_async_context(httpx.AsyncClient())
        stt: list[SpeechToText] = []
        for name in settings.stt_order:
            if name == "elevenlabs" and settings.elevenlabs_api_key:
                stt.append(
                    ElevenLabsScribe(
                        api_key=settings.elevenlabs_api_key,
                        base_url=settings.elevenlabs_base_url,
                        model=settings.elevenlabs_model,
                        pricing=settings.pricing,
                        http=http,
                        timeout_s=settings.stt_timeout_s,
                    )
                )
            else:
                log.warning("STT provider %s skipped: %s is not set", name, _KEY_NAMES[name])
        missing = None
        if not stt:
            wanted = ", ".join(_KEY_NAMES[n] for n in settings.stt_order)
            missing = f"no STT provider configured (set {wanted})"
            log.error("%s: sessions will store segments untranscribed", missing)
        advisors: list[Advisor] = []
        for name in settings.llm_order:
            if name == "catalog":
                continue
            key = settings.xai_api_key if name == "xai" else settings.openai_api_key
            if not key:
                log.info("LLM advisor %s skipped: %s is not set", name, _KEY_NAMES[name])
                continue
            base_url = settings.xai_base_url if name == "xai" else settings.openai_base_url
            model = settings.xai_model if name == "xai" else settings.openai_model
            client = await stack.enter_async_context(make_client(key, base_url))
            advisors.append(
                OpenAIChatAdvisor(
                    name=name,
                    client=client,
                    model=model,
                    pricing=settings.pricing,
                    timeout_s=settings.llm_timeout_s,
                )
            )
        advisors.append(CatalogAdvisor())
        log.info(
            "providers: stt=%s advisors=%s",
            [p.name for p in stt] or "none",
            [a.name for a in advisors],
        )
        yield Providers(stt=tuple(stt), stt_missing=missing, advisors=tuple(advisors))
