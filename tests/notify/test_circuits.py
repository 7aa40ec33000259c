"""The per-endpoint circuit breakers, on a clock the tests set."""

from datetime import datetime, timedelta

from laboursight_notify.circuits import Circuits, Ticket
from laboursight_notify.model import Endpoint

from .fakes import T0

A = Endpoint("tenant-a", "https://a.example/hook")
B = Endpoint("tenant-b", "https://b.example/hook")
COOLDOWN = timedelta(seconds=30)


def circuits(*, failures_to_open: int = 3, max_in_flight: int = 2) -> Circuits:
    return Circuits(
        failures_to_open=failures_to_open, cooldown=COOLDOWN, max_in_flight=max_in_flight
    )


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def fail(breakers: Circuits, endpoint: Endpoint, now: datetime) -> datetime | None:
    ticket = breakers.admit(endpoint, now)
    assert ticket is not None
    return breakers.record(ticket, healthy=False, now=now)


def test_consecutive_failures_open_only_that_endpoints_circuit() -> None:
    breakers = circuits()

    assert fail(breakers, A, at(0)) is None
    assert fail(breakers, A, at(1)) is None
    assert fail(breakers, A, at(2)) == at(2) + COOLDOWN

    assert breakers.admit(A, at(3)) is None
    assert breakers.blocked(at(3)) == [A]
    assert breakers.open_until(A) == at(32)
    assert breakers.admit(B, at(3)) == Ticket(B)


def test_a_healthy_attempt_resets_the_count() -> None:
    breakers = circuits()
    fail(breakers, A, at(0))
    fail(breakers, A, at(1))
    ticket = breakers.admit(A, at(2))
    assert ticket is not None
    assert breakers.record(ticket, healthy=True, now=at(2)) is None

    assert fail(breakers, A, at(3)) is None
    assert fail(breakers, A, at(4)) is None
    assert breakers.blocked(at(5)) == []


def test_after_the_cooldown_one_trial_goes_and_its_success_closes_the_circuit() -> None:
    breakers = circuits()
    for n in range(3):
        fail(breakers, A, at(n))

    trial = breakers.admit(A, at(32))

    assert trial == Ticket(A, trial=True)
    assert breakers.admit(A, at(32)) is None
    assert breakers.blocked(at(32)) == [A]
    assert breakers.record(trial, healthy=True, now=at(33)) is None
    assert breakers.open_until(A) is None
    assert breakers.admit(A, at(33)) == Ticket(A)


def test_a_failed_trial_opens_the_circuit_for_another_cooldown() -> None:
    breakers = circuits()
    for n in range(3):
        fail(breakers, A, at(n))

    trial = breakers.admit(A, at(40))
    assert trial is not None

    assert breakers.record(trial, healthy=False, now=at(41)) == at(41) + COOLDOWN
    assert breakers.admit(A, at(70)) is None
    assert breakers.admit(A, at(71)) == Ticket(A, trial=True)


def test_an_attempt_never_made_frees_its_place_and_tells_nothing() -> None:
    breakers = circuits()
    for n in range(3):
        fail(breakers, A, at(n))
    trial = breakers.admit(A, at(32))
    assert trial is not None

    breakers.release(trial)

    assert breakers.admit(A, at(32)) == Ticket(A, trial=True)


def test_an_endpoint_takes_at_most_its_in_flight_limit() -> None:
    breakers = circuits(max_in_flight=2)
    first, second = breakers.admit(A, at(0)), breakers.admit(A, at(0))
    assert first is not None
    assert second is not None

    assert breakers.admit(A, at(0)) is None
    assert breakers.blocked(at(0)) == [A]
    breakers.record(first, healthy=True, now=at(1))
    assert breakers.blocked(at(1)) == []
    assert breakers.admit(A, at(1)) == Ticket(A)


def test_failures_of_attempts_already_in_flight_do_not_prolong_the_cooldown() -> None:
    breakers = circuits(failures_to_open=1, max_in_flight=3)
    first, late = breakers.admit(A, at(0)), breakers.admit(A, at(0))
    assert first is not None
    assert late is not None

    assert breakers.record(first, healthy=False, now=at(1)) == at(31)
    assert breakers.record(late, healthy=False, now=at(5)) is None
    assert breakers.open_until(A) == at(31)
