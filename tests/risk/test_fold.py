"""A batch folded over the domain: what one event at a time would give, its profiles read in
three loads and its alerts in one."""

import asyncio
from collections.abc import Collection, Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from laboursight_risk.alerts import Alert
from laboursight_risk.fold import AlertKey, EntityRef, Folded, Screening, ScreeningKey, fold
from laboursight_risk.profile import Profile
from laboursight_schemas.findings import (
    AlertRaised,
    AlertUpdated,
    ChainLink,
    FindingsComputed,
    RiskLevel,
)
from tests.risk.builders import findings, recruiter, screening, supplier

SUP: EntityRef = ("tenant-a", "supplier", "SUP-1")


class Database:
    """What the fold reads and what its outcomes leave, counting the loads."""

    def __init__(self) -> None:
        self.profiles: dict[EntityRef, Profile] = {}
        self.recorded: set[ScreeningKey] = set()
        self.alerts: dict[AlertKey, Alert] = {}
        self.published: list[AlertRaised | AlertUpdated] = []
        self.loads: list[set[EntityRef]] = []
        self.alert_loads = 0

    async def load(self, refs: Collection[EntityRef]) -> dict[EntityRef, Profile]:
        self.loads.append(set(refs))
        return {r: self.profiles[r] for r in refs if r in self.profiles}

    async def load_alerts(self, keys: Collection[AlertKey]) -> dict[AlertKey, Alert]:
        self.alert_loads += 1
        return {k: self.alerts[k] for k in keys if k in self.alerts}

    async def fold(self, batch: Sequence[Screening]) -> Folded:
        self.loads, self.alert_loads = [], 0
        folded = await fold(batch, self.recorded, self.load, self.load_alerts)
        self.recorded |= {s.key for s in folded.recorded}
        self.profiles |= {(p.tenant_id, p.entity_kind, p.entity_id): p for p in folded.profiles}
        self.alerts |= {(a.tenant_id, a.alert_id): a for a in folded.alert_states}
        self.published += [r.alert.data for r in folded.alerts]
        return folded

    async def one_at_a_time(self, batch: Sequence[Screening]) -> None:
        for s in batch:
            await self.fold([s])


async def test_an_entity_twice_in_a_batch_sees_the_first_events_result() -> None:
    db = Database()
    folded = await db.fold(
        [
            screening(supplier("SUP-1", "low", end="2026-03-31")),
            screening(supplier("SUP-1", "critical", end="2026-06-30")),
            screening(supplier("SUP-1", "critical", end="2026-09-30")),
        ]
    )
    raised = [r.alert.data for r in folded.alerts]
    assert [(a.alert_type, a.previous_risk_level, a.risk_level) for a in raised] == [
        ("risk_level", "low", "critical"),
        ("forced_labour", "low", "critical"),
    ]
    assert {type(a) for a in raised} == {AlertRaised}
    (profile,) = folded.profiles
    assert (profile.risk_level, profile.version, profile.own and profile.own.period_end.month) == (
        "critical",
        2,
        9,
    )


async def test_a_recruiter_later_in_the_batch_escalates_a_supplier_linked_earlier() -> None:
    db = Database()
    rec = recruiter("REC-9", "high", placements=[("SUP-1", 300)])
    folded = await db.fold(
        [screening(supplier("SUP-1", "medium", recruiters=[("REC-9", 300, 0.75)])), screening(rec)]
    )
    assert sorted(
        (r.alert.data.entity_id, r.alert.data.alert_type, r.cause.computed.disclosure_id)
        for r in folded.alerts
    ) == [
        ("REC-9", "forced_labour", rec.disclosure_id),
        ("REC-9", "risk_level", rec.disclosure_id),
        ("REC-9", "strong_indicator", rec.disclosure_id),
        ("SUP-1", "risk_level", rec.disclosure_id),
    ]
    assert db.profiles[SUP].risk_level == "high"


