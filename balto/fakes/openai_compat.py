"""A loopback OpenAI-compatible chat API: ``POST /v1/chat/completions`` (PROVIDERS.md §3.2-§4).

Two flavours differ where the real services differ: a bad key gets OpenAI's 401 error envelope
(``flavor="openai"``) or xAI's HTTP 400 with a string ``error`` (``flavor="xai"``), and default
error bodies follow the same split. A success wraps the answer object of `respond` (the advisor's
JSON schema) in the exact ``chat.completion`` shape, with usage tokens. Failures are injected with
the `ScriptedFake` controls, plus `refuse_next`.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import quart
import trio
from quart_trio import QuartTrio

from balto.fakes.server import Fail, Hang, Malformed, ScriptedFake, json_response

Flavor = Literal["openai", "xai"]

NO_RECOMMENDATION: dict[str, Any] = {
    "recomendar": False,
    "produto": "",
    "explicacao": "Nada do catálogo se aplica a esta conversa.",
}

# What a model that ignored the JSON schema might say; the default `malformed_next` content.
_PROSE_CONTENT = "Recomendo Dipirona Monoidratada 500 mg para a dor de cabeça."

_XAI_BAD_KEY = {
    "code": "Some requested entity was not found",
    "error": "Incorrect API key provided: xa***ey. You can obtain an API key from "
    "https://console.x.ai.",
}


def openai_error(
    message: str, type_: str, code: str | None = None, param: str | None = None
) -> dict[str, Any]:
    """OpenAI's error envelope ``{"error": {"message", "type", "param", "code"}}``."""
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def xai_error(message: str, code: str = "Client specified an invalid argument") -> dict[str, Any]:
    """The error body of xAI: a string ``error`` beside a gRPC-style ``code`` text."""
    return {"code": code, "error": message}


INSUFFICIENT_QUOTA = openai_error(
    "You exceeded your current quota, please check your plan and billing details.",
    "insufficient_quota",
    "insufficient_quota",
)

_OPENAI_ERRORS: dict[int, dict[str, Any]] = {
    400: openai_error("Invalid request.", "invalid_request_error"),
    401: openai_error(
        "Incorrect API key provided: sk-fake. You can find your API key at "
        "https://platform.openai.com/account/api-keys.",
        "invalid_request_error",
        "invalid_api_key",
    ),
    403: openai_error("You are not allowed to use this model.", "invalid_request_error"),
    404: openai_error(
        "The model does not exist or you do not have access to it.",
        "invalid_request_error",
        "model_not_found",
        "model",
    ),
    429: openai_error(
        "Rate limit reached for requests. Please try again in 1s.",
        "requests",
        "rate_limit_exceeded",
    ),
}
_OPENAI_SERVER_ERROR = openai_error(
    "The server had an error while processing your request. Sorry about that!", "server_error"
)
_XAI_ERRORS: dict[int, dict[str, Any]] = {
    400: xai_error("Invalid request."),
    401: xai_error("Unauthenticated.", "Unauthenticated"),
    403: xai_error("Forbidden.", "Permission denied"),
    404: xai_error("The model does not exist.", "Some requested entity was not found"),
    429: xai_error("Too many requests.", "Some resource has been exhausted"),
}
_XAI_SERVER_ERROR = xai_error("Internal error.", "Internal error")


@dataclass(frozen=True, slots=True)
class RecordedChatRequest:
    """One request as the fake received it.

    Attributes:
        headers: Request headers, names lower-cased.
        body: The decoded JSON body (None when it was not JSON).
        received_at: ``trio.current_time()`` when the request had been read.
    """

    headers: Mapping[str, str]
    body: Any
    received_at: float


