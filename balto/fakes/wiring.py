"""Point Balto at running fakes: serve them and give the environment Balto reads them from."""

from __future__ import annotations

from collections.abc import Sequence

import trio

from balto.fakes.assemblyai import FakeAssemblyAI
from balto.fakes.elevenlabs import FakeElevenLabs
from balto.fakes.openai_compat import FakeOpenAICompat
from balto.fakes.openai_stt import FakeOpenAITranscriptions
from balto.fakes.server import serve_app


async def provider_env(
    nursery: trio.Nursery,
    *,
    stt: FakeElevenLabs | None = None,
    llm: FakeOpenAICompat | None = None,
    assemblyai: FakeAssemblyAI | None = None,
    openai_stt: FakeOpenAITranscriptions | None = None,
    llms: Sequence[FakeOpenAICompat] = (),
) -> dict[str, str]:
    """Serve the given fakes in `nursery`; return the config variables that select them.

    Each LLM fake is wired as xAI or OpenAI according to its flavor. `BALTO_STT` lists the STT
    fakes given, ElevenLabs first, then AssemblyAI, then the OpenAI-compatible one.
    """
    env: dict[str, str] = {}
    order: list[str] = []
    if stt is not None:
        env["ELEVENLABS_API_KEY"] = stt.api_key
        env["ELEVENLABS_BASE_URL"] = await serve_app(nursery, stt.app)
        order.append("elevenlabs")
    if assemblyai is not None:
        env["ASSEMBLYAI_API_KEY"] = assemblyai.api_key
        env["ASSEMBLYAI_BASE_URL"] = await serve_app(nursery, assemblyai.app)
        env["BALTO_ASSEMBLYAI_POLL_S"] = "0.02"  # the fake finishes at once; keep tests quick
        order.append("assemblyai")
    if openai_stt is not None:
        env["OPENAI_STT_API_KEY"] = openai_stt.api_key
        env["OPENAI_STT_BASE_URL"] = await serve_app(nursery, openai_stt.app) + "/v1"
        order.append("openai_stt")
    if order:
        env["BALTO_STT"] = ",".join(order)
    for fake in [*([llm] if llm is not None else []), *llms]:
        prefix = "XAI" if fake.flavor == "xai" else "OPENAI"
        env[f"{prefix}_API_KEY"] = fake.api_key
        env[f"{prefix}_BASE_URL"] = await serve_app(nursery, fake.app) + "/v1"
    return env