async def test_a_screening_recorded_before_or_earlier_in_the_batch_is_skipped() -> None:
    db = Database()
    seen, repeated = screening(supplier("SUP-1", "high")), screening(supplier("SUP-2", "high"))
    await db.fold([seen])
    again = Screening("tenant-a", "another-event-id", seen.correlation_id, seen.computed)
    folded = await db.fold([again, repeated, repeated])
    assert folded.recorded == (repeated,)
    assert {r.alert.data.entity_id for r in folded.alerts} == {"SUP-2"}


async def test_a_batch_of_recorded_screenings_loads_nothing() -> None:
    db = Database()
    batch = [screening(supplier("SUP-1", "high")), screening(recruiter("REC-1", "high"))]
    await db.fold(batch)
    folded = await db.fold(batch)
    assert (folded, db.loads, db.alert_loads) == (Folded((), (), ()), [], 0)


async def test_the_same_ids_in_two_tenants_are_two_entities() -> None:
    db = Database()
    await db.fold(
        [
            screening(supplier("SUP-1", "low", recruiters=[("REC-9", 300, 0.75)])),
            screening(recruiter("REC-9", "critical"), tenant_id="tenant-b"),
        ]
    )
    assert db.profiles[SUP].risk_level == "low"
    elsewhere: EntityRef = ("tenant-b", "recruiter", "REC-9")
    assert db.profiles[elsewhere].risk_level == "critical"


async def test_a_chain_link_that_does_not_name_the_entity_fails_the_whole_batch() -> None:
    db = Database()
    stray = ChainLink(
        recruiter_id="REC-1", supplier_id="SUP-2", workers=1, workforce_share=None, field="$.x"
    )
    batch = [
        screening(supplier("SUP-1", "high")),
        screening(findings("supplier", "SUP-1", "low", chain=[stray])),
    ]
    with pytest.raises(ValueError, match="does not name supplier SUP-1"):
        await db.fold(batch)
    assert db.profiles == {}


SUPPLIERS = ("SUP-1", "SUP-2", "SUP-3")
RECRUITERS = ("REC-1", "REC-2", "REC-3")
LEVELS: tuple[RiskLevel, ...] = ("low", "medium", "high", "critical")
ENDS = ("2026-03-31", "2026-06-30", "2026-09-30")
SHARES = (None, 0.2, 0.5, 0.9)


@st.composite
def disclosures(draw: st.DrawFn) -> FindingsComputed:
    level, end = draw(st.sampled_from(LEVELS)), draw(st.sampled_from(ENDS))
    if draw(st.booleans()):
        staffed_by = draw(st.lists(st.sampled_from(RECRUITERS), max_size=2, unique=True))
        shares = [(r, 100, draw(st.sampled_from(SHARES))) for r in staffed_by]
        return supplier(draw(st.sampled_from(SUPPLIERS)), level, recruiters=shares, end=end)
    places = draw(st.lists(st.sampled_from(SUPPLIERS), max_size=2, unique=True))
    return recruiter(
        draw(st.sampled_from(RECRUITERS)), level, placements=[(s, 50) for s in places], end=end
    )


@st.composite
def batches(draw: st.DrawFn) -> tuple[list[Screening], list[Screening]]:
    """Events already handled, then a batch, some of them redelivered in it."""
    before = [screening(d) for d in draw(st.lists(disclosures(), max_size=6))]
    batch = [screening(d) for d in draw(st.lists(disclosures(), min_size=1, max_size=12))]
    redelivered = draw(st.lists(st.sampled_from(before + batch), max_size=3))
    order = draw(st.permutations(batch + redelivered)) if redelivered else batch
    return before, list(order)


@settings(max_examples=100, deadline=None)
@given(batches())
def test_a_batch_folds_to_what_one_event_at_a_time_gives_in_four_loads(
    events: tuple[list[Screening], list[Screening]],
) -> None:
    before, batch = events

    async def compare() -> None:
        alone, together = Database(), Database()
        for db in (alone, together):
            await db.one_at_a_time(before)
        await alone.one_at_a_time(batch)
        await together.fold(batch)
        assert together.profiles == alone.profiles
        assert together.alerts == alone.alerts
        assert together.published == alone.published
        assert together.recorded == alone.recorded
        assert len(together.loads) <= 3
        assert together.alert_loads <= 1

    asyncio.run(compare())
