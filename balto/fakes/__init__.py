"""Loopback fakes of the cloud providers, speaking their real wire formats (PROVIDERS.md).

Each fake is an ASGI app served by the real Hypercorn Trio worker (`serve_app`), with recorded
requests and a failure script (`fail_next`, `hang_next`, `malformed_next`).
"""

from balto.fakes.elevenlabs import FakeElevenLabs, RecordedSttRequest
from balto.fakes.openai_compat import FakeOpenAICompat, RecordedChatRequest
from balto.fakes.server import ScriptedFake, serve_app

__all__ = [
    "FakeElevenLabs",
    "FakeOpenAICompat",
    "RecordedChatRequest",
    "RecordedSttRequest",
    "ScriptedFake",
    "serve_app",
]
