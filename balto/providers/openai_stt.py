"""Speech-to-text on an OpenAI-compatible ``/v1/audio/transcriptions`` (PROVIDERS.md §3.4).

OpenAI's own models speak it, and so do self-hosted Whisper servers, which makes it the optional
third STT. In: one speech segment of mono s16le PCM and its sample rate, sent as a WAV file. Out: a
`SttResult`; cost is priced per audio hour like the other STT providers. Raises `ProviderError` for
every provider failure; Trio cancellation passes through untouched. One attempt per call.
"""

from __future__ import annotations

from collections.abc import Mapping

import httpx
import trio

from balto.errors import Category, ProviderError
from balto.pricing import Pricing
from balto.providers.elevenlabs import wav_bytes
from balto.providers.form_post import post_form
from balto.providers.http_errors import decode_body, error_from_response, error_from_transport
from balto.providers.ports import SttResult

_BYTES_PER_SAMPLE = 2


class OpenAITranscriber:
    """The `SpeechToText` port on ``POST {base_url}/audio/transcriptions``.

    Attributes:
        name: ``"openai_stt"``.
        model: The transcription model (``gpt-4o-mini-transcribe``, ``whisper-1``, …).
    """

    name: str = "openai_stt"

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str,
        model: str,
        pricing: Pricing,
        http: httpx.AsyncClient,
        timeout_s: float,
        language: str = "pt",
    ) -> None:
        """Configure the client; no I/O happens here.

        Args:
            api_key: The bearer key (any string for a self-hosted server without auth).
            base_url: The API root including ``/v1``.
            model: The transcription model.
            pricing: Prices used to account the cost of each call.
            http: A shared client owned (and closed) by the caller.
            timeout_s: Budget for one whole call.
            language: ISO-639-1 language of the audio.
        """
        self.model = model
        self._api_key = api_key
        self._url = base_url.rstrip("/") + "/audio/transcriptions"
        self._pricing = pricing
        self._http = http
        self._timeout_s = timeout_s
        self._language = language

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
                response = await post_form(
                    self._http,
                    self._url,
                    headers={"authorization": f"Bearer {self._api_key}"},
                    data={
                        "model": self.model,
                        "language": self._language,
                        "response_format": "json",
                    },
                    files={"file": ("segment.wav", wav_bytes(pcm, sample_rate), "audio/wav")},
                    timeout=self._timeout_s,
                )
        except trio.TooSlowError as exc:
            raise ProviderError(
                self.name, Category.TIMEOUT, f"no answer within {self._timeout_s:g} s"
            ) from exc
        except httpx.RequestError as exc:
            raise error_from_transport(self.name, exc) from exc
        if not response.is_success:
            raise error_from_response(self.name, response)
        body = decode_body(response.content)
        text = body.get("text") if isinstance(body, Mapping) else None
        if not isinstance(text, str):
            raise ProviderError(
                self.name, Category.MALFORMED_RESPONSE, "answer without a `text`", status=200
            )
        return SttResult(
            text=text.strip(),
            provider=self.name,
            model=self.model,
            language=self._language,
            latency_s=trio.current_time() - started,
            audio_seconds=audio_seconds,
            cost_usd=self._pricing.stt_cost(self.name, self.model, audio_seconds),
        )
