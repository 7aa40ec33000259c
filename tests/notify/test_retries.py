"""The retry policy: what an attempt's answer makes of a delivery, and when it is due again."""

from dataclasses import replace
from datetime import timedelta

import pytest
from tenacity import wait_exponential, wait_fixed

from laboursight_notify.model import Attempt
from laboursight_notify.retries import RetryPolicy, Settlement

from .fakes import T0, owed

FAILED = Attempt(status_code=503, error="HTTP 503")


def test_a_success_is_delivered() -> None:
    assert RetryPolicy().after(owed(), Attempt(status_code=204), T0) == Settlement("delivered")


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 422])
def test_a_final_answer_is_dead_at_once(status: int) -> None:
    assert RetryPolicy().after(owed(), Attempt(status_code=status), T0) == Settlement("dead")


def test_each_failure_waits_longer() -> None:
    policy = RetryPolicy(wait=wait_exponential(multiplier=1, max=60))
    delivery = owed(horizon_s=3600)

    due = [policy.after(replace(delivery, attempts=n), FAILED, T0).due_at for n in range(8)]

    assert due == [T0 + timedelta(seconds=s) for s in (1, 2, 4, 8, 16, 32, 60, 60)]


def test_the_default_backoff_is_jittered_below_its_exponential_bound() -> None:
    policy = RetryPolicy()
    delivery = replace(owed(horizon_s=86_400), attempts=3)

    waits = {policy.after(delivery, FAILED, T0).due_at for _ in range(50)}

    assert len(waits) > 1
    assert all(w is not None and T0 <= w <= T0 + timedelta(seconds=8) for w in waits)


def test_the_last_retry_falls_on_the_horizon() -> None:
    policy = RetryPolicy(wait=wait_fixed(600))
    delivery = owed(horizon_s=100)

    assert policy.after(delivery, FAILED, T0 + timedelta(seconds=30)) == Settlement(
        "pending", delivery.expires_at
    )


def test_a_failure_at_the_horizon_is_dead() -> None:
    policy = RetryPolicy(wait=wait_fixed(1))
    delivery = owed(horizon_s=100)

    assert policy.after(delivery, FAILED, delivery.expires_at) == Settlement("dead")
    assert policy.after(delivery, Attempt(error="ConnectError"), delivery.expires_at).status == (
        "dead"
    )
