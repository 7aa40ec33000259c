"""Risk's repositories: entities, findings and alerts (with their outbox), each one collection.

They only load and write. Inside a unit of work every call runs in its transaction, and each
write is one ``bulk_write`` (or ``insert_many``) for the whole batch; the outbox outside a unit
of work is what the handlers mark after their commit and what the relay reads.
"""

from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from pymongo import ASCENDING, ReplaceOne, UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from laboursight_schemas import collections
from laboursight_schemas.collections import entity_key

from . import documents
from .alerts import Alert
from .fold import AlertKey, EntityRef, Screening, ScreeningKey
from .outbox import OutboxEntry
from .profile import Profile

Database = AsyncDatabase[dict[str, Any]]


class Entities(Protocol):
    async def get(self, refs: Collection[EntityRef]) -> dict[EntityRef, Profile]:
        """The profiles of ``refs`` that exist."""
        ...

    async def save(self, profiles: Sequence[Profile], now: datetime) -> None: ...


class Findings(Protocol):
    async def recorded(self, keys: Collection[ScreeningKey]) -> set[ScreeningKey]:
        """Those of ``keys`` whose screening is recorded, in one query."""
        ...

    async def add(self, screenings: Sequence[Screening], now: datetime) -> None:
        """Records screenings not recorded yet."""
        ...


class Alerts(Protocol):
    async def get(self, keys: Collection[AlertKey]) -> dict[AlertKey, Alert]:
        """The alerts of ``keys`` that exist, in one query."""
        ...

    async def save(
        self, states: Sequence[Alert], revisions: Sequence[OutboxEntry]
    ) -> list[OutboxEntry]:
        """Writes each of ``states`` (read by ``get`` in this unit of work, or new) with its new
        ``revisions`` appended to its outbox; returns the revisions of these alerts left to
        publish, each alert's in order: the new ones, and any of before still unpublished."""
        ...


