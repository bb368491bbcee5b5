"""The speech-to-text uploads: a multipart form encoded first and sent as one body."""

from __future__ import annotations

import email.parser
import email.policy

import httpx

from balto.providers.form_post import post_form


def _parts(request: httpx.Request) -> dict[str, tuple[str | None, bytes]]:
    """The form's parts by name: (file name, content), parsed by the standard library."""
    head = f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + request.content)
    parts = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        assert isinstance(name, str) and isinstance(payload, bytes)
        parts[name] = (part.get_filename(), payload)
    return parts


async def test_the_form_goes_whole_with_its_length_and_every_part() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"text": "ok"})

    audio = bytes(range(256)) * 375  # 96,000 bytes: a 3 s segment at 16 kHz
    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
        response = await post_form(
            http,
            "http://stt.invalid/v1/speech-to-text",
            headers={"xi-api-key": "k"},
            data={"model_id": "scribe_v1", "file_format": "pcm_s16le_16"},
            files={"file": ("segment.pcm", audio, "application/octet-stream")},
            timeout=5.0,
        )
    assert response.json() == {"text": "ok"}
    (request,) = seen
    # One bytes body, not httpx's part-by-part stream (each part a socket write).
    assert isinstance(request.stream, httpx.ByteStream)
    assert request.headers["content-length"] == str(len(request.content))
    assert request.headers["xi-api-key"] == "k"
    assert request.extensions["timeout"]["read"] == 5.0
    assert _parts(request) == {
        "model_id": (None, b"scribe_v1"),
        "file_format": (None, b"pcm_s16le_16"),
        "file": ("segment.pcm", audio),
    }
