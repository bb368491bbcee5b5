"""Query-string parsing for admin routes: ids, periods, pagination; bad values raise `FieldError`.

Periods are ISO 8601 (``2026-11-25``, ``2026-11-25T13:00``, ``2026-11-25T13:00:00-03:00``);
an instant without an offset is read as UTC. ``ate`` is exclusive, except that a bare date means
the whole of that day. Years outside `YEARS` are refused: at Python's limits (years 1 and 9999) the
day after a date, or the same instant in another time zone, does not exist (a 500 before). Cursors
are opaque strings handed out as ``next_cursor``.
"""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from quart import request

from balto.storable_text import unstorable_at
from balto.store.history import Cursor, Filters
from balto.web.errors import FieldError
from balto.web.principal import scoped_cliente, scoped_loja

YEARS = (1900, 2999)
"""The years a period may name (inclusive): far from Python's limits, wide for any history."""
DEFAULT_LIMIT = 50
MAX_LIMIT = 500  # a page is built in memory; keep it small


def canonical_uuid(value: str) -> str | None:
    """`value` as PostgreSQL and the registry spell a UUID; None when it is not one.

    Python also reads upper case, braces and ``urn:uuid:``, which PostgreSQL refuses.
    """
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


def uuid_arg(name: str) -> str | None:
    """The UUID in query parameter `name`, normalised, or None when absent."""
    value = request.args.get(name)
    if value is None or value == "":
        return None
    if (canonical := canonical_uuid(value)) is None:
        raise FieldError(name, f"{name} deve ser um UUID")
    return canonical


def text_arg(name: str, max_len: int = 100) -> str | None:
    """A free-text filter in query parameter `name`, stripped; None when absent or blank.

    A NUL (``%00``) is refused with the rest: PostgreSQL cannot even compare it (a 500 before).
    """
    value = (request.args.get(name) or "").strip()
    if not value:
        return None
    if len(value) > max_len:
        raise FieldError(name, f"{name} longo demais (até {max_len} caracteres)")
    if unstorable_at(value) is not None:
        raise FieldError(name, f"{name}: texto com caractere nulo ou inválido")
    return value


def _instant(name: str, *, end: bool) -> datetime | None:
    value = request.args.get(name)
    if value is None or value == "":
        return None
    bare = len(value) == 10  # a date alone: the whole of that day
    try:
        if bare:
            day = date.fromisoformat(value)
            parsed = datetime(day.year, day.month, day.day, tzinfo=UTC)
        else:
            parsed = datetime.fromisoformat(value)
    except ValueError:
        raise FieldError(name, f"{name} deve ser uma data ISO 8601") from None
    if not YEARS[0] <= parsed.year <= YEARS[1]:
        raise FieldError(name, f"{name} deve estar entre os anos {YEARS[0]} e {YEARS[1]}")
    if bare and end:
        return parsed + timedelta(days=1)
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def period_arg() -> tuple[datetime | None, datetime | None]:
    """``desde`` and ``ate`` from the query string (module docstring); 400 when ate ≤ desde."""
    desde, ate = _instant("desde", end=False), _instant("ate", end=True)
    if desde and ate and desde >= ate:
        raise FieldError("ate", "ate deve ser posterior a desde")
    return desde, ate


def filters_arg() -> Filters:
    """``cliente_id``, ``loja_id``, ``balcao_id``, ``desde`` and ``ate`` from the query string.

    A gestor's ``cliente_id`` is its own whatever it asks (another cliente's: 403,
    `balto.web.principal.scoped_cliente`), a store's gestor's ``loja_id`` likewise.
    """
    desde, ate = period_arg()
    return Filters(
        cliente_id=scoped_cliente(uuid_arg("cliente_id")),
        loja_id=scoped_loja(uuid_arg("loja_id")),
        balcao_id=uuid_arg("balcao_id"),
        desde=desde,
        ate=ate,
    )


def limit_arg(default: int = DEFAULT_LIMIT, maximum: int = MAX_LIMIT) -> int:
    """``limit`` (1 to `maximum`, else `default`)."""
    value = request.args.get("limit")
    if value is None or value == "":
        return default
    try:
        limit = int(value)
    except ValueError:
        raise FieldError("limit", "limit deve ser um inteiro") from None
    if not 1 <= limit <= maximum:
        raise FieldError("limit", f"limit deve estar entre 1 e {maximum}")
    return limit


def cursor_arg() -> Cursor | None:
    """``cursor`` as handed out in a previous page's ``next_cursor``."""
    value = request.args.get("cursor")
    if value is None or value == "":
        return None
    try:
        at, key = json.loads(base64.urlsafe_b64decode(value.encode() + b"=="))
        cursor = Cursor(datetime.fromisoformat(at), str(key))
    except (ValueError, TypeError):
        raise FieldError("cursor", "cursor inválido") from None
    return cursor


def encode_cursor(cursor: Cursor | None) -> str | None:
    """The opaque text of `cursor`."""
    if cursor is None:
        return None
    raw = json.dumps([cursor.at.isoformat(), cursor.id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def bool_arg(name: str) -> bool | None:
    """``true``/``false`` (also ``1``/``0``, ``sim``/``nao``) or None when absent."""
    value = request.args.get(name)
    if value is None or value == "":
        return None
    lowered = value.lower()
    if lowered in ("true", "1", "sim"):
        return True
    if lowered in ("false", "0", "nao", "não"):
        return False
    raise FieldError(name, f"{name} deve ser true ou false")


def jsonable(row: dict[str, Any]) -> dict[str, Any]:
    """A database row with UUIDs as text, instants as ISO 8601 and decimals as floats."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, uuid.UUID):
            value = str(value)
        elif isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, Decimal):
            value = float(value)
        out[key] = value
    return out