def _by_tenant(pairs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = defaultdict(list)
    for tenant_id, value in pairs:
        grouped[tenant_id].append(value)
    return grouped


class MongoEntities:
    def __init__(self, db: Database, session: AsyncClientSession) -> None:
        self._collection = db[collections.ENTITIES]
        self._session = session

    async def get(self, refs: Collection[EntityRef]) -> dict[EntityRef, Profile]:
        if not refs:
            return {}
        keys = {entity_key(*ref): ref for ref in refs}
        cursor = self._collection.find(
            {"_id": {"$in": list(keys)}, "tenant_id": {"$in": sorted({r[0] for r in refs})}},
            session=self._session,
        )
        return {keys[doc["_id"]]: documents.profile(doc) async for doc in cursor}

    async def save(self, profiles: Sequence[Profile], now: datetime) -> None:
        if profiles:
            await self._collection.bulk_write(
                [
                    ReplaceOne({"_id": doc["_id"], "tenant_id": doc["tenant_id"]}, doc, upsert=True)
                    for doc in (documents.profile_document(p, now) for p in profiles)
                ],
                session=self._session,
            )


class MongoFindings:
    def __init__(self, db: Database, session: AsyncClientSession) -> None:
        self._collection = db[collections.FINDINGS]
        self._session = session

    async def recorded(self, keys: Collection[ScreeningKey]) -> set[ScreeningKey]:
        if not keys:
            return set()
        query = [{"tenant_id": t, "_id": {"$in": ids}} for t, ids in _by_tenant(keys).items()]
        cursor = self._collection.find(
            {"$or": query}, {"_id": 1, "tenant_id": 1}, session=self._session
        )
        return {(doc["tenant_id"], doc["_id"]) async for doc in cursor}

    async def add(self, screenings: Sequence[Screening], now: datetime) -> None:
        # Inserts, not upserts: the unit of work read ``recorded`` in its snapshot, and a
        # screening another transaction records meanwhile is a write conflict, retried.
        if screenings:
            await self._collection.insert_many(
                [documents.findings_document(s, now) for s in screenings], session=self._session
            )


# An alert's history grows with every revision, and a batch reads the alerts of every entity it
# changes: of the history, only what is still to publish is read.
_WITHOUT_PUBLISHED_REVISIONS: dict[str, Any] = dict.fromkeys(
    (
        "tenant_id",
        "status",
        "revision",
        "alert",
        "body",
        "resolved_with",
        "case_id",
        "case_revision",
        "dismissal_id",
        "published",
        "published_revision",
    ),
    1,
) | {
    "revisions": {
        "$filter": {
            "input": "$revisions",
            "cond": {"$gt": ["$$this.revision", "$published_revision"]},
        }
    }
}


class MongoAlerts:
    """The ``alerts`` collection inside a unit of work: each alert and its outbox."""

    def __init__(self, db: Database, session: AsyncClientSession) -> None:
        self._collection = db[collections.ALERTS]
        self._session = session
        self._read: dict[AlertKey, dict[str, Any]] = {}

    async def get(self, keys: Collection[AlertKey]) -> dict[AlertKey, Alert]:
        if not keys:
            return {}
        query = [{"tenant_id": t, "_id": {"$in": ids}} for t, ids in _by_tenant(keys).items()]
        cursor = self._collection.find(
            {"$or": query}, _WITHOUT_PUBLISHED_REVISIONS, session=self._session
        )
        found = {(doc["tenant_id"], doc["_id"]): doc async for doc in cursor}
        self._read |= found
        return {key: documents.alert(doc) for key, doc in found.items()}

    async def save(
        self, states: Sequence[Alert], revisions: Sequence[OutboxEntry]
    ) -> list[OutboxEntry]:
        if not states:
            return []
        new: dict[AlertKey, list[OutboxEntry]] = defaultdict(list)
        for e in revisions:
            new[(e.tenant_id, e.alert.alert_id)].append(e)
        writes, left = [], []
        for state in states:
            key = (state.tenant_id, state.alert_id)
            stored = self._read.get(key)
            writes.append(
                UpdateOne(
                    {"_id": state.alert_id, "tenant_id": state.tenant_id},
                    documents.alert_update(state, stored, new[key]),
                    upsert=stored is None,
                )
            )
            if new[key]:
                left += (documents.unpublished(stored) if stored else []) + new[key]
        await self._collection.bulk_write(writes, session=self._session)
        return left


class MongoOutbox:
    """The outbox of the ``alerts`` collection outside a unit of work: what the relay reads and
    what is marked once published."""

    def __init__(self, db: Database) -> None:
        self._collection = db[collections.ALERTS]

    async def older_than(self, cutoff: datetime, limit: int) -> list[OutboxEntry]:
        # The one query not scoped to a tenant: the relay serves them all, and every entry
        # carries its own tenant into the event it publishes.
        cursor = (
            self._collection.find({"published": False, "pending_at": {"$lt": cutoff}})
            .sort("pending_at", ASCENDING)
            .limit(limit)
        )
        return [e async for doc in cursor for e in documents.unpublished(doc)]

    async def mark_published(self, entries: Sequence[OutboxEntry]) -> None:
        if not entries:
            return
        highest: dict[AlertKey, int] = {}
        for e in entries:
            key = (e.tenant_id, e.alert.alert_id)
            highest[key] = max(highest.get(key, -1), e.revision)
        now = datetime.now(UTC)
        # A pipeline, so that a revision committed meanwhile keeps the alert unpublished.
        await self._collection.bulk_write(
            [
                UpdateOne(
                    {"_id": alert_id, "tenant_id": tenant_id},
                    [
                        {
                            "$set": {
                                "published_revision": {"$max": ["$published_revision", revision]},
                                "published_at": now,
                            }
                        },
                        {"$set": {"published": {"$gte": ["$published_revision", "$revision"]}}},
                    ],
                )
                for (tenant_id, alert_id), revision in highest.items()
            ]
        )

    async def republish(self, published_since: datetime) -> int:
        result = await self._collection.update_many(
            {"published_at": {"$gte": published_since}},
            [{"$set": {"published": False, "published_revision": -1, "pending_at": "$raised_at"}}],
        )
        return result.modified_count

    async def backlog(self) -> int:
        return await self._collection.count_documents({"published": False})


async def create_indexes(db: Database) -> None:
    for field in ("entity_id", "disclosure_id"):
        await db[collections.FINDINGS].create_index([("tenant_id", ASCENDING), (field, ASCENDING)])
    await db[collections.ENTITIES].create_index(
        [("tenant_id", ASCENDING), ("risk_level", ASCENDING)]
    )
    await db[collections.ALERTS].create_index(
        [("tenant_id", ASCENDING), ("dedupe_key", ASCENDING)], unique=True
    )
    # Only alerts with a revision unpublished are indexed: the relay's backlog, however long
    # the history.
    await db[collections.ALERTS].create_index(
        [("pending_at", ASCENDING)], partialFilterExpression={"published": False}
    )
    # What a broker that lost its log may have lost: the alerts published in the last minutes.
    await db[collections.ALERTS].create_index([("published_at", ASCENDING)], sparse=True)
    # What the api's lists read (GET /v1/findings, /v1/alerts, /v1/entities): each sort behind
    # the tenant alone or behind its most selective filters; other filters are read along the
    # same range, so none of them sorts in memory or scans the collection.
    lists = {
        collections.FINDINGS: (
            "computed_at",
            ("entity_id", "findings.indicator", "judgement.risk_level"),
        ),
        collections.ALERTS: (
            "raised_at",
            ("status", "alert.entity_id", "alert_type", "alert.indicators", "alert.country"),
        ),
        collections.ENTITIES: ("score", ("risk_level", "country")),
    }
    for collection, (order, filters) in lists.items():
        for prefix in ((), *((f,) for f in filters)):
            fields = ["tenant_id", *prefix, order, "_id"]
            await db[collection].create_index(
                [(field, ASCENDING) for field in fields], name="list_" + "_".join(fields[1:-1])
            )
