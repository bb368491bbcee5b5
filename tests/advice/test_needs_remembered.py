"""A need detector remembers the dialogues it read: the same needs, none mixed up."""

from __future__ import annotations

from balto.advice.needs import NeedDetector, detector_for
from balto.catalog import Catalog
from balto.providers.ports import Turn

CATALOG = Catalog.load()


def turns(*texts: str) -> list[Turn]:
    return [Turn(text, None, 4.0 * i, 4.0 * i + 3.0) for i, text in enumerate(texts)]


def codes(detector: NeedDetector, *texts: str) -> list[str]:
    return [need.code for need in detector.detect(turns(*texts)).needs]


def test_windows_read_again_show_what_a_fresh_detector_shows() -> None:
    windows = [
        ("estou com dor de cabeça",),
        ("estou com dor de cabeça", "e o nariz escorrendo"),
        ("bom dia",),
        ("me vê um dorflex",),
    ]
    fresh = [codes(NeedDetector(CATALOG), *window) for window in windows]
    assert fresh[0] != fresh[1] and fresh[0] and not fresh[2]  # the windows differ
    shared = NeedDetector(CATALOG)
    for _ in range(2):  # the second round is remembered
        assert [codes(shared, *window) for window in windows] == fresh
    many = [(f"frase {i} sem queixa",) for i in range(100)]  # more than it remembers
    for window in many:
        assert codes(shared, *window) == []
    assert [codes(shared, *window) for window in windows] == fresh


def test_one_detector_per_catalog() -> None:
    assert detector_for(CATALOG) is detector_for(CATALOG)
    assert detector_for(Catalog(list(CATALOG.products))) is not detector_for(CATALOG)
