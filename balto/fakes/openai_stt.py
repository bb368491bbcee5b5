"""A loopback OpenAI-compatible ``POST /v1/audio/transcriptions`` (PROVIDERS.md §3.4).

Multipart ``file`` + ``model`` (+ ``language``, ``response_format``); Bearer auth with OpenAI's
error envelope; answers ``{"text", "usage"}``. Failures via the `ScriptedFake` controls.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import quart
import trio
from quart_trio import QuartTrio

from balto.fakes.elevenlabs import _wav_duration
from balto.fakes.openai_compat import openai_error
from balto.fakes.server import Fail, Hang, Malformed, ScriptedFake, json_response

DEFAULT_TEXT = "Quero um remédio para dor de cabeça."


@dataclass(frozen=True, slots=True)
class RecordedTranscriptionRequest:
    """One request as the fake received it."""

    headers: Mapping[str, str]
    form: Mapping[str, str]
    file: bytes | None
    received_at: float


class FakeOpenAITranscriptions(ScriptedFake):
    """The fake service; point the client at ``<served url>/v1``."""

    def __init__(self, *, api_key: str = "test-openai-stt-key", text: str = DEFAULT_TEXT) -> None:
        """Create the fake and its app."""
        super().__init__()
        self.api_key = api_key
        self.text = text
        self.requests: list[RecordedTranscriptionRequest] = []
        self.app = QuartTrio(__name__)
        self.app.add_url_rule("/v1/audio/transcriptions", view_func=self._handle, methods=["POST"])

    async def _handle(self) -> quart.Response:
        request = quart.request
        form = await request.form
        files = await request.files
        upload = files.get("file")
        recorded = RecordedTranscriptionRequest(
            headers={key.lower(): value for key, value in request.headers.items()},
            form=form.to_dict(),
            file=upload.read() if upload is not None else None,
            received_at=trio.current_time(),
        )
        self.requests.append(recorded)
        match self._next_fault():
            case Fail(status, body, headers):
                error = openai_error("The server had an error.", "server_error")
                return json_response(status, error if body is None else body, headers)
            case Malformed(body):
                return quart.Response(
                    "<html>502</html>" if body is None else body,
                    status=200,
                    content_type="application/json",
                )
            case Hang(seconds):
                await trio.sleep(seconds)
            case None:
                pass
        if recorded.headers.get("authorization") != f"Bearer {self.api_key}":
            return json_response(
                401,
                openai_error(
                    "Incorrect API key provided.", "invalid_request_error", "invalid_api_key"
                ),
            )
        if recorded.file is None or not recorded.form.get("model"):
            return json_response(
                400, openai_error("file and model are required", "invalid_request_error")
            )
        seconds = _wav_duration(recorded.file) or 0.0
        return json_response(
            200, {"text": self.text, "usage": {"type": "duration", "seconds": round(seconds)}}
        )
