"""AssemblyAI pre-recorded speech-to-text over its REST API (PROVIDERS.md §2.1-2.2).

In: one speech segment of mono s16le PCM and its sample rate. Out: a `SttResult`. The flow is the
documented one: ``POST /v2/upload`` (the segment as a WAV file) → ``POST /v2/transcript`` with
``speech_models`` (priority order; there is no default model) and ``language_code: "pt"`` → poll
``GET /v2/transcript/{id}`` until ``completed`` or ``error``. Cost follows ``speech_model_used``.
Raises `ProviderError` for every provider failure; Trio cancellation passes through untouched.

The AssemblyAI SDK calls asyncio directly, so this speaks the wire format with ``httpx``. One
attempt per call, bounded by the time budget as a whole (upload, submit and polls): retries and
failover belong to `balto.providers.guard` and the actors.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import httpx
import trio

from balto.errors import Category, ProviderError
from balto.pricing import Pricing
from balto.providers.elevenlabs import wav_bytes
from balto.providers.http_errors import decode_body, error_from_response, error_from_transport
from balto.providers.ports import SttResult

_BYTES_PER_SAMPLE = 2
DEFAULT_SPEECH_MODELS = ("universal-3-5-pro", "universal-2")


class AssemblyAITranscriber:
    """The `SpeechToText` port on AssemblyAI's pre-recorded API.

    Attributes:
        name: ``"assemblyai"``.
        model: The first of the requested ``speech_models``.
    """

    name: str = "assemblyai"

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str,
        pricing: Pricing,
        http: httpx.AsyncClient,
        timeout_s: float,
        speech_models: Sequence[str] = DEFAULT_SPEECH_MODELS,
        language_code: str = "pt",
        poll_interval_s: float = 0.3,
    ) -> None:
        """Configure the client; no I/O happens here.

        Args:
            api_key: The raw key sent as ``authorization`` (no ``Bearer``).
            base_url: The host root, e.g. ``https://api.assemblyai.com`` (``/v2/...`` is appended).
            pricing: Prices used to account the cost of each call.
            http: A shared client owned (and closed) by the caller.
            timeout_s: Budget for one whole call: upload, submit and every poll.
            speech_models: Models in priority order; the service falls back along the list.
            language_code: The spoken language.
            poll_interval_s: Wait between polls. Segments are seconds long, so they finish fast.
        """
        if not speech_models:
            raise ValueError("speech_models must name at least one model")
        self.model = speech_models[0]
        self._speech_models = list(speech_models)
        self._api_key = api_key
        self._root = base_url.rstrip("/") + "/v2"
        self._pricing = pricing
        self._http = http
        self._timeout_s = timeout_s
        self._language_code = language_code
        self._poll_interval_s = poll_interval_s

    async def transcribe(self, pcm: bytes, sample_rate: int) -> SttResult:
        """Transcribe one segment.

        Args:
            pcm: Mono 16-bit little-endian samples.
            sample_rate: Samples per second of `pcm`.

        Returns:
            The transcript with latency and cost.

        Raises:
            ProviderError: The call failed; the category says how.
            ValueError: `sample_rate` is not positive.
        """
        if sample_rate <= 0:
            raise ValueError(f"sample_rate must be positive, got {sample_rate}")
        audio_seconds = len(pcm) / _BYTES_PER_SAMPLE / sample_rate
        started = trio.current_time()
        try:
            with trio.fail_after(self._timeout_s):
                body = await self._run_job(wav_bytes(pcm, sample_rate))
        except trio.TooSlowError as exc:
            raise ProviderError(
                self.name, Category.TIMEOUT, f"no answer within {self._timeout_s:g} s"
            ) from exc
        text = body.get("text")
        if not isinstance(text, str):
            raise self._malformed("a completed transcript without `text`")
        used = body.get("speech_model_used")
        model = used if isinstance(used, str) and used else self.model
        language = body.get("language_code")
        return SttResult(
            text=text.strip(),
            provider=self.name,
            model=model,
            language=language if isinstance(language, str) else self._language_code,
            latency_s=trio.current_time() - started,
            audio_seconds=audio_seconds,
            cost_usd=self._pricing.stt_cost(self.name, model, audio_seconds),
        )

    async def _run_job(self, wav: bytes) -> Mapping[str, object]:
        """Upload, submit and poll; the completed transcript object."""
        upload = await self._request(
            "POST",
            "/upload",
            content=wav,
            headers={"content-type": "application/octet-stream"},
        )
        audio_url = upload.get("upload_url")
        if not isinstance(audio_url, str):
            raise self._malformed("upload answer without `upload_url`")
        job = await self._request(
            "POST",
            "/transcript",
            json={
                "audio_url": audio_url,
                "speech_models": self._speech_models,
                "language_code": self._language_code,
                "punctuate": True,
                "format_text": True,
            },
        )
        job_id = job.get("id")
        if not isinstance(job_id, str) or not job_id:
            raise self._malformed("transcript answer without `id`")
        while True:
            status = job.get("status")
            if status == "completed":
                return job
            if status == "error":
                # A failed job is still HTTP 200 (PROVIDERS.md §2.2); it is not billed.
                raise ProviderError(
                    self.name, Category.SERVER, f"transcript failed: {job.get('error')}", status=200
                )
            if status not in ("queued", "processing"):
                raise self._malformed(f"unknown transcript status {status!r}")
            await trio.sleep(self._poll_interval_s)
            job = await self._request("GET", f"/transcript/{job_id}")

    async def _request(
        self,
        method: str,
        path: str,
        *,
        content: bytes | None = None,
        json: object = None,
        headers: Mapping[str, str] | None = None,
    ) -> Mapping[str, object]:
        """One HTTP exchange; the decoded JSON object of a 2xx answer."""
        try:
            response = await self._http.request(
                method,
                self._root + path,
                content=content,
                json=json,
                headers={"authorization": self._api_key, **(headers or {})},
                timeout=self._timeout_s,
            )
        except httpx.RequestError as exc:
            raise error_from_transport(self.name, exc) from exc
        if not response.is_success:
            raise error_from_response(self.name, response)
        body = decode_body(response.content)
        if not isinstance(body, Mapping):
            raise self._malformed(f"{method} {path}: body is not a JSON object")
        return body

    def _malformed(self, message: str) -> ProviderError:
        """A MALFORMED_RESPONSE error for a 2xx answer we cannot use."""
        return ProviderError(self.name, Category.MALFORMED_RESPONSE, message, status=200)
