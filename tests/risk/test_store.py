"""One behaviour suite for every RiskStore: the in-memory fake and MongoDB."""

import uuid
from collections.abc import AsyncIterator
from functools import partial
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from laboursight_risk.handlers import RecordFindings
from laboursight_risk.profile import apply
from laboursight_risk.store import MongoRiskStore, RiskStore
from laboursight_schemas import topics
from laboursight_screening.handlers import findings_event
from tests.factories import BONDED_SUPPLIER, CLEAN_SUPPLIER, supplier_event
from tests.fakes import FakePublisher
from tests.risk.fakes import InMemoryRiskStore


class RiskStoreContract:
    @pytest.fixture
    def store(self) -> RiskStore:
        raise NotImplementedError  # each implementation provides its own

    async def test_recording_twice_is_recording_once(self, store: RiskStore) -> None:
        event = findings_event(supplier_event(BONDED_SUPPLIER))
        decide = partial(apply, event.tenant_id, computed=event.data)
        await store.record(event.tenant_id, event.id, event.data, decide)
        await store.record(event.tenant_id, event.id, event.data, decide)
        profile = await store.profile(event.tenant_id, "supplier", event.data.entity_id)
        assert profile is not None
        assert profile.version == 0
        assert len(await store.unpublished_alerts(event.tenant_id, event.id)) == 1

    async def test_published_alerts_leave_the_outbox(self, store: RiskStore) -> None:
        event = findings_event(supplier_event(BONDED_SUPPLIER))
        await store.record(
            event.tenant_id,
            event.id,
            event.data,
            partial(apply, event.tenant_id, computed=event.data),
        )
        (alert,) = await store.unpublished_alerts(event.tenant_id, event.id)
        await store.mark_published(event.tenant_id, alert.alert_id)
        assert await store.unpublished_alerts(event.tenant_id, event.id) == []

    async def test_tenants_do_not_see_each_other(self, store: RiskStore) -> None:
        event = findings_event(supplier_event(BONDED_SUPPLIER, tenant_id="tenant-x"))
        await store.record(
            "tenant-x", event.id, event.data, partial(apply, "tenant-x", computed=event.data)
        )
        assert await store.profile("tenant-y", "supplier", event.data.entity_id) is None
        assert await store.unpublished_alerts("tenant-y", event.id) == []

    async def test_handler_publishes_each_alert_once_across_redeliveries(
        self, store: RiskStore
    ) -> None:
        publisher = FakePublisher()
        handle = RecordFindings(store, publisher)
        event = findings_event(supplier_event(BONDED_SUPPLIER))
        await handle(event)
        await handle(event)
        assert [(topic, key) for topic, key, _ in publisher.sent] == [
            (topics.ALERTS, BONDED_SUPPLIER["supplier"]["supplier_id"])
        ]

    async def test_alert_survives_a_failed_publish(self, store: RiskStore) -> None:
        event = findings_event(supplier_event(BONDED_SUPPLIER))
        with pytest.raises(ConnectionError):
            await RecordFindings(store, FakePublisher(fail_times=1))(event)
        publisher = FakePublisher()
        await RecordFindings(store, publisher)(event)  # the redelivery
        assert len(publisher.sent) == 1

    async def test_clean_disclosure_raises_nothing(self, store: RiskStore) -> None:
        publisher = FakePublisher()
        await RecordFindings(store, publisher)(findings_event(supplier_event(CLEAN_SUPPLIER)))
        assert publisher.sent == []


class TestInMemoryRiskStore(RiskStoreContract):
    @pytest.fixture
    def store(self) -> RiskStore:
        return InMemoryRiskStore()


@pytest.mark.integration
class TestMongoRiskStore(RiskStoreContract):
    @pytest.fixture
    async def store(self, infra: Any) -> AsyncIterator[RiskStore]:
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(infra.mongodb_uri, w="majority")
        database = f"test-risk-{uuid.uuid4().hex[:8]}"
        store = MongoRiskStore(client, database)
        await store.create_indexes()
        yield store
        await client.drop_database(database)
        await client.close()
