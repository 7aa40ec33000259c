"""Notify's settings: ``NOTIFY_*`` variables, defaults for empty ones, and what they build."""

from dataclasses import replace
from datetime import timedelta

import pytest
from pydantic import ValidationError

from laboursight_notify.model import Attempt
from laboursight_notify.settings import NotifySettings

from .fakes import T0, owed

FAILED = Attempt(status_code=503)


def test_the_defaults_retry_for_a_day(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOTIFY_RETRY_HORIZON_S", "")

    settings = NotifySettings()

    assert settings.retry_horizon == timedelta(hours=24)
    assert (settings.lease_s, settings.attempt_timeout_s, settings.poll_interval_s) == (30, 10, 1)


def test_notify_variables_set_the_policy_and_the_circuits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOTIFY_RETRY_HORIZON_S", "60")
    monkeypatch.setenv("NOTIFY_RETRY_FIRST_WAIT_S", "2")
    monkeypatch.setenv("NOTIFY_RETRY_MAX_WAIT_S", "5")
    monkeypatch.setenv("NOTIFY_CIRCUIT_FAILURES", "1")

    settings = NotifySettings()
    policy, circuits = settings.retry_policy(), settings.circuits()
    delivery = owed(horizon_s=3600)

    assert settings.retry_horizon == timedelta(seconds=60)
    for attempts in range(10):
        due = policy.after(replace(delivery, attempts=attempts), FAILED, T0).due_at
        assert due is not None
        assert T0 <= due <= T0 + timedelta(seconds=5)
    ticket = circuits.admit(delivery.endpoint, T0)
    assert ticket is not None
    assert circuits.record(ticket, healthy=False, now=T0) is not None


def test_an_attempt_must_end_before_its_lease(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOTIFY_ATTEMPT_TIMEOUT_S", "30")
    monkeypatch.setenv("NOTIFY_LEASE_S", "30")

    with pytest.raises(ValidationError, match="NOTIFY_ATTEMPT_TIMEOUT_S"):
        NotifySettings()
