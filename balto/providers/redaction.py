"""Personal data out of text: CPF numbers, phone numbers and e-mail addresses.

In: any text about to leave for an LLM or to be stored. Out: the same text with each such item
replaced by a placeholder (``[CPF]``, ``[TELEFONE]``, ``[EMAIL]``). Raises nothing.

Customers dictate these at the counter, so the patterns cover what an STT writes for speech as well
as typed forms: digit groups separated by spaces, dots or dashes, and e-mails spoken as
"fulano arroba gmail ponto com". False positives are cheap (a product suggestion does not need a
number of eight or more digits); false negatives leak personal data, so the patterns lean wide.
"""

from __future__ import annotations

import re

from balto.storable_text import storable

CPF = "[CPF]"
PHONE = "[TELEFONE]"
EMAIL = "[EMAIL]"

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
# "joao ponto silva arroba gmail ponto com" as an STT writes it.
_SPOKEN_EMAIL = re.compile(
    r"\b[\w.+-]+(?:\s+ponto\s+[\w+-]+)*\s+arroba\s+[\w-]+(?:\s*(?:\.|ponto)\s*[\w-]+)+",
    re.IGNORECASE | re.UNICODE,
)
# 000.000.000-00, 00000000000, 000 000 000 00: eleven digits in the CPF's 3-3-3-2 grouping.
_CPF = re.compile(r"(?<!\d)\d{3}[.\s]?\d{3}[.\s]?\d{3}[-.\s/]?\d{2}(?!\d)")
# +55 (11) 99999-8888, 11 9 9999 8888, 9999-8888: an optional country code and area code, an
# optional leading 9, then 4 + 4 digits.
_PHONE = re.compile(
    r"(?<!\d)(?:\+?\s?55[\s-]?)?(?:\(?\d{2}\)?[\s-]?)?(?:9[\s.-]?)?\d{4}[\s.-]?\d{4}(?!\d)"
)
# Whatever the grouping, a run of 8+ digits with separators is somebody's number.
_LONG_NUMBER = re.compile(r"(?<!\d)\d(?:[\s.-]?\d){7,}(?!\d)")


def redact(text: str) -> str:
    """`text` with CPF numbers, phone numbers and e-mail addresses replaced by placeholders.

    Also made storable (`balto.storable_text.storable`): this is the one pass every transcript
    takes before the database, an LLM or the device.

    Args:
        text: Any text.

    Returns:
        The redacted text; unchanged when it held none of them.
    """
    text = _EMAIL.sub(EMAIL, storable(text))
    text = _SPOKEN_EMAIL.sub(EMAIL, text)
    text = _CPF.sub(CPF, text)
    text = _PHONE.sub(PHONE, text)
    return _LONG_NUMBER.sub(PHONE, text)
