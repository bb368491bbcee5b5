"""What each turn of a dialogue window showed, kept while the turn stays in the window.

`balto.advice.heard.Heard` answers its look-ups from the turns' texts alone: where a pattern is
affirmed in a turn depends on that turn's text, whether a screening question was confirmed on
the question's text and the answer's. A session reads its whole window again at every utterance,
and the window moves by one turn; with a `HeardMemo` the turns already read are not read again.
Why: over a full window (16 turns) need detection and red flags cost ~8 ms per utterance on the
server's one thread, nearly all of it regular expressions over turns read before.

One memo serves one reader (the same patterns ignored: `Heard`'s ``ignore``); the session keeps
one for its needs and one for its red flags, and drops what left its window (`retain`).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable

Clauses = list[tuple[str, bool]]
UNKNOWN = object()  # not worked out yet (None is an answer)


class HeardMemo:
    """Answers per turn (or per question and answer pair), and each turn's clauses."""

    def __init__(self) -> None:
        """Empty: nothing read yet."""
        self._answers: dict[tuple[str, str | tuple[str, str]], dict[Hashable, object]] = {}
        self._clauses: dict[str, Clauses] = {}

    def clauses(self, text: str, split: Callable[[str], Clauses]) -> Clauses:
        """`split(text)`, computed once per text."""
        found = self._clauses.get(text)
        if found is None:
            found = self._clauses[text] = split(text)
        return found

    def answers(self, kind: str, turn: str | tuple[str, str]) -> dict[Hashable, object]:
        """The answers of one `kind` kept for `turn` (a text, or a question's and its answer's).

        By question (a pattern or a tuple of patterns); the caller adds what it works out.
        """
        known = self._answers.get((kind, turn))
        if known is None:
            known = self._answers[kind, turn] = {}
        return known

    def retain(self, texts: Iterable[str]) -> None:
        """Forget every turn not among `texts` (it left the window)."""
        keep = set(texts)
        for key in [key for key in self._answers if not _held(key[1], keep)]:
            del self._answers[key]
        for text in [t for t in self._clauses if t not in keep]:
            del self._clauses[text]

    def __len__(self) -> int:
        """Answer tables kept (one per kind and turn or pair)."""
        return len(self._answers)


def _held(turn: str | tuple[str, str], keep: set[str]) -> bool:
    return turn in keep if isinstance(turn, str) else turn[0] in keep and turn[1] in keep
