"""The session's attendant cell: a suggestion is credited to whoever was declared when its
utterance began, not to whoever is declared when its advice comes back."""

from __future__ import annotations

from actors.attendant import KEPT, Attendant


def test_each_moment_of_the_audio_has_the_name_declared_then() -> None:
    cell = Attendant()
    assert cell.at(0.0) is None and cell.at(99.0) is None
    cell.declare("Ana Paula", 0.0)
    cell.declare(None, 3.8)  # she signs out between two customers
    cell.declare("Bia", 9.5)
    assert cell.nome == "Bia"
    assert [cell.at(t) for t in (0.0, 2.9, 3.8, 4.2, 9.4, 9.5, 30.0)] == [
        "Ana Paula",
        "Ana Paula",
        None,
        None,
        None,
        "Bia",
        "Bia",
    ]


def test_a_name_given_before_any_declaration_holds_throughout() -> None:
    assert Attendant("Bia").at(12.0) == "Bia"


def test_old_declarations_fall_away_and_what_they_left_holds_before_the_rest() -> None:
    cell = Attendant()
    for i in range(KEPT + 2):
        cell.declare(f"A{i}", float(i))
    assert len(cell.declared) == KEPT
    assert cell.at(0.5) == "A1"  # older than every declaration kept: the last one dropped
    assert cell.at(KEPT + 1.0) == f"A{KEPT + 1}"
    assert cell.at(5.0) == "A5"
