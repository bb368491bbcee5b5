"""ElevenLabs Scribe batch speech-to-text over its REST API (PROVIDERS.md §1).

In: one speech segment of mono s16le PCM and its sample rate. Out: a `SttResult` with the text, the
language the service detected, latency and cost. Raises `ProviderError` (and nothing else for a
provider failure); Trio cancellation passes through untouched.

The ElevenLabs SDK calls asyncio directly, so this speaks the wire format with ``httpx`` instead.
One attempt per call: retries, backoff and failover belong to the caller.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Mapping

import httpx
import trio

from balto.errors import Category, ProviderError
from balto.pricing import Pricing
from balto.providers.form_post import post_form
from balto.providers.http_errors import error_from_response, error_from_transport
from balto.providers.ports import SttResult

_PATH = "/v1/speech-to-text"

# Scribe takes raw PCM only at this rate (`file_format=pcm_s16le_16`), which skips its decoder.
_RAW_PCM_RATE = 16_000
_BYTES_PER_SAMPLE = 2


class ElevenLabsScribe:
    """The `SpeechToText` port on ElevenLabs Scribe (``POST /v1/speech-to-text``).

    Attributes:
        name: The provider name used for pricing and error reports.
        model: The Scribe model id sent as ``model_id`` (``scribe_v2``).
    """

    name: str = "elevenlabs"

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str,
        model: str,
        pricing: Pricing,
        http: httpx.AsyncClient,
        timeout_s: float,
        language_code: str = "pt",
    ) -> None:
        """Configure the client; no I/O happens here.

        Args:
            api_key: The ``xi-api-key`` credential.
            base_url: The host root, e.g. ``https://api.elevenlabs.io`` (the path is appended).
            model: The ``model_id`` to request.
            pricing: Prices used to account the cost of each call.
            http: A shared client owned (and closed) by the caller.
            timeout_s: Budget for one whole call, connect to last byte.
            language_code: ISO-639 code sent to Scribe; Portuguese by default.
        """
        self.model = model
        self._api_key = api_key
        self._url = base_url.rstrip("/") + _PATH
        self._pricing = pricing
        self._http = http
        self._timeout_s = timeout_s
        self._language_code = language_code

    async def transcribe(self, pcm: bytes, sample_rate: int) -> SttResult:
        """Transcribe one segment.

        Args:
            pcm: Mono 16-bit little-endian samples.
            sample_rate: Samples per second of `pcm`.

        Returns:
            The transcript with latency and cost.

        Raises:
            ProviderError: The call failed; the category says how, ``retry_after`` carries the
                server's requested delay when it gave one.
            ValueError: `sample_rate` is not positive.
        """
        if sample_rate <= 0:
            raise ValueError(f"sample_rate must be positive, got {sample_rate}")
        audio_seconds = len(pcm) / _BYTES_PER_SAMPLE / sample_rate
        started = trio.current_time()
        response = await self._post(pcm, sample_rate)
        if not response.is_success:
            raise error_from_response(self.name, response)
        text, language = self._parse(response.content)
        return SttResult(
            text=text,
            provider=self.name,
            model=self.model,
            language=language,
            latency_s=trio.current_time() - started,
            audio_seconds=audio_seconds,
            cost_usd=self._pricing.stt_cost(self.name, self.model, audio_seconds),
        )

    async def _post(self, pcm: bytes, sample_rate: int) -> httpx.Response:
        """Send the multipart request and read the whole answer within the time budget."""
        fields = {
            "model_id": self.model,
            "language_code": self._language_code,
            # Audio-event tags such as "(risos)" would end up in the text the advisor reads.
            "tag_audio_events": "false",
            # Word timestamps are not used downstream; skipping them shrinks the answer.
            "timestamps_granularity": "none",
        }
        if sample_rate == _RAW_PCM_RATE:
            fields["file_format"] = "pcm_s16le_16"
            file = ("segment.pcm", pcm, "application/octet-stream")
        else:
            fields["file_format"] = "other"
            file = ("segment.wav", wav_bytes(pcm, sample_rate), "audio/wav")
        try:
            # httpx's timeout bounds each phase; fail_after bounds the sum, so a server that
            # trickles bytes still costs at most the budget.
            with trio.fail_after(self._timeout_s):
                return await post_form(
                    self._http,
                    self._url,
                    headers={"xi-api-key": self._api_key},
                    data=fields,
                    files={"file": file},
                    timeout=self._timeout_s,
                )
        except trio.TooSlowError as exc:
            raise ProviderError(
                self.name, Category.TIMEOUT, f"no answer within {self._timeout_s:g} s"
            ) from exc
        except httpx.RequestError as exc:
            raise error_from_transport(self.name, exc) from exc

    def _parse(self, content: bytes) -> tuple[str, str | None]:
        """Text and language from a 200 body, single-channel or multichannel (PROVIDERS.md §1.2)."""
        try:
            body: object = json.loads(content)
        except ValueError as exc:
            raise self._malformed(f"body is not JSON ({len(content)} bytes)") from exc
        if not isinstance(body, Mapping):
            raise self._malformed("body is not a JSON object")
        chunks = body.get("transcripts", [body])
        if not isinstance(chunks, list) or not chunks:
            raise self._malformed("`transcripts` is not a non-empty list")
        texts: list[str] = []
        for chunk in chunks:
            text = chunk.get("text") if isinstance(chunk, Mapping) else None
            if not isinstance(text, str):
                raise self._malformed("no `text` in the transcript")
            if text.strip():
                texts.append(text.strip())
        first = chunks[0]
        language = first.get("language_code") if isinstance(first, Mapping) else None
        return " ".join(texts), language if isinstance(language, str) else None

    def _malformed(self, message: str) -> ProviderError:
        """A MALFORMED_RESPONSE error for a 200 answer we cannot use."""
        return ProviderError(self.name, Category.MALFORMED_RESPONSE, message, status=200)


def wav_bytes(pcm: bytes, sample_rate: int) -> bytes:
    """Wrap mono s16le `pcm` in a canonical 44-byte-header RIFF/WAVE container.

    Args:
        pcm: Mono 16-bit little-endian samples.
        sample_rate: Samples per second.

    Returns:
        The WAV file bytes.
    """
    channels = 1
    bits = 8 * _BYTES_PER_SAMPLE
    block_align = channels * _BYTES_PER_SAMPLE
    header = struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        b"RIFF",
        36 + len(pcm),
        b"WAVE",
        b"fmt ",
        16,  # size of the PCM fmt chunk
        1,  # format tag: integer PCM
        channels,
        sample_rate,
        sample_rate * block_align,
        block_align,
        bits,
        b"data",
        len(pcm),
    )
    return header + pcm
