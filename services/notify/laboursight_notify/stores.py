"""Where subscriptions are read and deliveries queued and logged: the ports, and their MongoDB
adapters.

``deliveries`` is both the work queue of the dispatchers and the delivery log the api reads. One
document per (event, subscription), ``_id`` = the delivery id (also the ``webhook-id``), which
makes recording an event twice a no-op and is notify's whole idempotency record:

- what is sent: ``tenant_id``, ``subscription_id``, ``event_id``, ``event_type`` (an alert
  raised or updated, or a test-send's test event), ``alert_id`` (null for a test), ``url``
  (where the latest attempt went), ``body`` (the CloudEvent, byte for byte what every attempt
  posts), ``event_time``, ``trace`` (the trace context every attempt continues);
- ``status``: ``pending``, then ``delivered`` (with ``delivered_at``) or ``dead`` (both final,
  sent again only when redelivered); ``recorded_at``, ``expires_at`` (the end of its retry
  horizon), ``updated_at``;
- ``due_at``: when a pending delivery is next to be attempted. A claim moves it to the end of the
  claim's lease and stores the claim's ``lease`` token, so no other dispatcher takes the delivery
  while the lease runs, and a crashed dispatcher's claim simply falls due again; a settled
  attempt keeps its claim's token as ``settled_lease``;
- ``attempts``, ``last_status_code``, ``last_error``, and ``attempt_log``: the latest attempts,
  each with its time, URL, status code, error and latency;
- ``redeliveries``: the latest redelivery requests carried out on it (request id, time, API
  key id), which also make carrying one out again a no-op; ``redelivered_at``, and
  ``retry_base``, the attempts made before the latest redelivery.

Every query on a delivery filters on its tenant; the claim and the backlog count cannot, since
they read the queue as a whole. MongoDB errors are left to propagate: callers decide what a
transient failure means for them.
"""

import uuid
from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timedelta
from typing import Any, Protocol

from pymongo import ASCENDING, DESCENDING, IndexModel, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

from laboursight_runtime import tracing
from laboursight_schemas import collections

from .grouped_settles import GroupedSettles
from .model import (
    DEFAULT_EVENT_TYPE,
    DEFAULT_MIN_RISK_LEVEL,
    AttemptRecord,
    Delivery,
    Endpoint,
    Filters,
    Redelivery,
    Subscription,
    Told,
)
from .retries import Settlement

Document = dict[str, Any]

# The latest attempts kept on a delivery: enough to read a failure's history, bounded however
# long the horizon.
ATTEMPT_LOG_LENGTH = 50
REDELIVERY_LOG_LENGTH = 20
DUPLICATE_KEY = 11000
DELIVERY_FIELDS = tuple(f.name for f in fields(Delivery))
# What the fields of a delivery were called before test-sends and updates were delivered too.
_FORMER_NAMES = {"event_id": "alert_event_id", "event_time": "alert_time"}
_FORMER_DEFAULTS: Document = {"event_type": DEFAULT_EVENT_TYPE, "retry_base": 0, "trace": {}}


@dataclass(frozen=True)
class Claim:
    """A delivery taken from the queue; ``lease`` proves the claim is still this one's."""

    delivery: Delivery
    lease: str


@dataclass(frozen=True)
class Backlog:
    """The queue as a whole: ``longest_due`` is the earliest ``due_at`` of a pending delivery
    (a claimed one's is its lease's end)."""

    pending: int
    dead: int
    longest_due: datetime | None


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

    async def backlog(self) -> Backlog:
        """How many deliveries are ``pending`` and ``dead``, over every tenant, and when the
        pending delivery longest due fell due."""
        ...

    async def told(self, tenant_ids: Collection[str], alert_ids: Collection[str]) -> Told:
        """(subscription id, alert id) of every delivery recorded of these alerts."""
        ...

    async def redeliver(self, redelivery: Redelivery, at: datetime, horizon: timedelta) -> int:
        """Make the final deliveries ``redelivery`` names pending, due at ``at`` and retried
        until ``at + horizon``, their attempt log kept; returns how many. A subscription's
        redelivery (no ``delivery_id``) takes its alerts' deliveries, not its test-sends.

        A delivery that carried out this request already (its ``redeliveries``) is left alone,
        so a request read twice redelivers nothing twice.
        """
        ...


def _subscription(doc: Document) -> Subscription:
    return Subscription(
        id=doc["_id"],
        tenant_id=doc["tenant_id"],
        url=doc["url"],
        secret=doc["secret"],
        filters=Filters(
            min_risk_level=doc.get("min_risk_level", DEFAULT_MIN_RISK_LEVEL),
            countries=frozenset(doc.get("countries", ())),
            entity_ids=frozenset(doc.get("entity_ids", ())),
            indicators=frozenset(doc.get("indicators", ())),
            alert_types=frozenset(doc.get("alert_types", ())),
            updates=doc.get("updates", True),
        ),
        previous_secret=doc.get("previous_secret"),
        previous_secret_until=doc.get("previous_secret_until"),
    )


