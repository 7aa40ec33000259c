"""The pure risk-profile decision: when an entity's level changes and when it alerts."""

from typing import Any

from laboursight_risk.profile import apply
from laboursight_schemas.findings import FindingsComputed
from laboursight_screening.handlers import findings_event
from tests.factories import BONDED_SUPPLIER, CLEAN_SUPPLIER, supplier, supplier_event


def computed(raw: dict[str, Any], end: str = "2026-06-30") -> FindingsComputed:
    period = {"start": end[:4] + "-01-01", "end": end}
    return findings_event(supplier_event({**raw, "period": period})).data


def same_entity(raw: dict[str, Any]) -> dict[str, Any]:
    return supplier(raw, supplier=CLEAN_SUPPLIER["supplier"])


def test_first_high_risk_disclosure_raises_one_alert() -> None:
    profile, alert = apply("t", None, computed(same_entity(BONDED_SUPPLIER)))
    assert profile is not None
    assert alert is not None
    assert profile.risk_level == alert.risk_level == "critical"
    assert alert.previous_risk_level is None
    assert "retention_of_identity_documents" in alert.indicators


def test_staying_at_the_same_level_does_not_alert_again() -> None:
    first, _ = apply("t", None, computed(same_entity(BONDED_SUPPLIER), end="2026-03-31"))
    second, alert = apply("t", first, computed(same_entity(BONDED_SUPPLIER), end="2026-06-30"))
    assert second is not None
    assert second.version == 1
    assert alert is None


def test_clean_disclosure_lowers_the_level_and_a_relapse_alerts_again() -> None:
    bad, _ = apply("t", None, computed(same_entity(BONDED_SUPPLIER), end="2026-03-31"))
    clean, none = apply("t", bad, computed(CLEAN_SUPPLIER, end="2026-06-30"))
    assert clean is not None
    assert clean.risk_level == "low"
    assert none is None
    _, relapse = apply("t", clean, computed(same_entity(BONDED_SUPPLIER), end="2026-09-30"))
    assert relapse is not None
    assert relapse.previous_risk_level == "low"


def test_an_older_period_arriving_late_changes_nothing() -> None:
    current, _ = apply("t", None, computed(CLEAN_SUPPLIER, end="2026-06-30"))
    late, alert = apply("t", current, computed(same_entity(BONDED_SUPPLIER), end="2025-12-31"))
    assert late is None
    assert alert is None


def test_alert_ids_are_deterministic_for_replay() -> None:
    event = computed(same_entity(BONDED_SUPPLIER))
    _, first = apply("t", None, event)
    _, again = apply("t", None, event)
    assert first is not None
    assert again is not None
    assert first.alert_id == again.alert_id
