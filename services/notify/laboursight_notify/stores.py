"""Where subscriptions are read and delivery outcomes kept: the ports, and their MongoDB adapters.

Every query filters on the tenant. MongoDB errors are left to propagate: the consumer classifies
them (an unreachable database is transient, so the alert is retried, never dropped).
"""

import contextlib
from dataclasses import asdict
from typing import Any, Protocol

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from laboursight_schemas import collections

from .model import DEFAULT_MIN_RISK_LEVEL, Delivery, Subscription

Document = dict[str, Any]


class SubscriptionStore(Protocol):
    async def active(self, tenant_id: str) -> list[Subscription]:
        """The tenant's active subscriptions, whatever their threshold."""
        ...


class DeliveryLog(Protocol):
    async def get(self, tenant_id: str, delivery_id: str) -> Delivery | None: ...

    async def record(self, delivery: Delivery) -> None:
        """Insert or replace; ``delivered`` is final: a later ``failed`` does not replace it."""
        ...


class MongoSubscriptions:
    """Reads the ``subscriptions`` collection, which the api writes."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._collection = db[collections.SUBSCRIPTIONS]

    async def active(self, tenant_id: str) -> list[Subscription]:
        cursor = self._collection.find({"tenant_id": tenant_id, "active": True})
        return [
            Subscription(
                id=doc["_id"],
                tenant_id=doc["tenant_id"],
                url=doc["url"],
                secret=doc["secret"],
                min_risk_level=doc.get("min_risk_level", DEFAULT_MIN_RISK_LEVEL),
            )
            async for doc in cursor
        ]


class MongoDeliveryLog:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._collection = db[collections.DELIVERIES]

    async def get(self, tenant_id: str, delivery_id: str) -> Delivery | None:
        doc = await self._collection.find_one({"_id": delivery_id, "tenant_id": tenant_id})
        if doc is None:
            return None
        doc["id"] = doc.pop("_id")
        return Delivery(**doc)

    async def record(self, delivery: Delivery) -> None:
        doc = asdict(delivery)
        doc["_id"] = doc.pop("id")
        where = {"_id": delivery.id, "tenant_id": delivery.tenant_id}
        if delivery.status == "delivered":
            await self._collection.replace_one(where, doc, upsert=True)
            return
        # The filter misses a delivered record, so the upsert tries to insert its _id again and
        # fails: that failure is the "delivered is final" rule doing its job.
        with contextlib.suppress(DuplicateKeyError):
            await self._collection.replace_one(
                {**where, "status": {"$ne": "delivered"}}, doc, upsert=True
            )


async def create_indexes(db: AsyncDatabase[Document]) -> None:
    """Idempotent; run at start-up by the owner of ``deliveries``."""
    await db[collections.DELIVERIES].create_indexes(
        [
            # The dead-letter inbox: a tenant's failed deliveries, newest first.
            IndexModel(
                [("tenant_id", ASCENDING), ("status", ASCENDING), ("updated_at", DESCENDING)],
                name="tenant_status_updated",
            ),
            # Every delivery of one alert, for the api's alert view.
            IndexModel([("tenant_id", ASCENDING), ("alert_id", ASCENDING)], name="tenant_alert"),
        ]
    )
