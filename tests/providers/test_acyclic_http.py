"""AcyclicAsyncClient against the loopback Scribe fake: a closed response is freed at once.

Each test turns the garbage collector off around the request: what is freed then was freed by
reference counting alone, before it could age into the collector's oldest generation.
"""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import httpx
import pytest
import trio

from balto.providers.acyclic_http import AcyclicAsyncClient
from tests.fakes.elevenlabs import DEFAULT_TEXT, FakeElevenLabs
from tests.fakes.server import serve_app

KEY = "el-test-key"
FORM = {"model_id": "scribe_v2", "file_format": "pcm_s16le_16"}
AUDIO = {"file": ("segment.pcm", b"\x01\x00" * 16_000, "application/octet-stream")}


@pytest.fixture
async def url(nursery: trio.Nursery) -> str:
    base = await serve_app(nursery, FakeElevenLabs(api_key=KEY).app)
    return f"{base}/v1/speech-to-text"


@pytest.fixture
def no_collector() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


async def _post(http: httpx.AsyncClient, url: str, key: str = KEY) -> httpx.Response:
    return await http.post(url, headers={"xi-api-key": key}, data=FORM, files=AUDIO)


@pytest.mark.usefixtures("no_collector")
async def test_a_read_response_is_freed_by_reference_counting(url: str) -> None:
    async with AcyclicAsyncClient() as http:
        response = await _post(http, url)
        assert response.status_code == 200
        assert response.json()["text"] == DEFAULT_TEXT
        assert response.is_closed and response.elapsed.total_seconds() > 0
        freed = weakref.ref(response)
        del response
        assert freed() is None


@pytest.mark.usefixtures("no_collector")
async def test_plain_httpx_keeps_the_cycle_this_client_breaks(url: str) -> None:
    # The reason for the wrapper; when httpx drops its back-reference (encode/httpx#3733) this
    # fails, and AcyclicAsyncClient can go.
    async with httpx.AsyncClient() as http:
        response = await _post(http, url)
        assert response.status_code == 200
        kept = weakref.ref(response)
        del response
        assert kept() is not None


@pytest.mark.usefixtures("no_collector")
async def test_an_error_answer_reads_the_same_and_is_freed(url: str) -> None:
    async with AcyclicAsyncClient() as http:
        response = await _post(http, url, key="wrong")
        assert response.status_code == 401
        assert response.json()["detail"]["status"] == "invalid_api_key"
        freed = weakref.ref(response)
        del response
        assert freed() is None


@pytest.mark.usefixtures("no_collector")
async def test_a_streamed_response_is_freed_once_closed(url: str) -> None:
    async with AcyclicAsyncClient() as http:
        request = http.build_request(
            "POST", url, headers={"xi-api-key": KEY}, data=FORM, files=AUDIO
        )
        response = await http.send(request, stream=True)
        chunks = [chunk async for chunk in response.aiter_bytes()]
        assert b"".join(chunks) and response.is_closed  # iterating to the end closes it
        assert response.elapsed.total_seconds() > 0
        with pytest.raises(httpx.StreamConsumed):
            await response.aread()
        freed = weakref.ref(response)
        del response
        assert freed() is None


async def test_a_response_closed_before_its_body_is_read_refuses_to_read(url: str) -> None:
    async with AcyclicAsyncClient() as http:
        async with http.stream(
            "POST", url, headers={"xi-api-key": KEY}, data=FORM, files=AUDIO
        ) as response:
            assert response.status_code == 200
        assert response.is_closed
        with pytest.raises(httpx.StreamClosed):
            await response.aread()


@pytest.mark.usefixtures("no_collector")
async def test_a_response_a_hook_already_read_is_freed_too(url: str) -> None:
    read_by_hook: list[bytes] = []

    async def hook(response: httpx.Response) -> None:
        read_by_hook.append(await response.aread())

    async with AcyclicAsyncClient(event_hooks={"response": [hook]}) as http:
        response = await _post(http, url)
        assert response.json()["text"] == DEFAULT_TEXT
        assert read_by_hook == [response.content]
        freed = weakref.ref(response)
        del response
        assert freed() is None
