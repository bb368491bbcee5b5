"""The loopback provider fakes, now `balto.fakes` (so `balto demo` can run them); kept importable
here, as ``tests.fakes.<module>`` (each an alias of the package's module) and ``python -m
tests.fakes``."""

from balto.fakes import (
    FakeElevenLabs,
    FakeOpenAICompat,
    RecordedChatRequest,
    RecordedSttRequest,
    ScriptedFake,
    serve_app,
)

__all__ = [
    "FakeElevenLabs",
    "FakeOpenAICompat",
    "RecordedChatRequest",
    "RecordedSttRequest",
    "ScriptedFake",
    "serve_app",
]
