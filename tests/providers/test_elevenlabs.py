"""ElevenLabsScribe against the loopback Scribe fake: wire format, parsing, error categories."""

from __future__ import annotations

import io
import socket
import wave
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import trio

from balto.errors import Category, ProviderError
from balto.pricing import DEFAULT_PRICING
from balto.providers.elevenlabs import ElevenLabsScribe
from tests.fakes.elevenlabs import DEFAULT_TEXT, FakeElevenLabs
from tests.fakes.server import serve_app

KEY = "el-test-key"
ONE_SECOND_16K = b"\x01\x00" * 16_000


@pytest.fixture
def fake() -> FakeElevenLabs:
    return FakeElevenLabs(api_key=KEY)


@pytest.fixture
async def base_url(nursery: trio.Nursery, fake: FakeElevenLabs) -> str:
    return await serve_app(nursery, fake.app)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


def make_scribe(
    base_url: str,
    http: httpx.AsyncClient,
    *,
    api_key: str = KEY,
    model: str = "scribe_v2",
    timeout_s: float = 5.0,
) -> ElevenLabsScribe:
    return ElevenLabsScribe(
        api_key=api_key,
        base_url=base_url,
        model=model,
        pricing=DEFAULT_PRICING,
        http=http,
        timeout_s=timeout_s,
    )


async def failure(scribe: ElevenLabsScribe, pcm: bytes = ONE_SECOND_16K) -> ProviderError:
    with pytest.raises(ProviderError) as info:
        await scribe.transcribe(pcm, 16_000)
    assert info.value.provider == "elevenlabs"
    return info.value


async def test_16k_pcm_is_sent_raw_and_transcribed(
    fake: FakeElevenLabs, base_url: str, http: httpx.AsyncClient
) -> None:
    result = await make_scribe(base_url, http).transcribe(ONE_SECOND_16K, 16_000)

    assert result.text == DEFAULT_TEXT
    assert (result.provider, result.model, result.language) == ("elevenlabs", "scribe_v2", "por")
    assert result.audio_seconds == 1.0
    assert result.cost_usd == pytest.approx(0.22 / 3600)
    assert result.latency_s > 0
    [sent] = fake.requests
    assert sent.headers["xi-api-key"] == KEY
    assert sent.headers["content-type"].startswith("multipart/form-data")
    assert sent.form == {
        "model_id": "scribe_v2",
        "language_code": "pt",
        "tag_audio_events": "false",
        "timestamps_granularity": "none",
        "file_format": "pcm_s16le_16",
    }
    assert (sent.filename, sent.file_content_type) == ("segment.pcm", "application/octet-stream")
    assert sent.file == ONE_SECOND_16K


async def test_other_rates_are_wrapped_in_wav(
    fake: FakeElevenLabs, base_url: str, http: httpx.AsyncClient
) -> None:
    pcm = b"\x10\x00\xf0\xff" * 4_000  # 8000 samples: one second at 8 kHz

    result = await make_scribe(base_url, http).transcribe(pcm, 8_000)

    assert result.audio_seconds == 1.0
    [sent] = fake.requests
    assert sent.form["file_format"] == "other"
    assert (sent.filename, sent.file_content_type) == ("segment.wav", "audio/wav")
    assert sent.file is not None and len(sent.file) == 44 + len(pcm)
    with wave.open(io.BytesIO(sent.file)) as wav:
        params = (wav.getnchannels(), wav.getsampwidth(), wav.getframerate(), wav.getnframes())
        assert params == (1, 2, 8_000, 8_000)
        assert wav.readframes(8_000) == pcm
    assert sent.audio_duration() == 1.0


async def test_scripted_transcripts_come_back_in_order(
    fake: FakeElevenLabs, base_url: str, http: httpx.AsyncClient
) -> None:
    fake.transcripts = ["Boa tarde.", "  Tem dipirona?  "]
    scribe = make_scribe(base_url, http)

    texts = [(await scribe.transcribe(ONE_SECOND_16K, 16_000)).text for _ in range(3)]

    assert texts == ["Boa tarde.", "Tem dipirona?", DEFAULT_TEXT]


async def test_multichannel_transcripts_are_joined(
    fake: FakeElevenLabs, base_url: str, http: httpx.AsyncClient
) -> None:
    def multichannel(_: Any) -> dict[str, Any]:
        chunk = {"language_code": "por", "language_probability": 0.9, "words": []}
        return {
            "transcripts": [
                {**chunk, "text": "Bom dia.", "channel_index": 0},
                {**chunk, "text": "", "channel_index": 1},
                {**chunk, "text": "Quero um xarope.", "channel_index": 2, "extra": True},
            ],
            "transcription_id": "multi1",
            "audio_duration_secs": 1.0,
        }

    fake.respond = multichannel

    result = await make_scribe(base_url, http).transcribe(ONE_SECOND_16K, 16_000)

    assert (result.text, result.language) == ("Bom dia. Quero um xarope.", "por")


