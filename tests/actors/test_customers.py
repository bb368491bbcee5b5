"""The session's atendimentos by the audio clock (`actors.customers.Customers`)."""

from __future__ import annotations

from actors.customers import KEPT, Customers


def test_an_utterance_belongs_to_the_customer_being_served_when_it_began() -> None:
    customers = Customers()
    assert customers.at(0.0) == customers.at(100.0) == 0  # no command: the session's first
    customers.next(10.0)
    customers.next(25.0)
    assert [customers.at(t) for t in (9.9, 10.0, 24.0, 25.0, 300.0)] == [0, 1, 1, 2, 2]


def test_more_commands_than_kept_still_count_every_customer() -> None:
    customers = Customers()
    for n in range(KEPT + 10):
        customers.next(float(n))
    assert len(customers.began) == KEPT
    assert customers.at(1e9) == KEPT + 10
    assert customers.at(float(KEPT + 5)) == KEPT + 6
