"""Readiness from real write outcomes: a failure counts until the next success, or goes stale."""

from laboursight_runtime.pipeline.health import WriteHealth


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_failed_write_counts_until_the_next_success_of_its_kind() -> None:
    health = WriteHealth(stale_after_s=30, clock=Clock())
    health.failed("commit", ConnectionError("broker down"))
    health.failed("handle", ConnectionError("mongod down"))
    health.succeeded("handle")
    assert health.problems() == {"commit": "ConnectionError('broker down')"}


def test_a_failure_goes_stale_when_nothing_tries_again() -> None:
    clock = Clock()
    health = WriteHealth(stale_after_s=30, clock=clock)
    health.failed("commit", ConnectionError("broker down"))
    clock.now += 29
    assert health.problems()
    clock.now += 2
    assert health.problems() == {}
