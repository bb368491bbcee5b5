"""What the need readers read without: a customer telling a condition or a medicine allergy.

In: a turn's text (and, for allergies, the session's catalog). Out: the same text with those
words blanked, punctuation and every other word kept, so questions and clauses read as before
(`balto.advice.needs`). Why: "sou alérgica a dipirona" is a caution (`balto.advice.cautions`),
not an ask for an antiallergic nor for dipirona; and the learned reader, trained on asks and
small talk, read "tô com azia, tenho pressão alta" as small talk. Raises nothing.
"""

from __future__ import annotations

import functools
import re

from balto.advice.cautions_table import IGNORED, SYNONYMS, UNSAID_PHRASES
from balto.advice.lexicon import compile_patterns, spoken
from balto.catalog import Catalog

# Every condition's phrases at once, for `unsaid`.
_ANY_CONDITION = compile_patterns(UNSAID_PHRASES)
_WORD = re.compile(r"\w+")
# What every medicine allergy `medicine_allergies` finds is said with: most turns have none.
_ALLERGY_CUE = re.compile(r"al[eé]rg|n[aã]o\s+(?:posso|pode|podia|consigo|devo)", re.IGNORECASE)
_UNSAID = 4096  # turns kept: a few sessions' windows
_CATALOGS = 8  # catalogs whose allergy pattern is kept: the clientes' few


def unsaid(text: str) -> str:
    """`text` with the words that tell a condition blanked ("tenho pressão alta" → "tenho").

    For the learned reader's veto (`balto.advice.needs`): trained on asks and small talk, not
    on customers telling their conditions, it read "tô com azia, tenho pressão alta" as small
    talk. Punctuation and every other word stay, so questions and clauses read as before; a
    text telling no condition is returned as it is.
    """
    return blank(text, _ANY_CONDITION)


def allergies(text: str, pattern: re.Pattern[str]) -> str:
    """`text` without what tells an allergy to a medicine (`pattern`: `medicine_allergies`)."""
    return blank(text, pattern) if _ALLERGY_CUE.search(text) else text


@functools.lru_cache(maxsize=_UNSAID)
def blank(text: str, pattern: re.Pattern[str]) -> str:
    """`text` with the words `pattern` finds (on `spoken` words, space-padded) blanked."""
    tokens = list(_WORD.finditer(text))
    # one word per token, so a match maps back to tokens ("a_b" and "中" are one word each too)
    words = [spoken(token.group()).replace(" ", "") or "0" for token in tokens]
    line = " " + " ".join(words) + " "
    found = list(pattern.finditer(line))
    if not found:
        return text
    # the character where each word starts in `line`, to map a match back to tokens
    starts, at = [], 1
    for word in words:
        starts.append(at)
        at += len(word) + 1
    out, last = [], 0
    for match in found:
        inside = [k for k, s in enumerate(starts) if match.start() <= s < match.end()]
        if not inside:
            continue
        first, final = tokens[inside[0]], tokens[inside[-1]]
        out.append(text[last : first.start()])
        out.append(" " * (final.end() - first.start()))
        last = final.end()
    out.append(text[last:])
    return "".join(out)


@functools.lru_cache(maxsize=_CATALOGS)
def medicine_allergies(catalog: Catalog) -> re.Pattern[str]:
    """What tells an allergy to one of `catalog`'s medicines (or one the synonyms name).

    Made once per catalog (the last few kept): every session's need detector asks for it.

    "sou alérgica a dipirona", "novalgina me deu alergia": a caution, not an ask for an
    antiallergic, so the needs are read without them (`balto.advice.needs`); "alergia a
    poeira" stays a need. Matches `spoken` text padded with spaces, as the need lists do.
    """
    words: set[str] = {word for word in SYNONYMS if " " not in word}
    for product in catalog.products:
        for text in (product.nome, product.categoria):
            for word in spoken(text).split():
                if len(word) >= 4 and word.isalpha() and word not in IGNORED:
                    words.add(word)
    names = "|".join(re.escape(word) for word in sorted(words, key=lambda w: (-len(w), w)))
    return re.compile(
        r"(?<= )(?:alergi[a-z]* (?:a|ao|aos|as|de|da|do|das|dos|com|pela|pelo|por) "
        rf"(?:(?:o|a|os|as|um|uma) )?(?:anti )?(?:{names})"
        rf"|(?:{names}) (?:me |que )?(?:da|deu|dao|davam?) alergia"
        r"|nao (?:posso|pode|podia|consigo|devo) (?:tomar|usar) "
        rf"(?:(?:o|a|os|as|um|uma|nenhum|nenhuma) )?(?:{names}))(?= )"
    )
