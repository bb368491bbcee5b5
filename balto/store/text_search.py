"""Admins' searches in what was said: every word typed, regardless of case and accents.

In: the words an admin typed (``cabeca dor``). Out: SQL that is true when a text column holds
every one of those words, in any order, so ``cabeca`` finds *cabeça* and ``DIPIRONA`` finds
*Dipirona*.

PostgreSQL's own full-text search does the matching: the text folded (lower case, accents off,
with `translate`) and split into words by the ``simple`` configuration (no stemming, no stop
words), against ``plainto_tsquery`` of the typed text folded the same way, so nothing typed is
ever an operator. Migration 0025 keeps each utterance's and each suggested product's words in a
generated column, ``palavras`` (`words_of`), indexed (GIN): a search reads the index, or the
stored words of the rows a recent window leaves, and never refolds text (15 µs a row, measured).
Words rather than a phrase, since checking their order makes PostgreSQL refold every candidate;
whole words, since pieces of words need ``pg_trgm`` and the embedded PostgreSQL ships no
extension (``dipir`` finds nothing). docs/BENCHMARKS.md, *History at scale*, measures it.
"""

from __future__ import annotations

# Portuguese letters with diacritics (and a few of Spanish and French names), capitals included:
# `lower` leaves accented capitals alone under the C locale.
_ACCENTED = "áàâãäéèêëíìîïóòôõöúùûüçñÁÀÂÃÄÉÈÊËÍÌÎÏÓÒÔÕÖÚÙÛÜÇÑ"
_PLAIN = "aaaaaeeeeiiiiooooouuuucnaaaaaeeeeiiiiooooouuuucn"
assert len(_ACCENTED) == len(_PLAIN)


def folded(expression: str) -> str:
    """SQL for `expression` in lower case without accents (an SQL expression, never user text)."""
    return f"translate(lower({expression}), '{_ACCENTED}', '{_PLAIN}')"


def words_of(column: str) -> str:
    """The words of `column`: migration 0025's generated ``palavras`` columns are this."""
    return f"to_tsvector('simple'::regconfig, {folded(column)})"


def has_words(alias: str) -> str:
    """SQL: the row `alias` (of segments or recommendations) holds every word of the next ``%s``.

    Text with no word in it (``!!!``) matches nothing.
    """
    return f"{alias}.palavras @@ plainto_tsquery('simple'::regconfig, {folded('%s')})"