class MongoSubscriptions:
    """Reads the ``subscriptions`` collection, which the api writes."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._collection = db[collections.SUBSCRIPTIONS]

    async def active(self, tenant_ids: Collection[str]) -> list[Subscription]:
        cursor = self._collection.find({"tenant_id": {"$in": list(tenant_ids)}, "active": True})
        return [_subscription(doc) async for doc in cursor]


def _delivery(doc: Document) -> Delivery:
    found = {name: _field(doc, name) for name in DELIVERY_FIELDS}
    found["trace"] = tracing.carrier(found["trace"])
    return Delivery(**found)


def _field(doc: Document, name: str) -> Any:
    if name == "id":
        return doc["_id"]
    if name in doc:
        return doc[name]
    if name in _FORMER_NAMES:
        return doc[_FORMER_NAMES[name]]
    return _FORMER_DEFAULTS[name]


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
            "url": attempt.url or claim.delivery.url,
        }
        if settlement.status == "delivered":
            changes["delivered_at"] = attempt.at
        logged = {
            "at": attempt.at,
            "url": attempt.url or claim.delivery.url,
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

    async def backlog(self) -> Backlog:
        pending = await self._collection.count_documents({"status": "pending"})
        dead = await self._collection.count_documents({"status": "dead"})
        first = await self._collection.find_one(
            {"status": "pending"}, projection={"due_at": True}, sort=[("due_at", ASCENDING)]
        )
        return Backlog(pending, dead, None if first is None else first["due_at"])

    async def told(self, tenant_ids: Collection[str], alert_ids: Collection[str]) -> Told:
        if not alert_ids:
            return set()
        cursor = self._collection.find(
            {"tenant_id": {"$in": sorted(tenant_ids)}, "alert_id": {"$in": sorted(alert_ids)}},
            projection={"_id": False, "subscription_id": True, "alert_id": True},
        )
        return {(doc["subscription_id"], doc["alert_id"]) async for doc in cursor}

    async def redeliver(self, redelivery: Redelivery, at: datetime, horizon: timedelta) -> int:
        r = redelivery
        which: Document = {
            "tenant_id": r.tenant_id,
            "subscription_id": r.subscription_id,
            "status": {"$in": list(r.statuses)},
            "redeliveries.request_id": {"$ne": r.request_id},
        }
        if r.delivery_id is not None:
            which["_id"] = r.delivery_id
        else:
            # A subscription's redelivery is of its alerts; a test-send is asked for again.
            which["alert_id"] = {"$ne": None}
        recorded = {op: t for op, t in (("$gte", r.since), ("$lt", r.until)) if t is not None}
        if recorded:
            which["recorded_at"] = recorded
        carried_out = {"request_id": r.request_id, "at": at, "requested_by": r.requested_by}
        # A pipeline update, to keep the attempts made so far as the base of the new backoff;
        # every value is a $literal, so no id can be read as a field path.
        update = [
            {
                "$set": {
                    "status": {"$literal": "pending"},
                    "due_at": {"$literal": at},
                    "lease": None,
                    "expires_at": {"$literal": at + horizon},
                    "redelivered_at": {"$literal": at},
                    "updated_at": {"$literal": at},
                    "retry_base": "$attempts",
                    "redeliveries": {
                        "$slice": [
                            {
                                "$concatArrays": [
                                    {"$ifNull": ["$redeliveries", []]},
                                    [{"$literal": carried_out}],
                                ]
                            },
                            -REDELIVERY_LOG_LENGTH,
                        ]
                    },
                }
            }
        ]
        result = await self._collection.update_many(which, update)
        return result.modified_count


async def create_indexes(db: AsyncDatabase[Document]) -> None:
    """Idempotent; run at start-up by the owner of ``deliveries``."""
    recorded = [("recorded_at", DESCENDING), ("_id", DESCENDING)]
    await db[collections.DELIVERIES].create_indexes(
        [
            # The queue: what is due, oldest first; and the backlog counts.
            IndexModel([("status", ASCENDING), ("due_at", ASCENDING)], name="status_due"),
            # The api's delivery log, newest first, whole or by one filter (``GET
            # /v1/deliveries``); by status also the deferral of one endpoint's pending
            # deliveries; by subscription also a redelivery of its dead ones; by alert also the
            # subscriptions told of an alert.
            IndexModel([("tenant_id", ASCENDING), *recorded], name="tenant_recorded"),
            IndexModel(
                [("tenant_id", ASCENDING), ("status", ASCENDING), *recorded],
                name="tenant_status_recorded",
            ),
            IndexModel(
                [("tenant_id", ASCENDING), ("subscription_id", ASCENDING), *recorded],
                name="tenant_subscription_recorded",
            ),
            IndexModel(
                [("tenant_id", ASCENDING), ("alert_id", ASCENDING), *recorded],
                name="tenant_alert_recorded",
            ),
        ]
    )
