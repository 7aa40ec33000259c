from datetime import timedelta

import pytest

from laboursight_notify.model import (
    Attempt,
    Delivery,
    Endpoint,
    Filters,
    Subscription,
    reaches,
    recipients,
)
from laboursight_schemas.findings import RiskLevel

from .fakes import SECRET, T0, alert_event, alert_updated, subscription


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

    event = alert_event(risk_level="high")

    chosen = recipients([event], [high, critical, other_tenant])

    assert chosen == [(event, high)]


@pytest.mark.parametrize(
    ("filters", "admitted"),
    [
        (Filters(), True),
        (Filters(min_risk_level="critical"), False),
        (Filters(countries=frozenset({"MY", "TH"})), True),
        (Filters(countries=frozenset({"TH"})), False),
        (Filters(entity_ids=frozenset({"supplier-1"})), True),
        (Filters(entity_ids=frozenset({"supplier-2"})), False),
        (Filters(indicators=frozenset({"debt_bondage", "isolation"})), True),
        (Filters(indicators=frozenset({"isolation"})), False),
        (Filters(alert_types=frozenset({"risk_level", "forced_labour"})), True),
        (Filters(alert_types=frozenset({"strong_indicator"})), False),
        (Filters(min_risk_level="medium", countries=frozenset({"MY"})), True),
        (Filters(countries=frozenset({"MY"}), alert_types=frozenset({"forced_labour"})), False),
    ],
)
def test_every_filter_must_admit_the_alert(filters: Filters, admitted: bool) -> None:
    """The alert: high, supplier-1 in MY, withheld wages and debt bondage, a risk-level alert."""
    assert filters.admit(alert_event().data) is admitted


def test_an_alert_without_a_country_passes_no_country_filter() -> None:
    unknown = alert_event(country=None).data

    assert Filters().admit(unknown)
    assert not Filters(countries=frozenset({"MY"})).admit(unknown)


def test_a_revision_goes_to_those_told_that_take_updates_and_to_those_it_first_matches() -> None:
    raised = alert_event("evt-1", risk_level="high")
    updated = alert_updated(raised, "evt-2", risk_level="critical")
    told = subscription("told", min_risk_level="critical")
    told_no_updates = subscription("told-quiet", updates=False)
    first_match = subscription("first-match", min_risk_level="critical", updates=False)
    never = subscription("never", countries={"TH"})
    everyone = [told, told_no_updates, first_match, never]
    before = {("told", raised.data.alert_id), ("told-quiet", raised.data.alert_id)}

    chosen = recipients([updated], everyone, before)

    assert [s.id for _, s in chosen] == ["told", "first-match"]


def test_a_raise_tells_within_the_batch() -> None:
    raised = alert_event("evt-1", risk_level="high")
    resolved = alert_updated(raised, "evt-2", change="resolved", risk_level="low")
    high = subscription("high")

    assert recipients([raised, resolved], [high]) == [(raised, high), (resolved, high)]
    assert recipients([resolved], [high]) == []


def test_the_previous_secret_signs_until_its_overlap_ends() -> None:
    rotated = Subscription(
        "sub-1",
        "tenant-a",
        "https://hooks.example/sub-1",
        "whsec_bmV3",
        previous_secret=SECRET,
        previous_secret_until=T0 + timedelta(hours=24),
    )

    assert rotated.signing_secrets(T0) == ("whsec_bmV3", SECRET)
    assert rotated.signing_secrets(T0 + timedelta(hours=24)) == ("whsec_bmV3",)
    assert subscription().signing_secrets(T0) == (SECRET,)


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
        (Attempt(error="refused: the URL has a loopback address", refused=True), False, False),
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
    assert (delivery.event_time, delivery.recorded_at, delivery.expires_at) == (
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
