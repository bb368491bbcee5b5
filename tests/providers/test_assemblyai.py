"""AssemblyAITranscriber and the registry against loopback fakes: wire format, job errors."""

from __future__ import annotations

import httpx
import pytest
import trio

from balto.config import Settings
from balto.errors import Category, ProviderError
from balto.pricing import DEFAULT_PRICING
from balto.providers.assemblyai import AssemblyAITranscriber
from balto.providers.guard import GuardedStt
from balto.providers.registry import open_providers
from tests.fakes.assemblyai import FakeAssemblyAI
from tests.fakes.server import serve_app

PCM = b"\x01\x00" * 32_000  # two seconds


async def test_upload_submit_poll_in_the_wire_format(nursery: trio.Nursery) -> None:
    fake = FakeAssemblyAI(polls_before_done=2)
    url = await serve_app(nursery, fake.app)
    async with httpx.AsyncClient() as http:
        stt = AssemblyAITranscriber(
            api_key=fake.api_key,
            base_url=url,
            pricing=DEFAULT_PRICING,
            http=http,
            timeout_s=5.0,
            poll_interval_s=0.01,
        )
        result = await stt.transcribe(PCM, 16_000)
    assert result.text == fake.default_text
    assert (result.provider, result.model, result.language) == (
        "assemblyai",
        "universal-3-5-pro",
        "pt",
    )
    assert result.cost_usd == pytest.approx(0.21 * 2 / 3600)
    assert [(r.method, r.path.split("/job-")[0]) for r in fake.requests] == [
        ("POST", "/v2/upload"),
        ("POST", "/v2/transcript"),
        ("GET", "/v2/transcript"),
        ("GET", "/v2/transcript"),
        ("GET", "/v2/transcript"),
    ]
    assert all(r.headers["authorization"] == fake.api_key for r in fake.requests)  # no Bearer
    assert fake.requests[0].headers["content-type"] == "application/octet-stream"
    assert fake.uploaded_seconds == [2.0]


async def test_a_failed_job_is_a_server_error(nursery: trio.Nursery) -> None:
    fake = FakeAssemblyAI()
    fake.job_error_next("Transcoding failed.")
    url = await serve_app(nursery, fake.app)
    async with httpx.AsyncClient() as http:
        stt = AssemblyAITranscriber(
            api_key=fake.api_key,
            base_url=url,
            pricing=DEFAULT_PRICING,
            http=http,
            timeout_s=5.0,
            poll_interval_s=0.01,
        )
        with pytest.raises(ProviderError) as info:
            await stt.transcribe(PCM, 16_000)
    assert info.value.category is Category.SERVER and "Transcoding failed" in info.value.message


async def test_registry_builds_guarded_chains_in_order_and_passes_errors_through() -> None:
    settings = Settings.from_env(
        {
            "ELEVENLABS_API_KEY": "k1",
            "ASSEMBLYAI_API_KEY": "k2",
            "OPENAI_API_KEY": "k3",
            "BALTO_STT": "assemblyai,elevenlabs,openai_stt",
            "BALTO_LLM": "openai,xai,catalog",
        }
    )
    async with open_providers(settings) as providers:
        assert [p.name for p in providers.stt] == ["assemblyai", "elevenlabs", "openai_stt"]
        assert all(isinstance(p, GuardedStt) for p in providers.stt)
        assert [a.name for a in providers.advisors] == ["openai", "catalog"]
        assert set(providers.breakers) == {
            "stt:assemblyai",
            "stt:elevenlabs",
            "stt:openai_stt",
            "llm:openai",
        }
    with pytest.raises(KeyError):  # the caller's error comes back as itself, not in a group
        async with open_providers(settings):
            raise KeyError("boom")
