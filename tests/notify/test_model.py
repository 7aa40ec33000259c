import pytest

from laboursight_notify.model import Attempt, reaches, recipients
from laboursight_schemas.findings import RiskLevel

from .fakes import alert_event, subscription


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
