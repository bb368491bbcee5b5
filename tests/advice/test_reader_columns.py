"""The reader's remembered n-gram columns score a window exactly as its terms do."""

from __future__ import annotations

import math
import unicodedata
from collections import Counter

import numpy as np

from balto.advice import reader
from balto.advice.lexicon import spoken
from balto.catalog import normalize


def _from_terms(model: reader.Reader, text: str) -> np.ndarray:
    """The probabilities the way they were first computed: every term of `text`, looked up."""
    counts = Counter(i for i in map(model._index.get, reader.terms(text)) if i is not None)
    scores = model._bias.astype(np.float64)
    columns = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
    tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
    values = (1.0 + np.log(tf)) * model._idf[columns]
    values /= math.sqrt(float(values @ values))
    scores = scores + values @ model._weights[columns]
    return 1.0 / (1.0 + np.exp(-scores))


def test_probabilities_equal_those_of_the_terms_to_the_last_bit() -> None:
    model = reader.shared()
    assert model is not None
    said = [
        "nao tem febre , sem dor nenhuma . minha filha ta com tosse seca",
        "dor de cabeca forte desde ontem . dor de cabeca . nao passa",
        "kemando no estomago , queimacao . tem algum antiacido",
    ]
    for text in said * 2:  # the second time, every word's columns are remembered
        assert np.array_equal(model.probabilities(text), _from_terms(model, text))


def test_normalize_reads_plain_text_as_before() -> None:
    for text in ["  Dor  de CABECA\t", "febre, 39 graus!", "Cabeça", "ÁGUA  oxigenada"]:
        decomposed = "".join(
            ch
            for ch in unicodedata.normalize("NFKD", text.casefold())
            if not unicodedata.combining(ch)
        )
        assert normalize(text) == " ".join(decomposed.split())


def test_a_window_put_together_from_its_turns_has_the_columns_of_its_joined_text() -> None:
    """Word pairs and negations across turns ("... nao" . "tenho febre"), empty turns between
    them, and turns read again in another window (their columns kept) count as in one text."""
    model = reader.shared()
    assert model is not None
    windows = [
        ["dor de", "cabeca forte", "nao", "tenho febre"],
        ["", "sem", "", "dor no peito , falta de ar"],
        ["tenho febre", "dor de", "", "cabeca forte", "nao"],  # the same turns, elsewhere
        ["nao tenho nao", "febre tosse", "nem", "tosse"],
        [],
        ["", ""],
    ]
    for told in windows * 2:  # the second time, every turn's columns are remembered
        text = " . ".join(told)
        expected = [i for i in map(model._index.get, reader.terms(text)) if i is not None]
        assert model._windows.columns(told) == (expected, len(spoken(text).split()))
        assert np.array_equal(model._scored(expected), model.probabilities(text))
