"""Word error rate between two transcripts of the same audio.

In: a reference and a hypothesis text. Out: (substitutions + deletions + insertions) / reference
words, on normalized words (case, accents and punctuation ignored: the two providers format
differently, and formatting is not what the comparison is about). Raises nothing.
"""

from __future__ import annotations

import re

from balto.catalog import normalize

_NON_WORD = re.compile(r"[^a-z0-9%]+")


def words(text: str) -> list[str]:
    """The normalized words of `text`."""
    return _NON_WORD.sub(" ", normalize(text)).split()


def word_error_rate(reference: str, hypothesis: str) -> float:
    """The WER of `hypothesis` against `reference`.

    Args:
        reference: The primary provider's transcript.
        hypothesis: The secondary provider's transcript.

    Returns:
        0.0 for identical word sequences; may exceed 1.0 when the hypothesis adds many words. With
        an empty reference: 0.0 when the hypothesis is empty too, else 1.0.
    """
    ref = words(reference)
    hyp = words(hypothesis)
    if not ref:
        return 0.0 if not hyp else 1.0
    # Levenshtein over words, one row at a time.
    previous = list(range(len(hyp) + 1))
    for i, ref_word in enumerate(ref, start=1):
        current = [i] + [0] * len(hyp)
        for j, hyp_word in enumerate(hyp, start=1):
            current[j] = min(
                previous[j] + 1,  # deletion
                current[j - 1] + 1,  # insertion
                previous[j - 1] + (ref_word != hyp_word),  # substitution or match
            )
        previous = current
    return previous[-1] / len(ref)
