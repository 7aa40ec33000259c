"""One behaviour suite for every RiskStore: the in-memory fake and MongoDB."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from functools import partial
from typing import Any

import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from laboursight_risk.handlers import RecordFindings
from laboursight_risk.profile import Profile
from laboursight_risk.propagation import Load, Outcome, settle
from laboursight_risk.store import MongoRiskStore, RiskStore
from laboursight_schemas import collections, topics
from laboursight_schemas.envelope import Envelope
from laboursight_schemas.findings import AlertRaised, FindingsComputed
from tests.fakes import FakePublisher
from tests.risk.builders import FEES_AND_DEBT, event, recruiter, supplier
from tests.risk.fakes import InMemoryRiskStore

TENANT = "tenant-a"


def bonded() -> Envelope[FindingsComputed]:
    return event(
        supplier(
            "SUP-666",
            "critical",
            indicators=("retention_of_identity_documents", "debt_bondage"),
        )
    )


async def record(store: RiskStore, computed: FindingsComputed) -> list[AlertRaised]:
    """Handles one findings event; returns the alerts it published."""
    publisher = FakePublisher()
    await RecordFindings(store, publisher)(event(computed))
    return [sent.data for _, _, sent in publisher.sent]


async def profile(store: RiskStore, kind: str, entity_id: str) -> Profile:
    found = await store.profile(TENANT, kind, entity_id)
    assert found is not None
    return found


class RiskStoreContract:
    @pytest.fixture
    def store(self) -> RiskStore:
        raise NotImplementedError  # each implementation provides its own

    async def test_recording_twice_is_recording_once(self, store: RiskStore) -> None:
        bond = bonded()
        decide = partial(settle, tenant_id=bond.tenant_id, computed=bond.data)
        await store.record(bond.tenant_id, bond.id, bond.data, decide)
        await store.record(bond.tenant_id, bond.id, bond.data, decide)
        assert (await profile(store, "supplier", "SUP-666")).version == 0
        assert len(await store.unpublished_alerts(bond.tenant_id, bond.id)) == 1

    async def test_published_alerts_leave_the_outbox(self, store: RiskStore) -> None:
        bond = bonded()
        await store.record(
            bond.tenant_id,
            bond.id,
            bond.data,
            partial(settle, tenant_id=bond.tenant_id, computed=bond.data),
        )
        (alert,) = await store.unpublished_alerts(bond.tenant_id, bond.id)
        await store.mark_published(bond.tenant_id, alert.alert_id)
        assert await store.unpublished_alerts(bond.tenant_id, bond.id) == []

    async def test_tenants_do_not_see_each_other(self, store: RiskStore) -> None:
        bond = bonded()
        await store.record(
            "tenant-x",
            bond.id,
            bond.data,
            partial(settle, tenant_id="tenant-x", computed=bond.data),
        )
        assert await store.profile("tenant-y", "supplier", bond.data.entity_id) is None
        assert await store.unpublished_alerts("tenant-y", bond.id) == []

    async def test_handler_publishes_each_alert_once_across_redeliveries(
        self, store: RiskStore
    ) -> None:
        publisher = FakePublisher()
        handle = RecordFindings(store, publisher)
        bond = bonded()
        await handle(bond)
        await handle(bond)
        assert [(topic, key) for topic, key, _ in publisher.sent] == [(topics.ALERTS, "SUP-666")]

    async def test_alert_survives_a_failed_publish(self, store: RiskStore) -> None:
        bond = bonded()
        with pytest.raises(ConnectionError):
            await RecordFindings(store, FakePublisher(fail_times=1))(bond)
        publisher = FakePublisher()
        await RecordFindings(store, publisher)(bond)  # the redelivery
        assert len(publisher.sent) == 1

    async def test_clean_disclosure_raises_nothing(self, store: RiskStore) -> None:
        assert await record(store, supplier("SUP-001", "low")) == []

    async def test_a_supplier_disclosing_after_its_recruiter_inherits_from_it(
        self, store: RiskStore
    ) -> None:
        rec = recruiter("REC-9", "high", score=68)
        await record(store, rec)
        (alert,) = await record(store, supplier("SUP-1", "low", recruiters=[("REC-9", 300, 0.75)]))
        (part,) = (await profile(store, "supplier", "SUP-1")).inherited
        assert (part.recruiter_id, part.risk_level, part.score) == ("REC-9", "high", 68)
        assert (part.indicators, part.disclosure_id) == (FEES_AND_DEBT, rec.disclosure_id)
        assert (part.link.declared_by, part.link.field, part.link.workforce_share) == (
            "supplier",
            "$.recruiters_used[0].recruiter_id",
            0.75,
        )
        assert (alert.entity_id, alert.risk_level) == ("SUP-1", "high")
        assert "from recruiter REC-9" in alert.summary

    async def test_a_recruiter_escalating_a_supplier_alerts_for_both(
        self, store: RiskStore
    ) -> None:
        await record(store, supplier("SUP-1", "medium", recruiters=[("REC-9", 300, 0.75)]))
        rec = recruiter("REC-9", "high")
        alerts = await record(store, rec)
        assert sorted((a.entity_kind, a.entity_id) for a in alerts) == [
            ("recruiter", "REC-9"),
            ("supplier", "SUP-1"),
        ]
        (escalated,) = [a for a in alerts if a.entity_kind == "supplier"]
        assert (escalated.risk_level, escalated.previous_risk_level) == ("high", "medium")
        assert escalated.disclosure_id == rec.disclosure_id
        assert escalated.dedupe_key == f"{TENANT}/supplier/SUP-1/high/{rec.disclosure_id}"
        assert escalated.indicators == list(FEES_AND_DEBT)
        assert "recruiter REC-9" in escalated.summary
        assert (await profile(store, "supplier", "SUP-1")).version == 1

    async def test_a_recruiter_that_improves_lowers_its_supplier_without_alerting(
        self, store: RiskStore
    ) -> None:
        await record(store, supplier("SUP-1", "medium", recruiters=[("REC-9", 300, 0.75)]))
        await record(store, recruiter("REC-9", "critical", end="2026-03-31"))
        assert await record(store, recruiter("REC-9", "low", end="2026-06-30")) == []
        lowered = await profile(store, "supplier", "SUP-1")
        assert (lowered.risk_level, lowered.inherited) == ("medium", ())

    async def test_a_redelivered_recruiter_event_changes_nothing(self, store: RiskStore) -> None:
        await record(store, supplier("SUP-1", "medium", recruiters=[("REC-9", 300, 0.75)]))
        publisher = FakePublisher()
        handle = RecordFindings(store, publisher)
        rec = event(recruiter("REC-9", "high"))
        await handle(rec)
        first = await profile(store, "supplier", "SUP-1")
        await handle(rec)
        assert await profile(store, "supplier", "SUP-1") == first
        assert len(publisher.sent) == 2

    async def test_the_chain_stays_inside_its_tenant(self, store: RiskStore) -> None:
        await record(store, supplier("SUP-1", "low", recruiters=[("REC-9", 300, 0.75)]))
        elsewhere = event(recruiter("REC-9", "critical", placements=[("SUP-1", 300)]), "tenant-y")
        await RecordFindings(store, FakePublisher())(elsewhere)
        mine = await profile(store, "supplier", "SUP-1")
        assert (mine.risk_level, mine.version, mine.inherited) == ("low", 0, ())
        theirs = await store.profile("tenant-y", "supplier", "SUP-1")
        assert theirs is not None
        assert theirs.own is None
        assert [k.declared_by for k in theirs.links] == ["recruiter"]

    @pytest.mark.parametrize("recruiter_known", [True, False])
    async def test_a_decision_on_a_recruiter_that_changed_meanwhile_is_taken_again(
        self, store: RiskStore, recruiter_known: bool
    ) -> None:
        await record(store, supplier("SUP-1", "low", end="2026-03-31"))
        if recruiter_known:
            await record(store, recruiter("REC-9", "low", end="2026-03-31"))
        linking = event(supplier("SUP-1", "low", recruiters=[("REC-9", 300, 0.75)]))
        decided, resume = asyncio.Event(), asyncio.Event()
        decisions = 0

        async def decide_then_wait(load: Load) -> Outcome:
            nonlocal decisions
            outcome = await settle(load, tenant_id=TENANT, computed=linking.data)
            decisions += 1
            if decisions == 1:
                decided.set()
                await resume.wait()
            return outcome

        linked = asyncio.create_task(
            store.record(TENANT, linking.id, linking.data, decide_then_wait)
        )
        await decided.wait()
        await record(store, recruiter("REC-9", "critical"))
        resume.set()
        await linked
        assert decisions == 2
        assert (await profile(store, "supplier", "SUP-1")).risk_level == "critical"


class TestInMemoryRiskStore(RiskStoreContract):
    @pytest.fixture
    def store(self) -> RiskStore:
        return InMemoryRiskStore()


@pytest.mark.integration
class TestMongoRiskStore(RiskStoreContract):
    @pytest.fixture
    async def mongo(self, infra: Any) -> AsyncIterator[AsyncMongoClient[dict[str, Any]]]:
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(infra.mongodb_uri, w="majority")
        yield client
        await client.close()

    @pytest.fixture
    async def database(
        self, mongo: AsyncMongoClient[dict[str, Any]]
    ) -> AsyncIterator[AsyncDatabase[dict[str, Any]]]:
        name = f"test-risk-{uuid.uuid4().hex[:8]}"
        yield mongo[name]
        await mongo.drop_database(name)

    @pytest.fixture
    async def store(
        self, mongo: AsyncMongoClient[dict[str, Any]], database: AsyncDatabase[dict[str, Any]]
    ) -> RiskStore:
        store = MongoRiskStore(mongo, database.name)
        await store.create_indexes()
        return store

    async def test_the_profile_document_reads_without_the_code(
        self, store: RiskStore, database: AsyncDatabase[dict[str, Any]]
    ) -> None:
        await record(store, recruiter("REC-9", "high"))
        await record(store, supplier("SUP-1", "low", recruiters=[("REC-9", 300, 0.75)]))
        doc = await database[collections.ENTITIES].find_one({"entity_id": "SUP-1"})
        assert doc is not None
        assert (doc["risk_level"], doc["score"], doc["own"]["risk_level"]) == ("high", 70, "low")
        assert doc["inherited"][0]["recruiter_id"] == "REC-9"
        assert doc["inherited"][0]["link"]["field"] == "$.recruiters_used[0].recruiter_id"
        assert "from recruiter REC-9" in doc["explanation"]
