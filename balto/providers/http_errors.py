"""HTTP failures to error categories, decided once for every provider.

In: an HTTP status with the decoded error body and the response headers, or an httpx transport
exception. Out: a `balto.errors.Category`, a ``Retry-After`` delay in seconds, or a ready
`balto.errors.ProviderError`. Nothing here raises; callers raise what these functions build.

The body may be the whole decoded JSON (``{"detail": {...}}`` from ElevenLabs), the inner ``error``
object the openai SDK keeps as ``exc.body``, a bare string (xAI's ``error`` is a string), or None.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator, Mapping
from email.utils import parsedate_to_datetime

import httpx

from balto.errors import Category, ProviderError

# Codes that mean "out of credits": waiting does not help, so they are QUOTA, not RATE_LIMITED.
_QUOTA_CODES = frozenset({"quota_exceeded", "insufficient_quota"})

# xAI answers a bad key with HTTP 400 and a string `error` (PROVIDERS.md §4); the text is the only
# signal that it is a credentials problem rather than a bad request.
_BAD_KEY_MARKERS = ("incorrect api key", "invalid api key")

# Keys under which the providers put a machine-readable code (OpenAI `code`/`type`, ElevenLabs
# `detail.status`), and the envelopes that may wrap them.
_CODE_KEYS = ("code", "status", "type")
_ENVELOPE_KEYS = ("error", "detail")

_MAX_MESSAGE_CHARS = 300


def classify_status(status: int, body: object = None) -> Category:
    """The category of a non-2xx HTTP answer.

    Args:
        status: The HTTP status code.
        body: The decoded error body (JSON value or text), or None when there was none.

    Returns:
        AUTH for 401/403 (and xAI's 400 bad-key answer), QUOTA when the body carries a quota code,
        RATE_LIMITED for 429, TIMEOUT for 408, SERVER for 409 and >= 500, and INVALID_REQUEST for
        every other status (a 3xx or an unknown 4xx means our request or base URL is wrong).
    """
    if any(code in _QUOTA_CODES for code in _codes(body)) and 400 <= status < 500:
        # ElevenLabs may send quota_exceeded with 400/401, not only 429: the body wins.
        return Category.QUOTA
    if status in (401, 403):
        return Category.AUTH
    if status == 402:
        return Category.QUOTA
    if status == 400 and _mentions_bad_key(body):
        return Category.AUTH
    if status == 429:
        return Category.RATE_LIMITED
    if status == 408:
        return Category.TIMEOUT
    if status == 409 or status >= 500:
        # 409 is a transient conflict that both vendor SDKs retry, like a server error.
        return Category.SERVER
    return Category.INVALID_REQUEST


def parse_retry_after(headers: Mapping[str, str]) -> float | None:
    """The delay the server asked for, in seconds, or None when it asked for none.

    Honours, in this order, ``retry-after-ms`` (milliseconds), then ``retry-after`` as seconds
    (floats accepted) or as an HTTP date. Header names are matched case-insensitively.

    Args:
        headers: Response headers (an ``httpx.Headers`` or any mapping).

    Returns:
        A non-negative delay in seconds, or None when absent or unparsable.
    """
    lowered = {key.lower(): value for key, value in headers.items()}
    millis = _parse_float(lowered.get("retry-after-ms"))
    if millis is not None:
        return millis / 1000.0
    raw = lowered.get("retry-after")
    if raw is None:
        return None
    seconds = _parse_float(raw)
    if seconds is not None:
        return seconds
    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        # An HTTP date is GMT by definition; a naive result cannot be compared with a timestamp.
        return None
    return max(0.0, when.timestamp() - time.time())


def classify_transport_error(exc: httpx.RequestError) -> Category:
    """The category of a request that got no usable HTTP answer.

    Args:
        exc: The httpx exception raised while sending or receiving.

    Returns:
        TIMEOUT for any httpx timeout, MALFORMED_RESPONSE when the body could not be decoded, and
        CONNECTIVITY for every other transport failure (refused, reset, protocol error).
    """
    if isinstance(exc, httpx.TimeoutException):
        return Category.TIMEOUT
    if isinstance(exc, httpx.DecodingError):
        return Category.MALFORMED_RESPONSE
    return Category.CONNECTIVITY


def error_from_response(provider: str, response: httpx.Response) -> ProviderError:
    """Build the `ProviderError` for a non-2xx httpx response whose body has been read.

    Args:
        provider: The provider name to report (``"elevenlabs"``).
        response: The failed response.

    Returns:
        The error, with the status, the category, the server's message and its ``Retry-After``.
    """
    body = decode_body(response.content)
    category = classify_status(response.status_code, body)
    return ProviderError(
        provider,
        category,
        f"HTTP {response.status_code}: {describe_body(body)}",
        status=response.status_code,
        retry_after=parse_retry_after(response.headers),
    )


def error_from_transport(provider: str, exc: httpx.RequestError) -> ProviderError:
    """Build the `ProviderError` for an httpx transport failure (chain it with ``from exc``).

    Args:
        provider: The provider name to report.
        exc: The httpx exception.

    Returns:
        The error; it has no status because no HTTP answer arrived.
    """
    detail = str(exc) or "no detail"
    return ProviderError(provider, classify_transport_error(exc), f"{type(exc).__name__}: {detail}")


def decode_body(content: bytes) -> object:
    """The JSON value of `content`, or its text when it is not JSON, or None when empty."""
    if not content:
        return None
    text = content.decode("utf-8", errors="replace")
    try:
        value: object = json.loads(text)
    except ValueError:
        return text
    return value


def describe_body(body: object) -> str:
    """A short human-readable message from an error body, for logs and error messages."""
    if isinstance(body, Mapping):
        for key in _ENVELOPE_KEYS:
            inner = body.get(key)
            if isinstance(inner, str):
                return _clip(inner)
            if isinstance(inner, Mapping) and isinstance(inner.get("message"), str):
                return _clip(str(inner["message"]))
        if isinstance(body.get("message"), str):
            return _clip(str(body["message"]))
    if body is None:
        return "(empty body)"
    if isinstance(body, str):
        return _clip(body)
    return _clip(json.dumps(body, ensure_ascii=False, default=str))


def _codes(body: object) -> Iterator[str]:
    """Every machine-readable code string in `body`, at the top level and inside an envelope."""
    if not isinstance(body, Mapping):
        return
    layers: list[Mapping[object, object]] = [body]
    for key in _ENVELOPE_KEYS:
        inner = body.get(key)
        if isinstance(inner, Mapping):
            layers.append(inner)
    for layer in layers:
        for key in _CODE_KEYS:
            value = layer.get(key)
            if isinstance(value, str):
                yield value


def _mentions_bad_key(body: object) -> bool:
    """True when the body's message text says the API key is wrong."""
    text = describe_body(body).casefold()
    return any(marker in text for marker in _BAD_KEY_MARKERS)


def _parse_float(raw: str | None) -> float | None:
    """`raw` as a finite non-negative float, or None."""
    if raw is None:
        return None
    try:
        value = float(raw.strip())
    except ValueError:
        return None
    if not math.isfinite(value) or value < 0:
        return None
    return value


def _clip(text: str) -> str:
    """`text` cut to a length that fits in one log line."""
    if len(text) <= _MAX_MESSAGE_CHARS:
        return text
    return text[: _MAX_MESSAGE_CHARS - 1] + "…"
