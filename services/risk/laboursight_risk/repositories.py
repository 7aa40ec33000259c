"""Risk's repositories: entities, findings and the alert outbox, each one collection.

They only load and write. Inside a unit of work every call runs in its transaction, and each
write is one ``bulk_write`` (or ``insert_many``) for the whole batch; the outbox outside a unit
of work is what the handler marks after the commit and what the relay reads.
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
from .fold import EntityRef, Screening, ScreeningKey
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


class Outbox(Protocol):
    async def add(self, entries: Sequence[OutboxEntry]) -> list[OutboxEntry]:
        """Adds the entries whose alert the outbox does not hold yet and returns them: an alert
        raised again is the same alert, and keeps its state."""
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


class MongoOutbox:
    """The ``alerts`` collection: each alert with ``published``. In a unit of work (with its
    session) it adds; outside one it serves the relay and the marks after a commit."""

    def __init__(self, db: Database, session: AsyncClientSession | None = None) -> None:
        self._collection = db[collections.ALERTS]
        self._session = session

    async def add(self, entries: Sequence[OutboxEntry]) -> list[OutboxEntry]:
        if not entries:
            return []
        result = await self._collection.bulk_write(
            [
                UpdateOne(
                    {"_id": e.alert.alert_id, "tenant_id": e.tenant_id},
                    {"$setOnInsert": documents.outbox_document(e)},
                    upsert=True,
                )
                for e in entries
            ],
            session=self._session,
        )
        return [entries[i] for i in sorted(result.upserted_ids or {})]

    async def older_than(self, cutoff: datetime, limit: int) -> list[OutboxEntry]:
        # The one query not scoped to a tenant: the relay serves them all, and every entry
        # carries its own tenant into the event it publishes.
        cursor = (
            self._collection.find({"published": False, "raised_at": {"$lt": cutoff}})
            .sort("raised_at", ASCENDING)
            .limit(limit)
        )
        return [documents.outbox_entry(doc) async for doc in cursor]

    async def mark_published(self, entries: Sequence[OutboxEntry]) -> None:
        if entries:
            await self._collection.update_many(
                {
                    "_id": {"$in": [e.alert.alert_id for e in entries]},
                    "tenant_id": {"$in": sorted({e.tenant_id for e in entries})},
                },
                {"$set": {"published": True, "published_at": datetime.now(UTC)}},
            )

    async def republish(self, published_since: datetime) -> int:
        result = await self._collection.update_many(
            {"published": True, "published_at": {"$gte": published_since}},
            {"$set": {"published": False}},
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
    # Only unpublished alerts are indexed: the relay's backlog, however long the history.
    await db[collections.ALERTS].create_index(
        [("raised_at", ASCENDING)], partialFilterExpression={"published": False}
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
        collections.ALERTS: ("raised_at", ("status", "alert.entity_id")),
        collections.ENTITIES: ("score", ("risk_level",)),
    }
    for collection, (order, filters) in lists.items():
        for prefix in ((), *((f,) for f in filters)):
            fields = ["tenant_id", *prefix, order, "_id"]
            await db[collection].create_index(
                [(field, ASCENDING) for field in fields], name="list_" + "_".join(fields[1:-1])
            )
