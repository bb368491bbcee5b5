"""A multipart form upload sent as one body: how the speech-to-text clients post audio.

In: an httpx client, the form's fields and files. Out: the provider's `httpx.Response`.
Raises what `httpx.AsyncClient.send` raises.

httpx streams a multipart form part by part, and each part (a boundary, a field's headers, its
value, the closing CRLF) becomes its own socket write: about 29 `send` calls for a three-field
upload, each of which wakes the peer. Encoding the form first (httpx's own encoder, then
`Request.read`) sends the body in one write. Measured over loopback on the server's event loop:
1.17 → 0.79 ms CPU per 3 s segment posted (docs/BENCHMARKS.md, Capacity, 2026-12-05 fourth
session).
"""

from __future__ import annotations

from collections.abc import Mapping

import httpx

FileField = tuple[str, bytes, str]
"""A file part: (file name, content, content type)."""


async def post_form(
    http: httpx.AsyncClient,
    url: str,
    *,
    headers: Mapping[str, str],
    data: Mapping[str, str],
    files: Mapping[str, FileField],
    timeout: float,
) -> httpx.Response:
    """POST `data` and `files` as multipart/form-data to `url`, the body in one write."""
    request = http.build_request(
        "POST", url, headers=headers, data=data, files=files, timeout=timeout
    )
    request.read()  # encodes the form: the body is then one bytes object, sent whole
    return await http.send(request)
