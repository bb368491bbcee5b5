"""A learned reader: which needs and red-flag signs a dialogue window shows, read from its words.

In: the advisor's rolling window (texts, oldest first). Out: `Reading` — the labels whose
probability passes their threshold: catalog categories (needs) and red-flag codes. Pure numpy, a
fraction of a millisecond per window; nothing is downloaded.

Why it exists beside the phrase lists (`balto.advice.needs`, `balto.providers.red_flags`): those
are precise on what they list and blind to the next way of saying it (docs/BENCHMARKS.md, Advice:
every blind corpus missed signs told in words nobody listed). The reader generalises from
examples instead: ~1,400 labelled counter dialogues written by people who saw no code.

What it is: one logistic regression per label over TF-IDF features of the normalized words
(`balto.advice.lexicon.spoken`): words, word pairs, words under a negation ("nao", "sem", "nem"
a few words before) and character 3-5-grams inside words (so "queimando", "queimação" and a
misheard "kemando" share evidence). Trained offline by ``bench/train_reader.py`` (scikit-learn),
shipped as ``reader_model.npz`` (terms, idf, weights, thresholds chosen by cross-validation over
corpora). How it fails: it scores the whole window, so a denial the rules of `Heard` do not
parse still reads as the sign; on a few words it has no context (hence `MIN_SIGN_WORDS`); a need
or sign phrased unlike anything in training scores low; its categories are the default
catalog's, so a cliente's catalog with other category names gets no need from it (the phrase
lists still serve them).
"""

from __future__ import annotations

import functools
import itertools
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from balto.advice import heard_words as said
from balto.advice.heard import Heard
from balto.advice.heard_memo import HeardMemo
from balto.advice.lexicon import spoken
from balto.advice.reader_columns import WindowColumns
from balto.providers import redaction

MODEL = Path(__file__).with_name("reader_model.npz")
SIGN_PREFIX = "sinal:"
"""Labels naming a red-flag code start with this (catalog categories start with `NEED_PREFIX`)."""
NEED_PREFIX = "categoria:"
RX_ASK = "pedido:receita"
"""The label of an ask for a prescription-only drug: not a need the reader serves, but an ask."""
SMALL_TALK = "conversa"
"""The label of talk that asks for nothing (a bill that is "uma dor de cabeça", a pain now gone)."""
_CHAR_NS = (3, 4, 5)
# What `balto.providers.redaction` leaves for a CPF, a phone or an e-mail, with the word that
# announced it ("meu CPF é [CPF]"): identification dictated at the counter, not conversation —
# read, it made a complaint said in the same breath look like payment talk.
_MARKS = "|".join(re.escape(mark) for mark in (redaction.CPF, redaction.PHONE, redaction.EMAIL))
_PLACEHOLDER = re.compile(
    r"(?:\b(?:cpf|telefone|fone|celular|whats(?:app)?|e-?mail)\b\W*(?:(?:é|e|eh)\b\W*)?)?"
    f"(?:{_MARKS})",
    re.IGNORECASE,
)
MIN_SIGN_WORDS = 12
"""Fewest words (of what the window affirms) on which the reader may show a sign."""
_CACHED = 512  # windows remembered (a few sessions' worth of prefixes; a Reading is small)
_WORDS = 50_000  # words whose n-gram columns are remembered (a few MB)


def terms(text: str) -> list[str]:
    """The features of `text`: words, word pairs, negated words and in-word character n-grams."""
    words = spoken(text).split()
    return [*_word_terms(words), *(gram for word in words for gram in _grams(word))]


def _word_terms(words: list[str]) -> list[str]:
    """The features of `words` read across words: words, word pairs, negated words."""
    found = [f"w:{w}" for w in words]
    found += [f"b:{a} {b}" for a, b in itertools.pairwise(words)]
    negated_until = -1
    for i, word in enumerate(words):
        # The words `Heard` denies with, and as far: "nao tem febre", "sem dor nenhuma".
        if word in said.NEGATIONS:
            negated_until = i + said.NEGATION_REACH
        elif i <= negated_until:
            found.append(f"n:{word}")
    return found


def _grams(word: str) -> list[str]:
    """The character n-grams of `word`, space-padded (its start and end count), shortest first."""
    padded = f" {word} "
    return [f"c:{padded[i : i + n]}" for n in _CHAR_NS for i in range(len(padded) - n + 1)]


def window_text(
    texts: Sequence[str], roles: Sequence[str | None] = (), memo: HeardMemo | None = None
) -> str:
    """The window as the reader reads it: what each turn affirms (`Heard.told`), joined.

    Denied words and screening questions answered "no" are left out, so the model never has to
    learn negation from examples; with `roles` known, the attendant's words count only once
    the customer confirms them. `memo`: the session's (`balto.advice.heard_memo`).
    """
    return " . ".join(told_turns(texts, roles, memo))


def told_turns(
    texts: Sequence[str], roles: Sequence[str | None] = (), memo: HeardMemo | None = None
) -> list[str]:
    """What each turn of the window affirms, oldest first: `window_text` before it is joined."""
    unredacted = [_PLACEHOLDER.sub(" ", text) for text in texts]
    return Heard(unredacted, roles=roles, memo=memo).told()


@dataclass(frozen=True, slots=True)
class Reading:
    """The labels a window shows, each with its probability.

    Attributes:
        needs: Catalog categories (default catalog names) → probability, best first.
        signs: Red-flag codes → probability, best first.
        no_need: The window asks for nothing, whatever phrase it contains ("essa menina é uma
            febre", "a dor de dente já passou"): every category's probability (and a
            prescription ask's) is under the model's floor, or, with no category passing its
            threshold, small talk is likelier than every one of them.
    """

    needs: tuple[tuple[str, float], ...]
    signs: tuple[tuple[str, float], ...]
    no_need: bool = False


