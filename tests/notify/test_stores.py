"""One behaviour suite for notify's stores, run on the in-memory fakes and on MongoDB."""

import abc
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from laboursight_notify.model import Delivery, DeliveryStatus, Subscription
from laboursight_notify.stores import (
    DeliveryLog,
    MongoDeliveryLog,
    MongoSubscriptions,
    SubscriptionStore,
    create_indexes,
)
from laboursight_runtime.mongo import make_client
from laboursight_runtime.settings import Settings
from laboursight_schemas import collections

from .fakes import InMemoryDeliveryLog, InMemorySubscriptions, subscription

# Whole milliseconds: MongoDB keeps no finer time.
AT = datetime(2026, 7, 1, 12, 0, 0, 123_000, tzinfo=UTC)


def delivery(
    status: DeliveryStatus = "delivered",
    *,
    attempts: int = 1,
    last_status_code: int | None = 200,
    tenant_id: str = "tenant-a",
) -> Delivery:
    return Delivery(
        id="evt-1:sub-1",
        tenant_id=tenant_id,
        alert_id="alert-1",
        alert_event_id="evt-1",
        subscription_id="sub-1",
        url="https://hooks.example/sub-1",
        status=status,
        attempts=attempts,
        last_status_code=last_status_code,
        last_error=None if status == "delivered" else f"HTTP {last_status_code}",
        updated_at=AT,
    )


class StoreContract(abc.ABC):
    @abc.abstractmethod
    async def subscriptions(self, *rows: tuple[Subscription, bool]) -> SubscriptionStore:
        """A store holding these (subscription, active) rows."""

    @abc.abstractmethod
    def deliveries(self) -> DeliveryLog:
        """An empty delivery log."""

    async def test_only_the_tenants_active_subscriptions_are_listed(self) -> None:
        mine = subscription("mine", min_risk_level="critical")
        store = await self.subscriptions(
            (mine, True),
            (subscription("paused"), False),
            (subscription("theirs", tenant_id="tenant-b"), True),
        )

        assert await store.active("tenant-a") == [mine]
        assert await store.active("tenant-c") == []

    async def test_an_unknown_delivery_is_none(self) -> None:
        assert await self.deliveries().get("tenant-a", "evt-1:sub-1") is None

    async def test_a_recorded_delivery_reads_back_whole(self) -> None:
        log = self.deliveries()
        recorded = delivery("failed", attempts=5, last_status_code=503)

        await log.record(recorded)

        assert await log.get("tenant-a", recorded.id) == recorded

    async def test_another_tenant_does_not_see_a_delivery(self) -> None:
        log = self.deliveries()
        await log.record(delivery())

        assert await log.get("tenant-b", "evt-1:sub-1") is None

    async def test_a_later_outcome_replaces_a_failed_one(self) -> None:
        log = self.deliveries()
        await log.record(delivery("failed", attempts=5, last_status_code=500))
        await log.record(delivery("failed", attempts=1, last_status_code=404))
        assert await log.get("tenant-a", "evt-1:sub-1") == delivery(
            "failed", attempts=1, last_status_code=404
        )

        await log.record(delivery("delivered", attempts=2))

        assert await log.get("tenant-a", "evt-1:sub-1") == delivery("delivered", attempts=2)

    async def test_delivered_is_final(self) -> None:
        log = self.deliveries()
        await log.record(delivery("delivered"))

        await log.record(delivery("failed", attempts=5, last_status_code=500))

        assert await log.get("tenant-a", "evt-1:sub-1") == delivery("delivered")


class TestInMemoryStores(StoreContract):
    async def subscriptions(self, *rows: tuple[Subscription, bool]) -> SubscriptionStore:
        store = InMemorySubscriptions()
        for row, active in rows:
            store.add(row, active=active)
        return store

    def deliveries(self) -> DeliveryLog:
        return InMemoryDeliveryLog()


@pytest.mark.integration
class TestMongoStores(StoreContract):
    db: AsyncDatabase[dict[str, Any]]

    @pytest.fixture(autouse=True)
    async def database(self, infra: Any) -> AsyncIterator[None]:
        client = make_client(Settings.model_validate({"mongodb_uri": infra.mongodb_uri}))
        name = f"test-notify-{uuid.uuid4().hex[:8]}"
        self.db = client[name]
        await create_indexes(self.db)
        yield
        await client.drop_database(name)
        await client.close()

    async def subscriptions(self, *rows: tuple[Subscription, bool]) -> SubscriptionStore:
        for row, active in rows:
            await self.db[collections.SUBSCRIPTIONS].insert_one(
                {
                    "_id": row.id,
                    "tenant_id": row.tenant_id,
                    "url": row.url,
                    "secret": row.secret,
                    "min_risk_level": row.min_risk_level,
                    "active": active,
                    "created_at": AT,
                }
            )
        return MongoSubscriptions(self.db)

    def deliveries(self) -> DeliveryLog:
        return MongoDeliveryLog(self.db)

    async def test_a_subscription_without_a_threshold_hears_high_alerts(self) -> None:
        await self.db[collections.SUBSCRIPTIONS].insert_one(
            {
                "_id": "sub-1",
                "tenant_id": "tenant-a",
                "url": "https://hooks.example/sub-1",
                "secret": "whsec_c2VjcmV0",
                "active": True,
            }
        )

        [found] = await MongoSubscriptions(self.db).active("tenant-a")

        assert found.min_risk_level == "high"

    async def test_creating_the_indexes_again_is_harmless(self) -> None:
        await create_indexes(self.db)

        names = {
            index["name"] async for index in await self.db[collections.DELIVERIES].list_indexes()
        }
        assert {"tenant_status_updated", "tenant_alert"} <= names
