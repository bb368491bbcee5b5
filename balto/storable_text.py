r"""Text PostgreSQL can store: no NUL character and no lone UTF-16 surrogate.

JSON carries both as escapes (``"\u0000"``, ``"\ud800"``) and `json.loads` hands them on inside
Python strings. PostgreSQL's text refuses NUL, and a lone surrogate cannot be encoded as UTF-8 at
all: psycopg, the recorder's spool and hashing all raise `UnicodeEncodeError` on it. One such
frame from a device once stopped the recorder and with it the server, so the edges (device text
frames, HTTP JSON bodies) refuse decoded JSON holding either before anything keeps it; what
providers say (transcripts, an LLM's answer) is cleaned with `storable` instead, since nobody
can be told to send it again.
"""

from __future__ import annotations

import re

# json.loads joins an escaped surrogate pair into one astral character, so any code point left in
# this range is a lone half.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(text: str) -> str:
    """`text` without NUL characters and with each lone surrogate replaced by U+FFFD."""
    if not _UNSTORABLE.search(text):
        return text
    return _UNSTORABLE.sub(lambda m: "" if m.group() == "\x00" else "\ufffd", text)


def unstorable_at(value: object) -> str | None:
    """Where a decoded JSON value holds a NUL or a lone surrogate, in a string or a key.

    Returns:
        None when nowhere; else the top-level key it was found under (``""`` for a value that is
        not an object, or a top-level key that is itself unstorable).
    """
    # Iterative: an HTTP body may nest as deep as json.loads allows.
    stack: list[tuple[object, str]] = [(value, "")]
    while stack:
        item, top = stack.pop()
        if isinstance(item, str):
            if _UNSTORABLE.search(item):
                return top
        elif isinstance(item, dict):
            for key, child in item.items():
                if _UNSTORABLE.search(key):
                    return top
                stack.append((child, key if item is value else top))
        elif isinstance(item, list):
            stack.extend((child, top) for child in item)
    return None
