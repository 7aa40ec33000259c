"""The findings handler on every RiskStore (the in-memory fake and MongoDB): idempotent per
event, atomic per batch, and every alert revision published in order — by the handler, or by the
relay after a crash."""

import asyncio
from collections.abc import Awaitable
from types import TracebackType
from typing import Any, Self

import pytest
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

from laboursight_risk.alerts import alert_id
from laboursight_risk.handlers import RecordFindings
from laboursight_risk.outbox import Unpublished
from laboursight_risk.profile import Profile
from laboursight_risk.relay import OutboxRelay
from laboursight_risk.repositories import Alerts, Entities, Findings
from laboursight_risk.store import MongoRiskStore, RiskStore
from laboursight_risk.unit_of_work import UnitOfWork
from laboursight_risk.writing import CONFLICT_ATTEMPTS
from laboursight_runtime.failures import is_transient
from laboursight_runtime.kafka import encode
from laboursight_schemas import collections, topics
from laboursight_schemas.disclosure import EntityKind
from laboursight_schemas.envelope import (
    ALERT_RAISED,
    ALERT_UPDATED,
    Envelope,
    derived_event_id,
)
from laboursight_schemas.findings import (
    AlertRaised,
    AlertUpdated,
    ChainLink,
    FindingsComputed,
    RiskLevel,
    Strength,
)
from tests.risk.builders import FEES_AND_DEBT, event, findings, recruiter, supplier
from tests.risk.fakes import Crash, FakeBroker, InMemoryRiskStore

TENANT = "tenant-a"


def bonded(entity_id: str = "SUP-666") -> Envelope[FindingsComputed]:
    return event(
        supplier(
            entity_id, "critical", indicators=("retention_of_identity_documents", "debt_bondage")
        )
    )


def indebted(level: RiskLevel, end: str, strength: Strength = "strong") -> FindingsComputed:
    """SUP-1 with workers in debt bondage, forced labour not established."""
    return supplier(
        "SUP-1", level, indicators=("debt_bondage",), strength=strength, likely=False, end=end
    )


async def entities(
    store: RiskStore, *keys: tuple[EntityKind, str]
) -> dict[tuple[str, str], Profile]:
    async with store.unit_of_work() as uow:
        found = await uow.entities.get([(TENANT, kind, i) for kind, i in keys])
    return {(kind, i): p for (_, kind, i), p in found.items()}


async def profile(store: RiskStore, kind: EntityKind, entity_id: str) -> Profile:
    return (await entities(store, (kind, entity_id)))[(kind, entity_id)]


def alerts(broker: FakeBroker) -> list[AlertRaised | AlertUpdated]:
    return [sent.data for _, _, sent in broker.sent]


def risk_levels(published: list[AlertRaised | AlertUpdated]) -> list[AlertRaised | AlertUpdated]:
    return [a for a in published if a.alert_type == "risk_level"]


async def failure(handling: Awaitable[None]) -> Exception | None:
    try:
        await handling
    except Exception as error:
        return error
    return None


class Paused:
    """``store`` whose units of work stop before their commit until ``resume`` is set."""

    def __init__(self, store: RiskStore) -> None:
        self._store = store
        self.reached, self.resume = asyncio.Event(), asyncio.Event()

    @property
    def outbox(self) -> Unpublished:
        return self._store.outbox

    def unit_of_work(self) -> UnitOfWork:
        return _PausedUnit(self._store.unit_of_work(), self)


class _PausedUnit:
    def __init__(self, inner: UnitOfWork, paused: Paused) -> None:
        self._inner = inner
        self._paused = paused

    @property
    def entities(self) -> Entities:
        return self._inner.entities

    @property
    def findings(self) -> Findings:
        return self._inner.findings

    @property
    def alerts(self) -> Alerts:
        return self._inner.alerts

    async def __aenter__(self) -> Self:
        await self._inner.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self._inner.__aexit__(exc_type, exc, traceback)

    async def commit(self) -> None:
        self._paused.reached.set()
        await self._paused.resume.wait()
        await self._inner.commit()


