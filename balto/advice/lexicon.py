"""Phrase patterns on normalized speech: the language the need and red-flag lists are written in.

A pattern is words separated by spaces, matched on whole words of normalized text (lower case, no
accents, punctuation as spaces). Two marks widen it:
- a word ending in ``*`` matches any word it starts (``espirr*`` → ``espirrando``, ``espirro``);
- ``~`` stands for up to three words of anything (``dor ~ cabeca`` → ``dor forte na cabeca``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from balto.catalog import normalize

_NON_WORD = re.compile(r"[^a-z0-9]+")


def spoken(text: str) -> str:
    """`text` as patterns see it: normalized words separated by single spaces."""
    return _NON_WORD.sub(" ", normalize(text)).strip()


def _words(token: str) -> str:
    """The expression for one pattern token (which may normalize to several words)."""
    if token == "~":
        return r"(?:[a-z0-9]+ ){0,3}"
    wild = token.endswith("*")
    words = spoken(token.rstrip("*")).split()
    parts = [re.escape(word) + " " for word in words]
    if wild and parts:
        parts[-1] = re.escape(words[-1]) + r"[a-z0-9]* "
    return "".join(parts)


def compile_patterns(patterns: Iterable[str]) -> re.Pattern[str]:
    """One regular expression matching any of `patterns` on `spoken` text padded with spaces."""
    alternatives = ["".join(_words(token) for token in p.split()) for p in patterns]
    # Text is matched as " words ... " so every word has a space on its left and its right.
    return re.compile(r"(?<= )(?:" + "|".join(a for a in alternatives if a) + ")")