async def test_bad_key_is_auth(base_url: str, http: httpx.AsyncClient) -> None:
    error = await failure(make_scribe(base_url, http, api_key="wrong"))

    assert (error.category, error.status) == (Category.AUTH, 401)
    assert "Invalid API key" in error.message


async def test_missing_model_is_invalid_request(base_url: str, http: httpx.AsyncClient) -> None:
    error = await failure(make_scribe(base_url, http, model=""))

    assert (error.category, error.status) == (Category.INVALID_REQUEST, 422)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [({"Retry-After": "2"}, 2.0), ({"retry-after-ms": "250"}, 0.25), ({}, None)],
)
async def test_too_many_requests_is_rate_limited_with_retry_after(
    fake: FakeElevenLabs,
    base_url: str,
    http: httpx.AsyncClient,
    headers: dict[str, str],
    expected: float | None,
) -> None:
    fake.fail_next(429, headers=headers)

    error = await failure(make_scribe(base_url, http))

    assert (error.category, error.status, error.retry_after) == (
        Category.RATE_LIMITED,
        429,
        expected,
    )


async def test_quota_exceeded_is_quota(
    fake: FakeElevenLabs, base_url: str, http: httpx.AsyncClient
) -> None:
    fake.fail_next(429, {"detail": {"status": "quota_exceeded", "message": "Quota exceeded."}})

    error = await failure(make_scribe(base_url, http))

    assert error.category is Category.QUOTA


@pytest.mark.parametrize("status", [500, 503])
async def test_server_errors_are_server(
    fake: FakeElevenLabs, base_url: str, http: httpx.AsyncClient, status: int
) -> None:
    fake.fail_next(status)

    error = await failure(make_scribe(base_url, http))

    assert (error.category, error.status) == (Category.SERVER, status)


async def test_one_failure_does_not_stick(
    fake: FakeElevenLabs, base_url: str, http: httpx.AsyncClient
) -> None:
    fake.fail_next(500)
    scribe = make_scribe(base_url, http)

    await failure(scribe)
    result = await scribe.transcribe(ONE_SECOND_16K, 16_000)

    assert result.text == DEFAULT_TEXT
    assert len(fake.requests) == 2


async def test_hung_server_times_out_within_budget(
    fake: FakeElevenLabs, base_url: str, http: httpx.AsyncClient
) -> None:
    fake.hang_next(10.0)
    started = trio.current_time()

    error = await failure(make_scribe(base_url, http, timeout_s=0.5))

    assert error.category is Category.TIMEOUT
    assert 0.4 <= trio.current_time() - started < 1.5


@pytest.mark.parametrize(
    "body",
    [
        None,  # JSON cut short
        "<html><body>502 Bad Gateway</body></html>",
        '{"message": "Request accepted", "request_id": "r1", "transcription_id": "t1"}',
        '{"transcripts": []}',
        '["not", "an", "object"]',
    ],
)
async def test_unusable_200_is_malformed(
    fake: FakeElevenLabs, base_url: str, http: httpx.AsyncClient, body: str | None
) -> None:
    fake.malformed_next(body)

    error = await failure(make_scribe(base_url, http))

    assert error.category is Category.MALFORMED_RESPONSE


async def test_a_transcript_cut_short_stays_out_of_the_error_message(
    fake: FakeElevenLabs, base_url: str, http: httpx.AsyncClient
) -> None:
    """The message is logged and stored with the provider call: it names the fault, never what
    was said (that is erased with the conversation; logs and provider calls are not)."""
    fake.malformed_next('{"language_code": "por", "text": "meu CPF é 123.456')

    error = await failure(make_scribe(base_url, http))

    assert error.category is Category.MALFORMED_RESPONSE
    assert "123.456" not in str(error) and "CPF" not in error.message


async def test_refused_connection_is_connectivity(http: httpx.AsyncClient) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Nothing listens on the port once the probe socket is closed.

    error = await failure(make_scribe(f"http://127.0.0.1:{port}", http))

    assert error.category is Category.CONNECTIVITY
    assert error.status is None


async def test_non_positive_sample_rate_is_a_programming_error(http: httpx.AsyncClient) -> None:
    scribe = make_scribe("http://127.0.0.1:9", http)

    with pytest.raises(ValueError, match="sample_rate"):
        await scribe.transcribe(ONE_SECOND_16K, 0)
