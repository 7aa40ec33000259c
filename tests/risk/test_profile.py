"""An entity's own risk: when its level changes and when it alerts."""

from laboursight_schemas.findings import Indicator
from tests.risk.builders import Settled, supplier

BONDAGE: tuple[Indicator, ...] = ("retention_of_identity_documents", "debt_bondage")
SUP = ("supplier", "SUP-1")


async def test_first_high_risk_disclosure_raises_one_alert() -> None:
    settled = Settled()
    (alert,) = await settled.apply(supplier("SUP-1", "critical", indicators=BONDAGE))
    assert settled[SUP].risk_level == alert.risk_level == "critical"
    assert alert.previous_risk_level is None
    assert alert.indicators == list(BONDAGE)
    assert alert.entity_id == "SUP-1"


async def test_staying_at_the_same_level_does_not_alert_again() -> None:
    settled = Settled()
    await settled.apply(supplier("SUP-1", "critical", indicators=BONDAGE, end="2026-03-31"))
    assert await settled.apply(supplier("SUP-1", "critical", indicators=BONDAGE)) == []
    assert settled[SUP].version == 1


async def test_clean_disclosure_lowers_the_level_and_a_relapse_alerts_again() -> None:
    settled = Settled()
    await settled.apply(supplier("SUP-1", "critical", indicators=BONDAGE, end="2026-03-31"))
    assert await settled.apply(supplier("SUP-1", "low", end="2026-06-30")) == []
    assert settled[SUP].risk_level == "low"
    (relapse,) = await settled.apply(supplier("SUP-1", "high", end="2026-09-30"))
    assert relapse.previous_risk_level == "low"


async def test_an_older_period_arriving_late_changes_nothing() -> None:
    settled = Settled()
    await settled.apply(supplier("SUP-1", "low", end="2026-06-30"))
    late = await settled.apply(supplier("SUP-1", "critical", end="2025-12-31"))
    assert late == []
    assert settled[SUP].risk_level == "low"
    assert settled[SUP].version == 0


async def test_context_is_shown_on_the_profile_but_never_named_as_a_reason() -> None:
    settled = Settled()
    (alert,) = await settled.apply(
        supplier("SUP-1", "high", indicators=("high_risk_origin_good", *BONDAGE))
    )
    own = settled[SUP].own
    assert own is not None
    assert "high_risk_origin_good" in own.indicators
    assert "high_risk_origin_good" not in alert.indicators


async def test_alert_ids_are_deterministic_for_replay() -> None:
    event = supplier("SUP-1", "critical", indicators=BONDAGE)
    (first,) = await Settled().apply(event)
    (again,) = await Settled().apply(event)
    assert first.alert_id == again.alert_id
    assert first.dedupe_key == f"t/supplier/SUP-1/critical/{event.disclosure_id}"