class HandlerContract:
    @pytest.fixture
    def store(self) -> RiskStore:
        raise NotImplementedError  # each implementation provides its own

    async def record(
        self, store: RiskStore, *computed: FindingsComputed
    ) -> list[AlertRaised | AlertUpdated]:
        """Handles ``computed`` as one batch; returns the alert revisions it published."""
        broker = FakeBroker()
        await RecordFindings(store, broker)([event(c) for c in computed])
        return alerts(broker)

    async def test_a_bonded_disclosure_publishes_its_three_alerts_and_empties_the_outbox(
        self, store: RiskStore
    ) -> None:
        broker = FakeBroker()
        bond = bonded()
        await RecordFindings(store, broker)([bond])
        assert [(t, k, e.type, e.correlation_id) for t, k, e in broker.sent] == [
            (topics.ALERTS, "SUP-666", ALERT_RAISED, bond.correlation_id)
        ] * 3
        assert [e.data.alert_type for _, _, e in broker.sent] == [
            "risk_level",
            "strong_indicator",
            "forced_labour",
        ]
        for _, _, sent in broker.sent:
            assert (sent.data.risk_level, sent.data.disclosure_id) == (
                "critical",
                bond.data.disclosure_id,
            )
            assert sent.id == derived_event_id("alert-raised", sent.data.alert_id)
        assert await store.outbox.backlog() == 0

    async def test_the_same_evidence_again_publishes_nothing_and_an_escalation_an_update(
        self, store: RiskStore
    ) -> None:
        broker = FakeBroker()
        handle = RecordFindings(store, broker)
        await handle([event(indebted("high", "2026-03-31"))])
        await handle([event(indebted("high", "2026-06-30"))])
        assert [e.data.alert_type for _, _, e in broker.sent] == ["risk_level", "strong_indicator"]
        critical = event(indebted("critical", "2026-09-30"))
        await handle([critical])
        (_, _, update) = broker.sent[-1]
        assert (len(broker.sent), update.type, update.correlation_id) == (
            3,
            ALERT_UPDATED,
            critical.correlation_id,
        )
        assert isinstance(update.data, AlertUpdated)
        assert (update.data.change, update.data.revision) == ("escalated", 1)
        assert update.id == derived_event_id("alert-updated", update.data.alert_id, "1")
        assert update.data.alert_id == alert_id(TENANT, "supplier", "SUP-1", "risk_level")
        assert await store.outbox.backlog() == 0

    async def test_a_revision_left_unpublished_is_published_before_the_next_one(
        self, store: RiskStore
    ) -> None:
        first = event(indebted("high", "2026-03-31", "medium"))
        await RecordFindings(store, FakeBroker(fail_times=1))([first])
        assert await store.outbox.backlog() == 1
        broker = FakeBroker()
        await RecordFindings(store, broker)([event(indebted("critical", "2026-06-30", "medium"))])
        assert [(e.type, getattr(e.data, "revision", 0)) for _, _, e in broker.sent] == [
            (ALERT_RAISED, 0),
            (ALERT_UPDATED, 1),
        ]
        assert await store.outbox.backlog() == 0
        assert await OutboxRelay(store.outbox, broker, broker, grace_s=0).relay_once() == 0

    async def test_a_redelivered_batch_changes_nothing(self, store: RiskStore) -> None:
        await self.record(store, supplier("SUP-1", "medium", recruiters=[("REC-9", 300, 0.75)]))
        batch = [event(recruiter("REC-9", "high", placements=[("SUP-1", 300)])), bonded()]
        broker = FakeBroker()
        handle = RecordFindings(store, broker)
        await handle(batch)
        first = await entities(store, ("supplier", "SUP-1"), ("recruiter", "REC-9"))
        await handle(batch)
        await handle(batch[1:])
        assert await entities(store, ("supplier", "SUP-1"), ("recruiter", "REC-9")) == first
        published = alerts(broker)
        assert sorted(a.entity_id for a in risk_levels(published)) == ["REC-9", "SUP-1", "SUP-666"]
        assert len({a.alert_id for a in published}) == len(published) == 7

    async def test_a_batch_records_only_its_events_not_recorded_yet(self, store: RiskStore) -> None:
        early = bonded("SUP-1")
        broker = FakeBroker()
        await RecordFindings(store, broker)([early])
        await RecordFindings(store, broker)([early, bonded("SUP-2"), early])
        assert [a.entity_id for a in risk_levels(alerts(broker))] == ["SUP-1", "SUP-2"]
        assert len(alerts(broker)) == 6

    async def test_an_entity_twice_in_a_batch_sees_the_first_events_result(
        self, store: RiskStore
    ) -> None:
        raised = await self.record(
            store,
            supplier("SUP-1", "critical", indicators=FEES_AND_DEBT, end="2026-03-31"),
            supplier("SUP-1", "critical", indicators=FEES_AND_DEBT, end="2026-06-30"),
        )
        assert [(a.entity_id, a.alert_type, a.previous_risk_level) for a in raised] == [
            ("SUP-1", "risk_level", None),
            ("SUP-1", "strong_indicator", None),
            ("SUP-1", "forced_labour", None),
        ]
        assert (await profile(store, "supplier", "SUP-1")).version == 1

    async def test_a_supplier_disclosing_after_its_recruiter_inherits_from_it(
        self, store: RiskStore
    ) -> None:
        rec = recruiter("REC-9", "high", score=68, placements=[("SUP-1", 300)])
        await self.record(store, rec)
        (alert,) = await self.record(
            store, supplier("SUP-1", "low", recruiters=[("REC-9", 300, 0.75)])
        )
        (part,) = (await profile(store, "supplier", "SUP-1")).inherited
        assert (part.recruiter_id, part.risk_level, part.score) == ("REC-9", "high", 68)
        assert (part.indicators, part.disclosure_id) == (FEES_AND_DEBT, rec.disclosure_id)
        assert (alert.entity_id, alert.risk_level) == ("SUP-1", "high")
        assert "from recruiter REC-9" in alert.summary

    async def test_a_recruiter_escalating_a_supplier_alerts_for_both(
        self, store: RiskStore
    ) -> None:
        await self.record(store, supplier("SUP-1", "medium", recruiters=[("REC-9", 300, 0.75)]))
        rec = recruiter("REC-9", "high", placements=[("SUP-1", 300)])
        raised = await self.record(store, rec)
        assert sorted((a.entity_kind, a.entity_id) for a in risk_levels(raised)) == [
            ("recruiter", "REC-9"),
            ("supplier", "SUP-1"),
        ]
        (escalated,) = [a for a in raised if a.entity_kind == "supplier"]
        assert (escalated.risk_level, escalated.previous_risk_level) == ("high", "medium")
        assert escalated.dedupe_key == f"{TENANT}/supplier/SUP-1/risk_level"
        assert escalated.disclosure_id == rec.disclosure_id
        assert (await profile(store, "supplier", "SUP-1")).version == 1

    async def test_a_recruiter_that_improves_lowers_its_supplier_and_resolves_its_alert(
        self, store: RiskStore
    ) -> None:
        await self.record(store, supplier("SUP-1", "medium", recruiters=[("REC-9", 300, 0.75)]))
        await self.record(store, recruiter("REC-9", "critical", end="2026-03-31"))
        resolved = await self.record(store, recruiter("REC-9", "low", end="2026-06-30"))
        (mine,) = [a for a in resolved if a.entity_id == "SUP-1"]
        assert isinstance(mine, AlertUpdated)
        assert (mine.change, mine.status, mine.revision) == ("resolved", "resolved", 1)
        lowered = await profile(store, "supplier", "SUP-1")
        assert (lowered.risk_level, lowered.inherited) == ("medium", ())
        assert await self.record(store, recruiter("REC-9", "low")) == []

    async def test_the_chain_stays_inside_its_tenant(self, store: RiskStore) -> None:
        await self.record(store, supplier("SUP-1", "low", recruiters=[("REC-9", 300, 0.75)]))
        elsewhere = event(recruiter("REC-9", "critical", placements=[("SUP-1", 300)]), "tenant-y")
        await RecordFindings(store, FakeBroker())([elsewhere])
        mine = await profile(store, "supplier", "SUP-1")
        assert (mine.risk_level, mine.version, mine.inherited) == ("low", 0, ())

    async def test_a_poison_event_fails_its_whole_batch_and_writes_nothing(
        self, store: RiskStore
    ) -> None:
        stray = ChainLink(
            recruiter_id="REC-1", supplier_id="SUP-2", workers=1, workforce_share=None, field="$.x"
        )
        good, poison = bonded("SUP-1"), event(findings("supplier", "SUP-1", "low", chain=[stray]))
        handle = RecordFindings(store, FakeBroker())
        with pytest.raises(ValueError, match="does not name"):
            await handle([good, poison])
        assert await entities(store, ("supplier", "SUP-1")) == {}
        assert await store.outbox.backlog() == 0
        await handle([good])  # as the pipeline, isolating the poison, handles the rest
        assert (await profile(store, "supplier", "SUP-1")).risk_level == "critical"

    async def test_a_broker_failure_after_the_commit_leaves_the_alert_to_the_relay(
        self, store: RiskStore
    ) -> None:
        bond = bonded()
        await RecordFindings(store, FakeBroker(fail_times=1))([bond])  # durable: no error
        assert await store.outbox.backlog() == 3
        broker = FakeBroker()
        assert await OutboxRelay(store.outbox, broker, broker, grace_s=0).relay_once() == 3
        assert {(e.data.entity_id, e.correlation_id) for _, _, e in broker.sent} == {
            ("SUP-666", bond.correlation_id)
        }
        assert await store.outbox.backlog() == 0

    async def test_a_crash_after_the_commit_is_repaired_by_the_relay_not_by_a_redelivery(
        self, store: RiskStore
    ) -> None:
        bond = bonded()
        crashing = FakeBroker(crash_times=1)
        with pytest.raises(Crash):
            await RecordFindings(store, crashing)([bond])
        redelivered = FakeBroker()
        await RecordFindings(store, redelivered)([bond])
        assert redelivered.sent == []  # recorded already; the broker may have lost it anyway
        relayed = FakeBroker()
        await OutboxRelay(store.outbox, relayed, relayed, grace_s=0).relay_once()
        # The very event the crashed handler was publishing: same id, same time, same bytes.
        ((_, _, crashed),) = crashing.attempted
        assert encode(crashed) in [encode(e) for _, _, e in relayed.sent]
        assert len(relayed.sent) == 3
        assert await OutboxRelay(store.outbox, relayed, relayed, grace_s=0).relay_once() == 0

    async def test_an_alert_the_broker_lost_after_acknowledging_it_is_published_again(
        self, store: RiskStore
    ) -> None:
        broker = FakeBroker()
        relay = OutboxRelay(store.outbox, broker, broker, grace_s=0)
        await RecordFindings(store, broker)([bonded()])
        assert await relay.relay_once() == 0
        first = [encode(e) for _, _, e in broker.sent]
        broker.lose_memory()
        assert await relay.relay_once() == 3
        assert sorted(encode(e) for _, _, e in broker.sent) == sorted(first)

    @pytest.mark.parametrize("recruiter_known", [True, False])
    async def test_a_batch_conflicting_with_another_is_run_again_on_its_result(
        self, store: RiskStore, recruiter_known: bool
    ) -> None:
        await self.record(store, supplier("SUP-1", "low", end="2026-03-31"))
        if recruiter_known:
            await self.record(store, recruiter("REC-9", "low", end="2026-03-31"))
        linking = [event(supplier("SUP-1", "low", recruiters=[("REC-9", 300, 0.75)]))]
        escalating = [event(recruiter("REC-9", "critical"))]
        paused = Paused(store)
        first = asyncio.create_task(RecordFindings(paused, FakeBroker())(linking))
        await paused.reached.wait()
        # MongoDB fails the later writer while the first is still open, and that one gives up
        # (the pipeline will retry it); the fake fails the later commit, which runs again.
        second = await failure(RecordFindings(store, FakeBroker())(escalating))
        paused.resume.set()
        first_failure = await failure(first)
        for failed, batch in ((first_failure, linking), (second, escalating)):
            if failed is not None:
                assert is_transient(failed)
                await RecordFindings(store, FakeBroker())(batch)
        assert (await profile(store, "supplier", "SUP-1")).risk_level == "critical"


