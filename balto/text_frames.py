"""Device text frames: size and nesting checked before any JSON parsing.

In: the text of one WebSocket text frame (the handshake, or a command after it). Out: the decoded
JSON value. Raises `TextFrameError` (with an English reason for the log) when the frame is larger
than `MAX_TEXT_BYTES`, nests arrays/objects deeper than `MAX_DEPTH`, is not JSON, or holds text
PostgreSQL cannot store (a NUL or a lone surrogate, `balto.storable_text`).

Why a depth check before `json.loads`: CPython's decoder recurses once per nesting level, so a
frame of ``"[" * 100_000`` raises `RecursionError` — not `ValueError` — from inside the parser.
The depth is found here by an iterative scan over the brackets outside strings, so no frame a
device sends can make any of our code recurse. Protocol frames are flat objects; `MAX_DEPTH`
leaves room for extensions and nothing more. Both limits are in the README.

Every frame is already capped by ``BALTO_WS_MAX_MESSAGE_BYTES`` (Hypercorn buffers it); the text
cap is lower because a text frame is parsed on the Trio thread, and 64 KiB is a hundred times the
largest command.
"""

from __future__ import annotations

import json
import re
from itertools import accumulate

from balto.errors import BaltoError
from balto.storable_text import unstorable_at

MAX_TEXT_BYTES = 64 * 1024
MAX_DEPTH = 16

# Everything but the brackets outside strings: JSON strings (an unterminated one runs to the end,
# so every character is looked at once: no retry from later quotes, linear time) and runs of
# other characters.
_NOT_BRACKETS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?|[^\[\]{}"]+', re.DOTALL)
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


class TextFrameError(BaltoError):
    """A device text frame Balto will not take: too big, nested too deep, not JSON, unstorable."""


def nesting_depth(text: str) -> int:
    """The deepest array/object nesting in `text`; brackets inside JSON strings do not count.

    No recursion and no per-character Python loop: the brackets are extracted by one regex pass
    and their running sum taken with `itertools.accumulate` (~3 ms for 64 KiB of brackets).
    Closing brackets before their opening ones can only lower the count, and a JSON parser stops
    at the first of them anyway.
    """
    brackets = _NOT_BRACKETS.sub("", text)
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0)


def parse_text_frame(
    frame: str, *, max_bytes: int = MAX_TEXT_BYTES, max_depth: int = MAX_DEPTH
) -> object:
    """Decode one device text frame as JSON, within the size and nesting limits.

    Args:
        frame: The frame's text.
        max_bytes: Largest frame accepted, in UTF-8 bytes.
        max_depth: Deepest array/object nesting accepted.

    Returns:
        The decoded JSON value (any JSON type; callers check the shape they expect).

    Raises:
        TextFrameError: The frame is too big, nested too deep, not JSON, or holds a NUL or a
            lone surrogate.
    """
    # characters <= bytes: the cheap test first, the exact one only for frames that may fit
    if len(frame) > max_bytes or len(frame.encode("utf-8", "surrogatepass")) > max_bytes:
        raise TextFrameError(f"text frame larger than {max_bytes} bytes")
    if nesting_depth(frame) > max_depth:
        raise TextFrameError(f"text frame nested deeper than {max_depth} levels")
    try:
        value = json.loads(frame)
    except ValueError as exc:
        raise TextFrameError(f"text frame is not JSON ({len(frame)} chars)") from exc
    if (where := unstorable_at(value)) is not None:
        raise TextFrameError(f"text frame holds a NUL or a lone surrogate (under {where[:40]!r})")
    return value
