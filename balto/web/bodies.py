"""JSON request bodies: the object itself and its text fields; bad values raise `FieldError`."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from quart import request

from balto.storable_text import unstorable_at
from balto.web.errors import FieldError

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_RAZAO_SOCIAL = 200  # a cliente's legal name, at registration and when corrected


async def json_body() -> Any:
    r"""The request body parsed as JSON whatever its Content-Type; None when it is not JSON.

    Parsed from the bytes: Quart's ``get_json(silent=True)`` decodes the body as UTF-8 first and
    lets a non-UTF-8 body escape as a `UnicodeDecodeError` (a 500).

    Raises:
        FieldError: The JSON holds a NUL or a lone surrogate (``"\u0000"``, ``"\ud800"``), which
            nothing could store; the field is the top-level key it is under.
    """
    raw = await request.get_data(as_text=False)
    try:
        body = json.loads(raw)  # bytes: UTF-8, -16 or -32, as RFC 8259 allows
    except (ValueError, RecursionError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        return None
    if (where := unstorable_at(body)) is not None:
        field = where[:80] or "body"  # a key is the client's text: echoed back bounded
        raise FieldError(field, f"{field}: texto com caractere nulo ou inválido")
    return body


async def json_object() -> dict[str, Any]:
    """The request body as a JSON object (400 for anything else)."""
    body = await json_body()
    if not isinstance(body, dict):
        raise FieldError("body", "o corpo deve ser um objeto JSON")
    return body


def text_field(body: dict[str, Any], field: str, max_len: int) -> str:
    """A required, non-empty text field of at most `max_len` characters, stripped."""
    value = body.get(field)
    if value is None:
        raise FieldError(field, f"campo obrigatório: {field}")
    if not isinstance(value, str):
        raise FieldError(field, f"{field} deve ser texto")
    value = value.strip()
    if not value:
        raise FieldError(field, f"{field} não pode ser vazio")
    if len(value) > max_len:
        raise FieldError(field, f"{field} excede {max_len} caracteres")
    return value


def name_field(body: dict[str, Any], field: str, max_len: int) -> str:
    """A required name (`text_field`) with its inner runs of spaces made one, as people type."""
    return " ".join(text_field(body, field, max_len).split())


def email_field(body: dict[str, Any], field: str = "email") -> str:
    """A required e-mail address (one ``@``, a dot in the domain, no spaces; at most 254)."""
    value = text_field(body, field, 254)
    if not _EMAIL.match(value):
        raise FieldError(field, f"{field} inválido")
    return value


def optional_uuid_field(body: dict[str, Any], field: str) -> str | None:
    """An optional UUID field (absent or null: None), as PostgreSQL spells it."""
    value = body.get(field)
    if value is None:
        return None
    if not isinstance(value, str):
        raise FieldError(field, f"{field} deve ser um UUID ou null")
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise FieldError(field, f"{field} deve ser um UUID ou null") from None


def telefone_field(body: dict[str, Any], field: str = "telefone") -> str:
    """A required Brazilian phone number with its area code: its 10 to 13 digits, as stored."""
    digits = re.sub(r"\D", "", text_field(body, field, 30))
    if not 10 <= len(digits) <= 13:
        raise FieldError(field, f"{field} deve ter de 10 a 13 dígitos (com DDD)")
    return digits
