"""An entity's own risk: when its level changes, and the alerts its own disclosures raise."""

from laboursight_schemas.findings import AlertRaised, AlertUpdated, Indicator
from tests.risk.builders import Settled, supplier

BONDAGE: tuple[Indicator, ...] = ("retention_of_identity_documents", "debt_bondage")
SUP = ("supplier", "SUP-1")


async def test_a_first_bonded_disclosure_raises_one_alert_of_each_type() -> None:
    settled = Settled()
    raised = await settled.apply(supplier("SUP-1", "critical", indicators=BONDAGE))
    assert [(type(a), a.alert_type) for a in raised] == [
        (AlertRaised, "risk_level"),
        (AlertRaised, "strong_indicator"),
        (AlertRaised, "forced_labour"),
    ]
    assert {(a.risk_level, a.previous_risk_level, a.entity_id) for a in raised} == {
        ("critical", None, "SUP-1")
    }
    assert all(a.indicators == list(BONDAGE) for a in raised)
    assert settled[SUP].risk_level == "critical"


async def test_staying_at_the_same_level_on_the_same_evidence_alerts_nothing() -> None:
    settled = Settled()
    await settled.apply(supplier("SUP-1", "critical", indicators=BONDAGE, end="2026-03-31"))
    assert await settled.apply(supplier("SUP-1", "critical", indicators=BONDAGE)) == []
    assert settled[SUP].version == 1
    assert settled.alert("supplier", "SUP-1").revision == 0


async def test_a_clean_disclosure_resolves_and_a_relapse_reopens() -> None:
    settled = Settled()
    await settled.apply(supplier("SUP-1", "critical", indicators=BONDAGE, end="2026-03-31"))
    resolved = await settled.apply(supplier("SUP-1", "low", end="2026-06-30"))
    assert settled[SUP].risk_level == "low"
    assert [
        (a.alert_type, a.change, a.status) for a in resolved if isinstance(a, AlertUpdated)
    ] == [
        ("risk_level", "resolved", "resolved"),
        ("strong_indicator", "resolved", "resolved"),
        ("forced_labour", "resolved", "resolved"),
    ]
    (relapse,) = await settled.apply(supplier("SUP-1", "high", end="2026-09-30", likely=False))
    assert isinstance(relapse, AlertUpdated)
    assert (relapse.alert_type, relapse.change, relapse.status, relapse.revision) == (
        "risk_level",
        "reopened",
        "open",
        2,
    )
    assert (relapse.risk_level, relapse.previous_risk_level) == ("high", "low")


async def test_an_older_period_arriving_late_changes_nothing() -> None:
    settled = Settled()
    await settled.apply(supplier("SUP-1", "low", end="2026-06-30"))
    late = await settled.apply(supplier("SUP-1", "critical", end="2025-12-31"))
    assert late == []
    assert settled[SUP].risk_level == "low"
    assert settled[SUP].version == 0


async def test_context_is_shown_on_the_profile_but_never_named_as_a_reason() -> None:
    settled = Settled()
    raised = await settled.apply(
        supplier("SUP-1", "high", indicators=("high_risk_origin_good", *BONDAGE))
    )
    own = settled[SUP].own
    assert own is not None
    assert "high_risk_origin_good" in own.indicators
    for alert in raised:
        assert "high_risk_origin_good" not in alert.indicators
        assert "high_risk_origin_good" not in {r.indicator for r in alert.reasons}


async def test_alert_ids_derive_from_the_entity_and_the_type_alone() -> None:
    event = supplier("SUP-1", "critical", indicators=BONDAGE)
    first = await Settled().apply(event)
    again = await Settled().apply(supplier("SUP-1", "high", indicators=BONDAGE))
    assert [a.alert_id for a in first] == [a.alert_id for a in again]
    assert [a.dedupe_key for a in first] == [
        "t/supplier/SUP-1/risk_level",
        "t/supplier/SUP-1/strong_indicator",
        "t/supplier/SUP-1/forced_labour",
    ]


async def test_the_name_and_country_are_the_latest_disclosed() -> None:
    settled = Settled()
    (alert, *_) = await settled.apply(
        supplier("SUP-1", "high", name="Harbour Garments", country="MY", end="2026-03-31")
    )
    assert (alert.entity_name, alert.country) == ("Harbour Garments", "MY")
    assert "Supplier SUP-1 (Harbour Garments, MY)" in alert.summary
    await settled.apply(supplier("SUP-1", "high", end="2026-06-30"))
    assert (settled[SUP].name, settled[SUP].country) == ("Harbour Garments", "MY")
    await settled.apply(supplier("SUP-1", "high", name="Harbour Gloves", end="2026-09-30"))
    assert (settled[SUP].name, settled[SUP].country) == ("Harbour Gloves", "MY")
