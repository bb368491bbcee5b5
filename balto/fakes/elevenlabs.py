"""A loopback ElevenLabs Scribe: ``POST /v1/speech-to-text`` in its wire format (PROVIDERS.md §1).

Checks ``xi-api-key`` (401 ``invalid_api_key``), requires ``model_id`` (FastAPI-style 422) and a
``file`` part, records every request, and answers with the single-channel 200 body of §1.2. Failures
are injected with the `ScriptedFake` controls.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import quart
import trio
from quart_trio import QuartTrio

from balto.fakes.server import Fail, Hang, Malformed, ScriptedFake, json_response

DEFAULT_TEXT = "Quero um remédio para dor de cabeça."

# A 200 whose JSON is cut short, as a proxy dropping the connection mid-body would leave it.
_TRUNCATED_BODY = '{"language_code": "por", "language_probability": 0.98, "te'

_DEFAULT_ERRORS: dict[int, object] = {
    400: {"detail": {"status": "invalid_request", "message": "Invalid request."}},
    401: {"detail": {"status": "invalid_api_key", "message": "Invalid API key"}},
    422: {
        "detail": [
            {"loc": ["body", "model_id"], "msg": "Field required", "type": "missing"},
        ]
    },
    429: {
        "detail": {
            "status": "too_many_concurrent_requests",
            "message": "Too many concurrent requests for your plan. Please retry later.",
        }
    },
}
_SERVER_ERROR = {"detail": {"status": "internal_error", "message": "Internal server error."}}


@dataclass(frozen=True, slots=True)
class RecordedSttRequest:
    """One request as the fake received it.

    Attributes:
        headers: Request headers, names lower-cased.
        form: The non-file multipart fields.
        file: The bytes of the ``file`` part, or None when there was none.
        filename: The ``file`` part's filename.
        file_content_type: The ``file`` part's content type.
        received_at: ``trio.current_time()`` when the request had been read.
    """

    headers: Mapping[str, str]
    form: Mapping[str, str]
    file: bytes | None
    filename: str | None
    file_content_type: str | None
    received_at: float

    def audio_duration(self) -> float | None:
        """Seconds of audio in `file`, from ``file_format`` or a WAV header; None if unknown."""
        if self.file is None:
            return None
        if self.form.get("file_format") == "pcm_s16le_16":
            return len(self.file) / 32_000
        return _wav_duration(self.file)


class FakeElevenLabs(ScriptedFake):
    """The fake service; serve `app` with `balto.fakes.server.serve_app`.

    Attributes:
        app: The ASGI app.
        api_key: The only ``xi-api-key`` accepted.
        requests: Every request received, in order (also the failed ones).
        transcripts: Texts returned by successful calls, consumed in order; then `default_text`.
        default_text: The text once `transcripts` is exhausted.
        respond: When set, builds the whole 200 body from the request (replaces the default).
    """

    def __init__(
        self,
        *,
        api_key: str = "test-elevenlabs-key",
        transcripts: list[str] | None = None,
        default_text: str = DEFAULT_TEXT,
    ) -> None:
        """Create the fake and its app."""
        super().__init__()
        self.api_key = api_key
        self.requests: list[RecordedSttRequest] = []
        self.transcripts: list[str] = list(transcripts or [])
        self.default_text = default_text
        self.respond: Callable[[RecordedSttRequest], Any] | None = None
        self._served = 0
        self.app = QuartTrio(__name__)
        self.app.add_url_rule("/v1/speech-to-text", view_func=self._handle, methods=["POST"])

    async def _handle(self) -> quart.Response:
        """The ``POST /v1/speech-to-text`` route."""
        request = quart.request
        form = await request.form
        files = await request.files
        upload = files.get("file")
        recorded = RecordedSttRequest(
            headers={key.lower(): value for key, value in request.headers.items()},
            form=form.to_dict(),
            file=upload.read() if upload is not None else None,
            filename=upload.filename if upload is not None else None,
            file_content_type=upload.content_type if upload is not None else None,
            received_at=trio.current_time(),
        )
        self.requests.append(recorded)
        match self._next_fault():
            case Fail(status, body, headers):
                return json_response(
                    status, _default_error(status) if body is None else body, headers
                )
            case Malformed(body):
                return quart.Response(
                    _TRUNCATED_BODY if body is None else body,
                    status=200,
                    content_type="application/json",
                )
            case Hang(seconds):
                await trio.sleep(seconds)
            case None:
                pass
        if recorded.headers.get("xi-api-key") != self.api_key:
            return json_response(401, _DEFAULT_ERRORS[401])
        if not recorded.form.get("model_id"):
            return json_response(422, _DEFAULT_ERRORS[422])
        if recorded.file is None:
            return json_response(400, _missing_file())
        if self.respond is not None:
            return json_response(200, self.respond(recorded))
        return json_response(200, self._transcript(recorded))

    def _transcript(self, recorded: RecordedSttRequest) -> dict[str, Any]:
        """The single-channel 200 body of PROVIDERS.md §1.2."""
        text = self.transcripts.pop(0) if self.transcripts else self.default_text
        self._served += 1
        duration = recorded.audio_duration()
        with_times = recorded.form.get("timestamps_granularity", "word") != "none"
        body: dict[str, Any] = {
            "language_code": "por",
            "language_probability": 0.98,
            "text": text,
            "words": _words(text, duration or 0.0, with_times=with_times),
            "transcription_id": f"fake{self._served:06d}",
        }
        if duration is not None:
            body["audio_duration_secs"] = round(duration, 3)
        return body


def _default_error(status: int) -> object:
    """The body ElevenLabs sends with `status`."""
    return _DEFAULT_ERRORS.get(status, _SERVER_ERROR)


def _missing_file() -> object:
    """The 400 body for a request without audio."""
    return {
        "detail": {
            "status": "invalid_request",
            "message": "Exactly one of file or cloud_storage_url must be provided.",
        }
    }


def _words(text: str, duration: float, *, with_times: bool) -> list[dict[str, Any]]:
    """Word and spacing entries spread evenly over `duration` seconds."""
    tokens = re.findall(r"\S+|\s+", text)
    step = duration / len(tokens) if tokens else 0.0
    words: list[dict[str, Any]] = []
    for index, token in enumerate(tokens):
        spacing = token.isspace()
        word: dict[str, Any] = {
            "text": " " if spacing else token,
            "type": "spacing" if spacing else "word",
            "speaker_id": "speaker_0",
            "logprob": 0.0 if spacing else -0.05,
        }
        if with_times:
            word["start"] = round(index * step, 3)
            word["end"] = round((index + 1) * step, 3)
        words.append(word)
    return words


def _wav_duration(data: bytes) -> float | None:
    """Seconds of audio in a canonical PCM WAV file, or None when `data` is not one."""
    if len(data) < 44 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return None
    byte_rate = struct.unpack_from("<I", data, 28)[0]
    offset = 12
    while offset + 8 <= len(data):
        chunk_id, size = struct.unpack_from("<4sI", data, offset)
        if chunk_id == b"data":
            return min(size, len(data) - offset - 8) / byte_rate if byte_rate else None
        offset += 8 + size + (size & 1)
    return None
