"""Where subscriptions are read and deliveries queued and logged: the ports, and their MongoDB
adapters.

``deliveries`` is both the work queue of the dispatchers and the delivery log the api reads. One
document per (alert event, subscription), ``_id`` = the delivery id (also the ``webhook-id``),
which makes recording an alert twice a no-op and is notify's whole idempotency record:

- what is sent: ``tenant_id``, ``alert_id``, ``alert_event_id``, ``subscription_id``, ``url``,
  ``body`` (the alert's CloudEvent, byte for byte what every attempt posts), ``alert_time``;
- ``status``: ``pending``, then ``delivered`` (with ``delivered_at``) or ``dead`` (both final,
  never sent again); ``recorded_at``, ``expires_at`` (the end of its retry horizon),
  ``updated_at``;
- ``due_at``: when a pending delivery is next to be attempted. A claim moves it to the end of the
  claim's lease and stores the claim's ``lease`` token, so no other dispatcher takes the delivery
  while the lease runs, and a crashed dispatcher's claim simply falls due again; a settled
  attempt keeps its claim's token as ``settled_lease``;
- ``attempts``, ``last_status_code``, ``last_error``, and ``attempt_log``: the latest attempts,
  each with its time, status code, error and latency.

Every query on a delivery filters on its tenant; the claim and the backlog count cannot, since
they read the queue as a whole. MongoDB errors are left to propagate: callers decide what a
transient failure means for them.
"""

import uuid
from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from typing import Any, Protocol

from pymongo import ASCENDING, DESCENDING, IndexModel, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

from laboursight_schemas import collections

from .grouped_settles import GroupedSettles
from .model import DEFAULT_MIN_RISK_LEVEL, AttemptRecord, Delivery, Endpoint, Subscription
from .retries import Settlement

Document = dict[str, Any]

# The latest attempts kept on a delivery: enough to read a failure's history, bounded however
# long the horizon.
ATTEMPT_LOG_LENGTH = 20
DUPLICATE_KEY = 11000
DELIVERY_FIELDS = tuple(f.name for f in fields(Delivery))


@dataclass(frozen=True)
class Claim:
    """A delivery taken from the queue; ``lease`` proves the claim is still this one's."""

    delivery: Delivery
    lease: str


class SubscriptionStore(Protocol):
    async def active(self, tenant_ids: Collection[str]) -> list[Subscription]:
        """These tenants' active subscriptions, whatever their threshold."""
        ...


class DeliveryQueue(Protocol):
    async def add(
        self, deliveries: Sequence[Delivery], *, claim_until: datetime | None = None
    ) -> list[Claim]:
        """Record each delivery ``pending``, in one write; due at once, or with ``claim_until``
        claimed by the caller until then, as ``claim`` would have (so the caller can attempt
        them without reading the queue).

        Returns the claims of the deliveries this call recorded (none without ``claim_until``).
        A delivery id already recorded is left exactly as it is, whatever its status, and is
        not claimed.
        """
        ...

    async def claim(
        self,
        now: datetime,
        *,
        lease_until: datetime,
        excluding: Collection[Endpoint] = (),
        limit: int = 1,
    ) -> list[Claim]:
        """Up to ``limit`` pending deliveries due (``due_at`` ≤ ``now``), those due longest first,
        to endpoints not excluded.

        Atomic per delivery: no other claim takes one before ``lease_until``.
        """
        ...

    async def settle(self, claim: Claim, settlement: Settlement, attempt: AttemptRecord) -> bool:
        """Log the attempt and apply its settlement; False if the claim was lost meanwhile."""
        ...

    async def cancel(self, claim: Claim, reason: str, at: datetime) -> None:
        """End the delivery ``dead`` without an attempt, ``reason`` as its last error."""
        ...

    async def release(self, claims: Sequence[Claim], due_at: datetime) -> None:
        """Hand the deliveries back unattempted, due at ``due_at``."""
        ...

    async def defer(self, endpoint: Endpoint, until: datetime, now: datetime) -> tuple[int, int]:
        """Move the endpoint's pending deliveries due before ``until`` to ``until``.

        Unclaimed ones that expire before ``until`` become ``dead`` instead. Returns the numbers
        (deferred, dead).
        """
        ...

    async def backlog(self) -> dict[str, int]:
        """How many deliveries are ``pending`` and ``dead``, over every tenant."""
        ...