class FakeOpenAICompat(ScriptedFake):
    """The fake service; serve `app` and point the SDK at ``<base_url>/v1``.

    Attributes:
        app: The ASGI app.
        flavor: ``"openai"`` or ``"xai"``: which service's error shapes to speak.
        api_key: The only bearer key accepted.
        requests: Every request received, in order (also the failed ones).
        respond: Builds the answer object (``recomendar``/``produto``/``explicacao``) from the
            request body; the default answers `NO_RECOMMENDATION`.
        usage: ``(prompt_tokens, completion_tokens)`` to report; None estimates them from sizes.
    """

    def __init__(self, flavor: Flavor = "openai", *, api_key: str = "test-llm-key") -> None:
        """Create the fake and its app."""
        super().__init__()
        self.flavor: Flavor = flavor
        self.api_key = api_key
        self.requests: list[RecordedChatRequest] = []
        self.respond: Callable[[dict[str, Any]], Mapping[str, Any]] = lambda _: NO_RECOMMENDATION
        self.usage: tuple[int, int] | None = None
        self._refusals: list[str] = []
        self._ids = itertools.count(1)
        self.app = QuartTrio(__name__)
        self.app.add_url_rule("/v1/chat/completions", view_func=self._handle, methods=["POST"])

    def refuse_next(self, refusal: str = "Desculpe, não posso ajudar com isso.") -> None:
        """Answer the next successful request with a refusal (``content`` null)."""
        self._refusals.append(refusal)

    async def _handle(self) -> quart.Response:
        """The ``POST /v1/chat/completions`` route."""
        request = quart.request
        body = await request.get_json(force=True, silent=True)
        recorded = RecordedChatRequest(
            headers={key.lower(): value for key, value in request.headers.items()},
            body=body,
            received_at=trio.current_time(),
        )
        self.requests.append(recorded)
        match self._next_fault():
            case Fail(status, error_body, headers):
                error = self._default_error(status) if error_body is None else error_body
                return json_response(status, error, headers)
            case Malformed(raw):
                if raw is not None:
                    return quart.Response(raw, status=200, content_type="application/json")
                return json_response(200, self._completion(body, _PROSE_CONTENT))
            case Hang(seconds):
                await trio.sleep(seconds)
            case None:
                pass
        if recorded.headers.get("authorization") != f"Bearer {self.api_key}":
            if self.flavor == "xai":
                return json_response(400, _XAI_BAD_KEY)
            return json_response(401, _OPENAI_ERRORS[401])
        problem = _request_problem(body)
        if problem is not None:
            return json_response(400, self._bad_request(problem))
        if self._refusals:
            return json_response(200, self._completion(body, None, self._refusals.pop(0)))
        answer = json.dumps(dict(self.respond(body)), ensure_ascii=False)
        return json_response(200, self._completion(body, answer))

    def _completion(
        self, request: Any, content: str | None, refusal: str | None = None
    ) -> dict[str, Any]:
        """The ``chat.completion`` object of PROVIDERS.md §3.2 around `content`."""
        model = request.get("model", "unknown") if isinstance(request, dict) else "unknown"
        if self.usage is not None:
            prompt_tokens, completion_tokens = self.usage
        else:
            # Roughly four characters per token, enough for cost arithmetic to be non-zero.
            prompt_tokens = max(1, len(json.dumps(request, ensure_ascii=False)) // 4)
            completion_tokens = max(1, len(content or refusal or "") // 4)
        return {
            "id": f"chatcmpl-fake{next(self._ids):06d}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {
                        "role": "assistant",
                        "content": content,
                        "refusal": refusal,
                        "annotations": [],
                    },
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
                "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
                "completion_tokens_details": {
                    "reasoning_tokens": 0,
                    "audio_tokens": 0,
                    "accepted_prediction_tokens": 0,
                    "rejected_prediction_tokens": 0,
                },
            },
            "service_tier": "default",
            "system_fingerprint": "fp_fake",
        }

    def _default_error(self, status: int) -> dict[str, Any]:
        """The body this flavour's service sends with `status`."""
        if self.flavor == "xai":
            return _XAI_ERRORS.get(status, _XAI_SERVER_ERROR)
        return _OPENAI_ERRORS.get(status, _OPENAI_SERVER_ERROR)

    def _bad_request(self, message: str) -> dict[str, Any]:
        """This flavour's 400 body for an invalid request."""
        if self.flavor == "xai":
            return xai_error(message)
        return openai_error(message, "invalid_request_error")


def _request_problem(body: Any) -> str | None:
    """Why the real API would reject `body` with a 400, or None when it is acceptable."""
    if not isinstance(body, dict):
        return "We could not parse the JSON body of your request."
    if not isinstance(body.get("model"), str):
        return "you must provide a model parameter"
    if not isinstance(body.get("messages"), list) or not body["messages"]:
        return "[] is too short - 'messages'"
    response_format = body.get("response_format")
    if isinstance(response_format, dict) and response_format.get("type") == "json_schema":
        return _schema_problem(response_format.get("json_schema"))
    return None


def _schema_problem(spec: Any) -> str | None:
    """The strict-mode rules of structured outputs, checked on the root object only."""
    if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
        return "Missing required parameter: 'response_format.json_schema.name'."
    schema = spec.get("schema")
    if not spec.get("strict") or not isinstance(schema, dict):
        return None
    properties = set(schema.get("properties", {}))
    if schema.get("additionalProperties") is not False:
        return "Invalid schema: 'additionalProperties' is required to be supplied and to be false."
    if set(schema.get("required", [])) != properties:
        return "Invalid schema: 'required' is required to include every key in 'properties'."
    for name, prop in schema.get("properties", {}).items():
        enum = prop.get("enum") if isinstance(prop, dict) else None
        if enum is not None and (
            not isinstance(enum, list) or not enum or not all(isinstance(v, str) for v in enum)
        ):
            return f"Invalid schema for response_format: '{name}.enum' must be a list of strings."
        if enum is not None and len(enum) > 1000:
            return "Invalid schema: a schema may have up to 1000 enum values."
    return None
