"""A loopback AssemblyAI pre-recorded API in its wire format (PROVIDERS.md §2.1-2.2).

``POST /v2/upload`` (raw bytes) → ``{"upload_url"}``; ``POST /v2/transcript`` (JSON with
``audio_url`` and the required ``speech_models``) → a ``queued`` transcript; ``GET
/v2/transcript/{id}`` goes ``processing`` then ``completed`` (or ``error`` after `job_error_next`).
Checks the raw ``authorization`` key (401 ``{"error": ...}``). Failures are injected with the
`ScriptedFake` controls; each HTTP request consumes one.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import quart
import trio
from quart_trio import QuartTrio

from balto.fakes.elevenlabs import _wav_duration
from balto.fakes.server import Fail, Hang, Malformed, ScriptedFake, json_response

DEFAULT_TEXT = "Quero um remédio para dor de cabeça."
_ERRORS: dict[int, dict[str, str]] = {
    400: {"error": "Invalid request."},
    401: {"error": "Authentication error, API token missing/invalid"},
    403: {"error": "Cannot access uploaded file"},
    404: {"error": "Not found"},
    429: {"error": "Too Many Requests"},
}
_SERVER_ERROR = {"error": "Internal Server Error"}


@dataclass(frozen=True, slots=True)
class RecordedAaiRequest:
    """One request as the fake received it."""

    method: str
    path: str
    headers: Mapping[str, str]
    json: Any
    body_size: int
    received_at: float


@dataclass(slots=True)
class _Job:
    id: str
    audio_url: str
    speech_models: list[str]
    language_code: str | None
    text: str
    audio_duration: float | None
    error: str | None
    polls_left: int
    request: dict[str, Any] = field(default_factory=dict)


class FakeAssemblyAI(ScriptedFake):
    """The fake service; serve `app` with `balto.fakes.server.serve_app` (the host root).

    Attributes:
        requests: Every request received, in order (also the failed ones).
        jobs: Transcript jobs by id, with the request that created them.
        transcripts: Texts for new jobs, consumed in order; then `default_text`.
        polls_before_done: GETs answered ``processing`` before a job completes.
    """

    def __init__(
        self,
        *,
        api_key: str = "test-assemblyai-key",
        transcripts: list[str] | None = None,
        default_text: str = DEFAULT_TEXT,
        polls_before_done: int = 1,
    ) -> None:
        """Create the fake and its app."""
        super().__init__()
        self.api_key = api_key
        self.requests: list[RecordedAaiRequest] = []
        self.jobs: dict[str, _Job] = {}
        self.uploads: dict[str, bytes] = {}
        self.transcripts = list(transcripts or [])
        self.default_text = default_text
        self.polls_before_done = polls_before_done
        self._job_errors: list[str] = []
        self._ids = itertools.count(1)
        self.app = QuartTrio(__name__)
        self.app.add_url_rule("/v2/upload", view_func=self._upload, methods=["POST"])
        self.app.add_url_rule("/v2/transcript", view_func=self._submit, methods=["POST"])
        self.app.add_url_rule(
            "/v2/transcript/<job_id>", view_func=self._poll, methods=["GET", "DELETE"]
        )

    def job_error_next(self, message: str = "Transcoding failed.") -> None:
        """Make the next submitted job end in ``status: error`` with `message`."""
        self._job_errors.append(message)

    @property
    def uploaded_seconds(self) -> list[float | None]:
        """Seconds of audio of each upload, in order."""
        return [_wav_duration(data) for data in self.uploads.values()]

    async def _record(self) -> tuple[RecordedAaiRequest, bytes]:
        request = quart.request
        raw = await request.get_data()
        body = raw if isinstance(raw, bytes) else raw.encode()
        recorded = RecordedAaiRequest(
            method=request.method,
            path=request.path,
            headers={key.lower(): value for key, value in request.headers.items()},
            json=await request.get_json(force=True, silent=True)
            if request.method == "POST" and request.path == "/v2/transcript"
            else None,
            body_size=len(body),
            received_at=trio.current_time(),
        )
        self.requests.append(recorded)
        return recorded, body

    async def _fault(self, recorded: RecordedAaiRequest) -> quart.Response | None:
        """The injected failure for this request, or the auth failure, or None."""
        match self._next_fault():
            case Fail(status, body, headers):
                return json_response(
                    status, _ERRORS.get(status, _SERVER_ERROR) if body is None else body, headers
                )
            case Malformed(body):
                return quart.Response(
                    '{"id": "trunc' if body is None else body,
                    status=200,
                    content_type="application/json",
                )
            case Hang(seconds):
                await trio.sleep(seconds)
            case None:
                pass
        if recorded.headers.get("authorization") != self.api_key:
            return json_response(401, _ERRORS[401])
        return None

    async def _upload(self) -> quart.Response:
        recorded, body = await self._record()
        if (failure := await self._fault(recorded)) is not None:
            return failure
        upload_id = f"up{next(self._ids):06d}"
        self.uploads[upload_id] = body
        return json_response(200, {"upload_url": f"https://cdn.assemblyai.com/upload/{upload_id}"})

    async def _submit(self) -> quart.Response:
        recorded, _ = await self._record()
        if (failure := await self._fault(recorded)) is not None:
            return failure
        body = recorded.json
        if not isinstance(body, dict) or not isinstance(body.get("audio_url"), str):
            return json_response(400, {"error": "audio_url is required"})
        models = body.get("speech_models")
        if not isinstance(models, list) or not models:
            return json_response(400, {"error": "speech_models is required"})
        upload_id = body["audio_url"].rsplit("/", 1)[-1]
        if upload_id not in self.uploads:
            return json_response(403, _ERRORS[403])
        job = _Job(
            id=f"job-{next(self._ids):06d}",
            audio_url=body["audio_url"],
            speech_models=[str(m) for m in models],
            language_code=body.get("language_code"),
            text=self.transcripts.pop(0) if self.transcripts else self.default_text,
            audio_duration=_wav_duration(self.uploads[upload_id]),
            error=self._job_errors.pop(0) if self._job_errors else None,
            polls_left=self.polls_before_done,
            request=body,
        )
        self.jobs[job.id] = job
        return json_response(200, self._transcript(job, "queued"))

    async def _poll(self, job_id: str) -> quart.Response:
        recorded, _ = await self._record()
        if (failure := await self._fault(recorded)) is not None:
            return failure
        job = self.jobs.get(job_id)
        if job is None:
            return json_response(404, _ERRORS[404])
        if recorded.method == "DELETE":
            return json_response(200, self._transcript(job, "completed"))
        if job.polls_left > 0:
            job.polls_left -= 1
            return json_response(200, self._transcript(job, "processing"))
        return json_response(200, self._transcript(job, "error" if job.error else "completed"))

    def _transcript(self, job: _Job, status: str) -> dict[str, Any]:
        done = status == "completed"
        return {
            "id": job.id,
            "status": status,
            "audio_url": job.audio_url,
            "text": job.text if done else None,
            "words": [
                {"text": word, "start": 0, "end": 0, "confidence": 0.9, "speaker": None}
                for word in job.text.split()
            ]
            if done
            else None,
            "confidence": 0.93 if done else None,
            "audio_duration": round(job.audio_duration) if done and job.audio_duration else None,
            "language_code": job.language_code,
            "speech_models": job.speech_models,
            "speech_model_used": job.speech_models[0] if done else None,
            "error": job.error if status == "error" else None,
        }
