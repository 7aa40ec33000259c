from datetime import timedelta

import pytest

from laboursight_notify.model import Attempt, Delivery, Endpoint, reaches, recipients
from laboursight_schemas.findings import RiskLevel

from .fakes import T0, alert_event, subscription


@pytest.mark.parametrize(
    ("risk_level", "minimum", "expected"),
    [
        ("critical", "high", True),
        ("high", "high", True),
        ("medium", "high", False),
        ("low", "low", True),
        ("high", "critical", False),
        ("critical", "critical", True),
    ],
)
def test_an_alert_reaches_thresholds_at_or_below_its_level(
    risk_level: RiskLevel, minimum: RiskLevel, expected: bool
) -> None:
    assert reaches(risk_level, minimum) is expected


def test_recipients_are_the_alerts_tenant_at_or_above_their_threshold() -> None:
    high = subscription("high", min_risk_level="high")
    critical = subscription("critical", min_risk_level="critical")
    other_tenant = subscription("other", tenant_id="tenant-b", min_risk_level="low")

    chosen = recipients(alert_event(risk_level="high"), [high, critical, other_tenant])

    assert chosen == [high]


@pytest.mark.parametrize(
    ("attempt", "succeeded", "retryable"),
    [
        (Attempt(status_code=200), True, False),
        (Attempt(status_code=204), True, False),
        (Attempt(error="ConnectError: refused"), False, True),
        (Attempt(status_code=500), False, True),
        (Attempt(status_code=503), False, True),
        (Attempt(status_code=429), False, True),
        (Attempt(status_code=408), False, True),
        (Attempt(status_code=400), False, False),
        (Attempt(status_code=401), False, False),
        (Attempt(status_code=404), False, False),
        (Attempt(status_code=410), False, False),
        (Attempt(status_code=301), False, False),
    ],
)
def test_retry_classification(attempt: Attempt, succeeded: bool, retryable: bool) -> None:
    assert (attempt.succeeded, attempt.retryable) == (succeeded, retryable)


def test_a_delivery_owed_carries_the_event_as_sent_and_its_horizon() -> None:
    event = alert_event("evt-9", time=T0 - timedelta(seconds=2))
    sub = subscription("sub-1")

    delivery = Delivery.owed(event, sub, at=T0, horizon=timedelta(hours=24))

    assert delivery.id == "evt-9:sub-1"
    assert type(event).model_validate_json(delivery.body) == event
    assert (delivery.alert_time, delivery.recorded_at, delivery.expires_at) == (
        event.time,
        T0,
        T0 + timedelta(hours=24),
    )
    assert (delivery.tenant_id, delivery.alert_id, delivery.url, delivery.attempts) == (
        "tenant-a",
        "alert-evt-9",
        "https://hooks.example/sub-1",
        0,
    )
    assert delivery.endpoint == Endpoint("tenant-a", "https://hooks.example/sub-1")


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://hooks.example/a/b?token=x", "hooks.example"),
        ("http://user:pass@127.0.0.1:8080/hook", "127.0.0.1:8080"),
        ("https://[::1]:9000/", "[::1]:9000"),
    ],
)
def test_an_endpoints_host_names_no_credentials_nor_path(url: str, host: str) -> None:
    assert Endpoint("tenant-a", url).host == host