class TestInMemoryHandler(HandlerContract):
    @pytest.fixture
    def store(self) -> RiskStore:
        return InMemoryRiskStore()

    async def test_a_write_conflict_runs_the_whole_batch_again(self) -> None:
        store = InMemoryRiskStore(conflicting_commits=CONFLICT_ATTEMPTS - 1)
        await self.record(store, supplier("SUP-1", "high"), supplier("SUP-2", "low"))
        assert ((await profile(store, "supplier", "SUP-1")).version, store.commits) == (0, 1)

    async def test_a_conflict_that_persists_is_left_to_the_pipeline(self) -> None:
        store = InMemoryRiskStore(conflicting_commits=CONFLICT_ATTEMPTS)
        broker = FakeBroker()
        with pytest.raises(PyMongoError) as raised:
            await RecordFindings(store, broker)([bonded()])
        assert is_transient(raised.value)
        assert (store.commits, broker.attempted) == (0, [])


@pytest.mark.integration
class TestMongoHandler(HandlerContract):
    @pytest.fixture
    def store(self, mongo_store: MongoRiskStore) -> RiskStore:
        return mongo_store

    async def test_risk_writes_only_its_own_collections(
        self, store: RiskStore, database: AsyncDatabase[dict[str, Any]]
    ) -> None:
        await self.record(
            store, bonded().data, recruiter("REC-9", "high", placements=[("SUP-1", 9)])
        )
        assert sorted(await database.list_collection_names()) == sorted(
            [collections.ALERTS, collections.ENTITIES, collections.FINDINGS]
        )