class Reader:
    """A loaded model (see the module docstring); `read` is cheap, load once per process."""

    def __init__(self, path: Path = MODEL) -> None:
        """Load the model at `path` (an .npz written by ``bench/train_reader.py``)."""
        with np.load(path, allow_pickle=False) as model:
            vocabulary = [str(term) for term in model["terms"]]
            self._idf: npt.NDArray[np.float32] = model["idf"].astype(np.float32)
            self._weights: npt.NDArray[np.float32] = model["weights"].astype(np.float32)
            self._bias: npt.NDArray[np.float32] = model["bias"].astype(np.float32)
            self.labels: tuple[str, ...] = tuple(str(label) for label in model["labels"])
            self.thresholds: npt.NDArray[np.float32] = model["thresholds"].astype(np.float32)
            self.need_floor = float(model["need_floor"]) if "need_floor" in model else 0.0
        self._index = {term: i for i, term in enumerate(vocabulary)}
        # A session's window grows a turn at a time and the need detector reads its prefixes:
        # most windows were read on an earlier utterance (oldest entries go first).
        self._cache: dict[tuple[tuple[str, ...], tuple[str | None, ...]], Reading] = {}
        # A word's n-grams' columns: a window is read again with one turn more or less, and
        # its n-grams were most of the reading (the same columns, in the same order).
        self._gram_columns: dict[str, list[int]] = {}
        # A window's columns from its turns' (`balto.advice.reader_columns`): the window moves
        # a turn at a time, and its prefixes are read too.
        self._windows = WindowColumns(self._index, self._word_columns)

    def probabilities(self, text: str) -> npt.NDArray[np.float64]:
        """Each label's probability for `text` (the order of `labels`)."""
        words = spoken(text).split()
        # The columns of `terms(text)`, in its order: the counts' order is the order the
        # scores are summed in, so the probabilities are the same to the last bit.
        found = [i for i in map(self._index.get, _word_terms(words)) if i is not None]
        for word in words:
            found += self._word_columns(word)
        return self._scored(found)

    def _scored(self, found: list[int]) -> npt.NDArray[np.float64]:
        """Each label's probability for the term columns `found` (in the order of `terms`)."""
        counts = Counter(found)
        scores = self._bias.astype(np.float64)
        if counts:
            columns = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
            tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
            values = (1.0 + np.log(tf)) * self._idf[columns]
            values /= math.sqrt(float(values @ values))
            scores = scores + values @ self._weights[columns]
        return 1.0 / (1.0 + np.exp(-scores))

    def _word_columns(self, word: str) -> list[int]:
        """The columns of `word`'s n-grams that are in the vocabulary, in `_grams` order."""
        found = self._gram_columns.get(word)
        if found is None:
            if len(self._gram_columns) >= _WORDS:
                self._gram_columns.clear()  # misheard words pile up over a server's life
            found = [i for i in map(self._index.get, _grams(word)) if i is not None]
            self._gram_columns[word] = found
        return found

    def read(
        self,
        texts: tuple[str, ...],
        roles: tuple[str | None, ...] = (),
        memo: HeardMemo | None = None,
    ) -> Reading:
        """The needs and signs the window `texts` (oldest first; `roles` when known) shows.

        `memo`: the session's (`balto.advice.heard_memo`): the turns it read before are not
        parsed again; the reading is the same with it or without.
        """
        key = (texts, roles)
        reading = self._cache.get(key)
        if reading is None:
            if len(self._cache) >= _CACHED:
                del self._cache[next(iter(self._cache))]
            reading = self._cache[key] = self._read(texts, roles, memo)
        return reading

    def _read(
        self, texts: tuple[str, ...], roles: tuple[str | None, ...], memo: HeardMemo | None
    ) -> Reading:
        # `probabilities(window_text(...))`, from the turns' columns: the same to the last bit.
        found, words = self._windows.columns(told_turns(texts, roles, memo))
        probs = self._scored(found)
        # On a few words the model has no context to read ("tô tremendo de frio" is not a
        # seizure): signs said that briefly are the phrase lists' to find.
        context = words >= MIN_SIGN_WORDS
        needs: list[tuple[str, float]] = []
        signs: list[tuple[str, float]] = []
        need_max = 0.0
        talk = 0.0
        for label, p, threshold in zip(self.labels, probs, self.thresholds, strict=True):
            if label.startswith(NEED_PREFIX) or label == RX_ASK:
                need_max = max(need_max, float(p))
            elif label == SMALL_TALK:
                talk = float(p)
            if p < threshold:
                continue
            if label.startswith(SIGN_PREFIX):
                if context:
                    signs.append((label.removeprefix(SIGN_PREFIX), float(p)))
            elif label.startswith(NEED_PREFIX):
                needs.append((label.removeprefix(NEED_PREFIX), float(p)))
        needs.sort(key=lambda pair: -pair[1])
        signs.sort(key=lambda pair: -pair[1])
        # Small talk vetoes when the model finds it likelier than every ask, whatever its own
        # threshold: a window the model cannot place ("comprei esse protetor ontem, dá pra
        # devolver?") is no ground for a product. Measured on 16 corpora with models that never
        # saw them (docs/BENCHMARKS.md): 2 products on small talk fewer, 2 of 634 needs lost.
        clear = not needs and talk > need_max
        no_need = clear or need_max < self.need_floor
        return Reading(tuple(needs), tuple(signs), no_need)


@functools.cache
def shared() -> Reader | None:
    """The packaged model, loaded once; None when the package ships none (then nothing is read)."""
    # MODEL is read here, not bound as a default argument: the benchmark points it elsewhere.
    return Reader(MODEL) if MODEL.exists() else None
