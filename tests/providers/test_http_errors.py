"""The status/header/exception classification shared by the HTTP providers."""

from __future__ import annotations

import email.utils
import time

import httpx
import pytest

from balto.errors import Category
from balto.providers.http_errors import (
    classify_status,
    classify_transport_error,
    describe_body,
    error_from_response,
    parse_retry_after,
)


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (401, None, Category.AUTH),
        (403, {"detail": {"status": "only_for_creator+"}}, Category.AUTH),
        (
            400,
            {"error": {"message": "bad", "type": "invalid_request_error"}},
            Category.INVALID_REQUEST,
        ),
        (404, None, Category.INVALID_REQUEST),
        (413, "too large", Category.INVALID_REQUEST),
        (422, {"detail": [{"loc": ["body", "model_id"]}]}, Category.INVALID_REQUEST),
        (429, {"detail": {"status": "too_many_concurrent_requests"}}, Category.RATE_LIMITED),
        (429, {"detail": {"status": "quota_exceeded"}}, Category.QUOTA),
        (401, {"detail": {"status": "quota_exceeded"}}, Category.QUOTA),
        (429, {"error": {"code": "insufficient_quota"}}, Category.QUOTA),
        # The openai SDK keeps only the inner error object as `exc.body`.
        (429, {"code": "insufficient_quota", "type": "insufficient_quota"}, Category.QUOTA),
        (429, {"code": "rate_limit_exceeded"}, Category.RATE_LIMITED),
        (408, None, Category.TIMEOUT),
        (409, None, Category.SERVER),
        (500, None, Category.SERVER),
        (503, "<html>unavailable</html>", Category.SERVER),
        # xAI: a bad key is a 400 with a string `error` (the SDK keeps just the string).
        (400, {"code": "x", "error": "Incorrect API key provided: xa***"}, Category.AUTH),
        (400, "Incorrect API key provided: xa***", Category.AUTH),
    ],
)
def test_classify_status(status: int, body: object, expected: Category) -> None:
    assert classify_status(status, body) is expected


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, None),
        ({"Retry-After": "3"}, 3.0),
        ({"retry-after": "0.25"}, 0.25),
        ({"retry-after-ms": "1500", "retry-after": "9"}, 1.5),
        ({"retry-after": "soon"}, None),
        ({"retry-after": "-1"}, None),
        ({"retry-after": "nan"}, None),
        ({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}, 0.0),  # in the past
    ],
)
def test_parse_retry_after(headers: dict[str, str], expected: float | None) -> None:
    assert parse_retry_after(headers) == expected


def test_parse_retry_after_http_date_in_the_future() -> None:
    when = email.utils.formatdate(time.time() + 30, usegmt=True)

    delay = parse_retry_after(httpx.Headers({"Retry-After": when}))

    assert delay is not None and 28 <= delay <= 31


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (httpx.ReadTimeout("slow"), Category.TIMEOUT),
        (httpx.ConnectTimeout("slow"), Category.TIMEOUT),
        (httpx.ConnectError("refused"), Category.CONNECTIVITY),
        (httpx.RemoteProtocolError("closed"), Category.CONNECTIVITY),
        (httpx.DecodingError("gzip"), Category.MALFORMED_RESPONSE),
    ],
)
def test_classify_transport_error(exc: httpx.RequestError, expected: Category) -> None:
    assert classify_transport_error(exc) is expected


def test_error_from_response_carries_status_message_and_retry_after() -> None:
    response = httpx.Response(
        429,
        headers={"retry-after": "2"},
        json={"detail": {"status": "system_busy", "message": "Busy, retry later."}},
    )

    error = error_from_response("elevenlabs", response)

    assert (error.provider, error.category, error.status) == (
        "elevenlabs",
        Category.RATE_LIMITED,
        429,
    )
    assert error.retry_after == 2.0
    assert "Busy, retry later." in error.message


def test_describe_body_is_short() -> None:
    assert describe_body(None) == "(empty body)"
    assert len(describe_body("x" * 10_000)) == 300
