"""Point Balto at running fakes: serve them and give the environment Balto reads them from."""

from __future__ import annotations

import trio

from tests.fakes.elevenlabs import FakeElevenLabs
from tests.fakes.openai_compat import FakeOpenAICompat
from tests.fakes.server import serve_app


async def provider_env(
    nursery: trio.Nursery,
    *,
    stt: FakeElevenLabs | None = None,
    llm: FakeOpenAICompat | None = None,
) -> dict[str, str]:
    """Serve the given fakes in `nursery`; return the config variables that select them.

    The LLM fake is wired as xAI or OpenAI according to its flavor.
    """
    env: dict[str, str] = {}
    if stt is not None:
        env["ELEVENLABS_API_KEY"] = stt.api_key
        env["ELEVENLABS_BASE_URL"] = await serve_app(nursery, stt.app)
    if llm is not None:
        prefix = "XAI" if llm.flavor == "xai" else "OPENAI"
        env[f"{prefix}_API_KEY"] = llm.api_key
        env[f"{prefix}_BASE_URL"] = await serve_app(nursery, llm.app) + "/v1"
    return env