def _subscription(doc: Document) -> Subscription:
    return Subscription(
        id=doc["_id"],
        tenant_id=doc["tenant_id"],
        url=doc["url"],
        secret=doc["secret"],
        min_risk_level=doc.get("min_risk_level", DEFAULT_MIN_RISK_LEVEL),
    )


class MongoSubscriptions:
    """Reads the ``subscriptions`` collection, which the api writes."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._collection = db[collections.SUBSCRIPTIONS]

    async def active(self, tenant_ids: Collection[str]) -> list[Subscription]:
        cursor = self._collection.find({"tenant_id": {"$in": list(tenant_ids)}, "active": True})
        return [_subscription(doc) async for doc in cursor]


def _delivery(doc: Document) -> Delivery:
    return Delivery(**{name: doc["_id" if name == "id" else name] for name in DELIVERY_FIELDS})


def _pending(delivery: Delivery, due_at: datetime, lease: str | None) -> Document:
    doc = asdict(delivery)
    doc["_id"] = doc.pop("id")
    return {
        **doc,
        "status": "pending",
        "due_at": due_at,
        "lease": lease,
        "last_status_code": None,
        "last_error": None,
        "attempt_log": [],
        "updated_at": delivery.recorded_at,
    }


def _only_duplicates(error: BulkWriteError) -> bool:
    return all(e["code"] == DUPLICATE_KEY for e in error.details.get("writeErrors", []))


class MongoDeliveryQueue:
    """Settlements made at the same time are written together (grouped_settles.py)."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._collection = db[collections.DELIVERIES]
        self._settles = GroupedSettles(self._collection)

    async def add(
        self, deliveries: Sequence[Delivery], *, claim_until: datetime | None = None
    ) -> list[Claim]:
        if not deliveries:
            return []
        lease = None if claim_until is None else uuid.uuid4().hex
        writes = [
            UpdateOne(
                {"_id": d.id, "tenant_id": d.tenant_id},
                {"$setOnInsert": _pending(d, claim_until or d.recorded_at, lease)},
                upsert=True,
            )
            for d in deliveries
        ]
        try:
            result = await self._collection.bulk_write(writes, ordered=False)
            inserted = set(result.upserted_ids or {})
        except BulkWriteError as error:
            # Two consumers recording the same alert at once (a rebalance): the one that lost
            # the race finds the delivery already there, which is all it wanted.
            if not _only_duplicates(error):
                raise
            inserted = {int(u["index"]) for u in error.details.get("upserted", [])}
        if lease is None:
            return []
        return [Claim(d, lease) for i, d in enumerate(deliveries) if i in inserted]

    async def claim(
        self,
        now: datetime,
        *,
        lease_until: datetime,
        excluding: Collection[Endpoint] = (),
        limit: int = 1,
    ) -> list[Claim]:
        due: Document = {"status": "pending", "due_at": {"$lte": now}}
        if excluding:
            due["$nor"] = [{"tenant_id": e.tenant_id, "url": e.url} for e in excluding]
        cursor = self._collection.find(due).sort("due_at", ASCENDING).limit(limit)
        docs = [doc async for doc in cursor]
        if not docs:
            return []
        lease = uuid.uuid4().hex
        ids = [doc["_id"] for doc in docs]
        # The read found candidates; this write takes those still due, each atomically, so one
        # claimed by another dispatcher since (its due_at moved to its lease's end) is not taken.
        taken = await self._collection.update_many(
            {**due, "_id": {"$in": ids}}, {"$set": {"due_at": lease_until, "lease": lease}}
        )
        if taken.modified_count < len(ids):
            mine = {
                doc["_id"]
                async for doc in self._collection.find(
                    {"_id": {"$in": ids}, "lease": lease}, projection={"_id": True}
                )
            }
            docs = [doc for doc in docs if doc["_id"] in mine]
        return [Claim(_delivery(doc), lease) for doc in docs]

    def _claimed(self, claim: Claim) -> Document:
        d = claim.delivery
        return {"_id": d.id, "tenant_id": d.tenant_id, "lease": claim.lease, "status": "pending"}

    async def settle(self, claim: Claim, settlement: Settlement, attempt: AttemptRecord) -> bool:
        answer = attempt.attempt
        changes: Document = {
            "status": settlement.status,
            "due_at": settlement.due_at,
            "lease": None,
            "settled_lease": claim.lease,
            "last_status_code": answer.status_code,
            "last_error": answer.error,
            "updated_at": attempt.at,
        }
        if settlement.status == "delivered":
            changes["delivered_at"] = attempt.at
        logged = {
            "at": attempt.at,
            "status_code": answer.status_code,
            "error": answer.error,
            "latency_ms": round(attempt.latency_s * 1000, 1),
        }
        update = UpdateOne(
            self._claimed(claim),
            {
                "$set": changes,
                "$inc": {"attempts": 1},
                "$push": {"attempt_log": {"$each": [logged], "$slice": -ATTEMPT_LOG_LENGTH}},
            },
        )
        return await self._settles.settle(
            claim.delivery.id, claim.delivery.tenant_id, claim.lease, update
        )

    async def cancel(self, claim: Claim, reason: str, at: datetime) -> None:
        await self._collection.update_one(
            self._claimed(claim),
            {
                "$set": {
                    "status": "dead",
                    "due_at": None,
                    "lease": None,
                    "last_error": reason,
                    "updated_at": at,
                }
            },
        )

    async def release(self, claims: Sequence[Claim], due_at: datetime) -> None:
        if not claims:
            return
        await self._collection.update_many(
            {"$or": [self._claimed(claim) for claim in claims]},
            {"$set": {"due_at": due_at, "lease": None}},
        )

    async def defer(self, endpoint: Endpoint, until: datetime, now: datetime) -> tuple[int, int]:
        at_endpoint = {"tenant_id": endpoint.tenant_id, "url": endpoint.url, "status": "pending"}
        # A claimed delivery is left to its claimer, whose attempt may yet succeed.
        dead = await self._collection.update_many(
            {**at_endpoint, "lease": None, "expires_at": {"$lt": until}},
            {
                "$set": {
                    "status": "dead",
                    "due_at": None,
                    "last_error": "endpoint unavailable until the retry horizon (circuit open)",
                    "updated_at": now,
                }
            },
        )
        # Claimed ones too: that only lengthens their lease, and their claimer sets due_at anyway.
        deferred = await self._collection.update_many(
            {**at_endpoint, "due_at": {"$lt": until}}, {"$set": {"due_at": until}}
        )
        return deferred.modified_count, dead.modified_count

    async def backlog(self) -> dict[str, int]:
        return {
            status: await self._collection.count_documents({"status": status})
            for status in ("pending", "dead")
        }


async def create_indexes(db: AsyncDatabase[Document]) -> None:
    """Idempotent; run at start-up by the owner of ``deliveries``."""
    await db[collections.DELIVERIES].create_indexes(
        [
            # The queue: what is due, oldest first; and the backlog counts.
            IndexModel([("status", ASCENDING), ("due_at", ASCENDING)], name="status_due"),
            # The dead-letter inbox: a tenant's dead deliveries, newest first; and deferral of one
            # endpoint's pending deliveries.
            IndexModel(
                [("tenant_id", ASCENDING), ("status", ASCENDING), ("updated_at", DESCENDING)],
                name="tenant_status_updated",
            ),
            # Every delivery of one alert, for the api's alert view.
            IndexModel([("tenant_id", ASCENDING), ("alert_id", ASCENDING)], name="tenant_alert"),
        ]
    )
