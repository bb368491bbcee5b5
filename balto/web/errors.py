"""JSON error bodies for every HTTP failure.

Shape: ``{"error": code, "message": text}``, plus ``"field"`` when one field is at fault.
"""

from __future__ import annotations

from typing import Any

from quart import Response, jsonify


def error(status: int, code: str, message: str, **extra: Any) -> tuple[Response, int]:
    """A JSON error response."""
    return jsonify({"error": code, "message": message, **extra}), status


class FieldError(Exception):
    """A request field is missing or invalid; becomes a 400 naming the field."""

    def __init__(self, field: str, message: str) -> None:
        """Name the field and what is wrong with it."""
        super().__init__(message)
        self.field = field
        self.message = message
