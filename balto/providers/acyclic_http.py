"""An httpx client whose responses are freed by reference counting once they are closed.

In: what `httpx.AsyncClient` takes. Out: the same responses, read and closed the same way.

httpx 0.28 wraps every response's body in a `BoundAsyncStream` that points back at the response
(to set `elapsed` when it closes): response → stream → response, a reference cycle that only
the garbage collector can free, holding the request and so the posted segment's audio. The
server posts a segment to the speech-to-text provider every few seconds per session, and the
caller's frame keeps its last response until the next one, so a response outlives the young
collections and its garbage piles up in the oldest generation: at 200 sessions ~40 objects per
post, ~80,000 a minute, none of it found by the young or middle collections
(docs/BENCHMARKS.md, Capacity, 2026-12-05 eighth session). Here the body sits behind a stream
that lets go of httpx's bound one when the response closes, which breaks the cycle.
Upstream: encode/httpx#3733 (open). The OpenAI SDK's own client (pydantic's httpx2) has no
such back-reference.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx


class _ReleasedOnClose(httpx.AsyncByteStream):
    """A response body that lets go of httpx's bound stream (and its response) on close."""

    def __init__(self, bound: httpx.AsyncByteStream | None) -> None:
        self._bound: httpx.AsyncByteStream | None = bound

    async def __aiter__(self) -> AsyncIterator[bytes]:
        bound = self._bound
        if bound is None:
            raise httpx.StreamClosed()
        async for chunk in bound:
            yield chunk

    async def aclose(self) -> None:
        bound, self._bound = self._bound, None
        if bound is not None:
            await bound.aclose()  # sets the response's `elapsed`, as before


class AcyclicAsyncClient(httpx.AsyncClient):
    """`httpx.AsyncClient` whose responses hold no reference cycle once closed."""

    async def send(
        self,
        request: httpx.Request,
        *,
        stream: bool = False,
        auth: Any = httpx.USE_CLIENT_DEFAULT,
        follow_redirects: Any = httpx.USE_CLIENT_DEFAULT,
    ) -> httpx.Response:
        """Send `request` as `httpx.AsyncClient.send` does (the body read unless `stream`)."""
        response = await super().send(
            request, stream=True, auth=auth, follow_redirects=follow_redirects
        )
        bound = response.stream
        assert isinstance(bound, httpx.AsyncByteStream)  # an async client's
        # A response hook may have read (and so closed) it already: then let go at once.
        response.stream = _ReleasedOnClose(None if response.is_closed else bound)
        if stream:
            return response  # the caller closes it (``async with client.stream(...)``)
        try:
            await response.aread()  # closes the response at the end, as httpx's own send
        except BaseException:
            await response.aclose()
            raise
        return response
