"""Build the provider chains from configuration (``BALTO_STT``, ``BALTO_LLM`` and the keys).

A provider named in the order but lacking its key is skipped with a log line. Every network
provider is wrapped in a `balto.providers.guard` guard (retries, budget) with its own circuit
breaker; breakers are per process, shared by every session, and their recovery probes run in a
nursery that `open_providers` owns. The catalog advisor needs no key and no guard and always ends
the advisor chain, so a recommendation never depends on the network.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from functools import partial

import httpx
import trio

from balto.catalog import Catalog, Product
from balto.config import Settings
from balto.providers.acyclic_http import AcyclicAsyncClient
from balto.providers.assemblyai import AssemblyAITranscriber
from balto.providers.breaker import Breaker, BreakerPolicy
from balto.providers.catalog_advisor import CatalogAdvisor
from balto.providers.elevenlabs import ElevenLabsScribe
from balto.providers.guard import GuardedAdvisor, GuardedStt, RetryPolicy
from balto.providers.openai_chat import OpenAIChatAdvisor, make_client
from balto.providers.openai_stt import OpenAITranscriber
from balto.providers.ports import Advisor, SpeechToText, Turn

log = logging.getLogger(__name__)

_KEY_NAMES = {
    "elevenlabs": "ELEVENLABS_API_KEY",
    "assemblyai": "ASSEMBLYAI_API_KEY",
    "openai_stt": "OPENAI_STT_API_KEY",
    "xai": "XAI_API_KEY",
    "openai": "OPENAI_API_KEY",
}

# Half a second of near-silence: the cheapest request that exercises the whole STT path.
PROBE_PCM = b"\x01\x00\xff\xff" * 4_000
PROBE_RATE = 16_000
# One neutral turn and one product: the cheapest request that exercises the whole chat path.
PROBE_DIALOGUE = (Turn("bom dia", None, 0.0, 1.0),)
PROBE_CATALOG = Catalog(
    [Product("Soro Fisiológico Nasal 0,9%", "nasal", ("nariz entupido",), "Lavagem nasal.")]
)


@dataclass(frozen=True, slots=True)
class Providers:
    """The STT chain, why it is empty (if it is), the advisor chain, and the breakers."""

    stt: tuple[SpeechToText, ...]
    stt_missing: str | None
    advisors: tuple[Advisor, ...]
    breakers: Mapping[str, Breaker] = field(default_factory=dict)


def _policies(settings: Settings, budget_s: float) -> tuple[RetryPolicy, BreakerPolicy]:
    retry = RetryPolicy(
        max_attempts=settings.provider_attempts,
        max_retry_after_s=settings.provider_max_retry_after_s,
        budget_s=budget_s,
    )
    breaker = BreakerPolicy(
        failure_threshold=settings.breaker_failures,
        probe_interval_s=settings.breaker_probe_s,
        probe_budget_s=budget_s,
    )
    return retry, breaker


def _stt(name: str, settings: Settings, http: httpx.AsyncClient) -> SpeechToText | None:
    """The unguarded STT client `name`, or None when its key is missing."""
    pricing, timeout_s = settings.pricing, settings.stt_timeout_s
    if name == "elevenlabs" and settings.elevenlabs_api_key:
        return ElevenLabsScribe(
            api_key=settings.elevenlabs_api_key,
            base_url=settings.elevenlabs_base_url,
            model=settings.elevenlabs_model,
            pricing=pricing,
            http=http,
            timeout_s=timeout_s,
        )
    if name == "assemblyai" and settings.assemblyai_api_key:
        return AssemblyAITranscriber(
            api_key=settings.assemblyai_api_key,
            base_url=settings.assemblyai_base_url,
            speech_models=settings.assemblyai_models,
            poll_interval_s=settings.assemblyai_poll_s,
            pricing=pricing,
            http=http,
            timeout_s=timeout_s,
        )
    if name == "openai_stt" and settings.openai_stt_api_key:
        return OpenAITranscriber(
            api_key=settings.openai_stt_api_key,
            base_url=settings.openai_stt_base_url or settings.openai_base_url,
            model=settings.openai_stt_model,
            pricing=pricing,
            http=http,
            timeout_s=timeout_s,
        )
    return None


@contextlib.asynccontextmanager
async def open_providers(settings: Settings) -> AsyncIterator[Providers]:
    """Open the HTTP clients and the probe nursery; close them all on exit."""
    thrown: BaseException | None = None
    try:
        async with contextlib.AsyncExitStack() as stack:
            http = await stack.enter_async_context(AcyclicAsyncClient())
            async with trio.open_nursery() as probes:
                try:
                    yield await _build(settings, stack, http, probes)
                except BaseException as exc:
                    thrown = exc
                    raise
                finally:
                    probes.cancel_scope.cancel()
    except BaseExceptionGroup as group:
        # The nursery wraps what the caller's block raised; hand it back unwrapped, as it came.
        if thrown is not None and list(group.exceptions) == [thrown]:
            raise thrown from None
        raise


async def _build(
    settings: Settings,
    stack: contextlib.AsyncExitStack,
    http: httpx.AsyncClient,
    probes: trio.Nursery,
) -> Providers:
    breakers: dict[str, Breaker] = {}
    stt_retry, stt_breaker = _policies(settings, settings.stt_timeout_s)
    stt: list[SpeechToText] = []
    for name in settings.stt_order:
        client = _stt(name, settings, http)
        if client is None:
            log.warning("STT provider %s skipped: %s is not set", name, _KEY_NAMES[name])
            continue
        breaker = Breaker(
            name,
            stt_breaker,
            probe=partial(client.transcribe, PROBE_PCM, PROBE_RATE),
            nursery=probes,
        )
        breakers[f"stt:{name}"] = breaker
        stt.append(GuardedStt(client, breaker, stt_retry))
    missing = None
    if not stt:
        wanted = ", ".join(_KEY_NAMES[n] for n in settings.stt_order)
        missing = f"no STT provider configured (set {wanted})"
        log.error("%s: sessions will store segments untranscribed", missing)
    llm_retry, llm_breaker = _policies(settings, settings.llm_timeout_s)
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
        sdk = await stack.enter_async_context(make_client(key, base_url))
        raw_llm = OpenAIChatAdvisor(
            name=name,
            client=sdk,
            model=model,
            pricing=settings.pricing,
            timeout_s=settings.llm_timeout_s,
        )
        breaker = Breaker(
            name,
            llm_breaker,
            probe=partial(raw_llm.advise, PROBE_DIALOGUE, PROBE_CATALOG),
            nursery=probes,
        )
        breakers[f"llm:{name}"] = breaker
        advisors.append(GuardedAdvisor(raw_llm, breaker, llm_retry))
    advisors.append(CatalogAdvisor())
    log.info(
        "providers: stt=%s advisors=%s",
        [p.name for p in stt] or "none",
        [a.name for a in advisors],
    )
    return Providers(
        stt=tuple(stt), stt_missing=missing, advisors=tuple(advisors), breakers=breakers
    )
