"""The ``disclosures`` collection, whose only writer is the api: statuses and the outbox.

Every write that a guarantee rests on (accepting, withdrawing) is journaled and majority
acknowledged. The outbox queries (relay, sweeper) span tenants: they are the api's own
background work, keyed by ``_id``, and never answer a caller.
"""

import uuid
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from pymongo import ASCENDING, UpdateOne, WriteConcern
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from laboursight_schemas import collections

from .insert_batches import InsertBatches
from .outbox import tombstone

Document = dict[str, Any]

JOURNALED: Final = WriteConcern(w="majority", j=True)
# A tombstone outlives any copy of the write it stands for by far.
TOMBSTONE_TTL: Final = timedelta(days=7)
# What the status view reads; the event itself stays in MongoDB.
STATUS_FIELDS: Final = {"event": False}
OUTBOX_FIELDS: Final = {"event": True, "tenant_id": True, "accepted_at": True, "stored_at": True}


@dataclass(frozen=True)
class Redrive:
    """Re-drive ``disclosure_id`` if its next check is still ``check_at`` (nobody else did)."""

    disclosure_id: str
    check_at: datetime
    next_check: datetime


class DisclosureStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._collection = db[collections.DISCLOSURES]
        self._journaled = db.get_collection(collections.DISCLOSURES, write_concern=JOURNALED)
        self._inserts = InsertBatches(self._journaled)

    async def create_indexes(self) -> None:
        await self._collection.create_index(
            [("lease_until", ASCENDING)],
            name="outbox",
            partialFilterExpression={"published": False},
        )
        await self._collection.create_index(
            [("check_at", ASCENDING)],
            name="awaiting_screening",
            partialFilterExpression={"status": "accepted", "published": True},
        )
        await self._collection.create_index(
            "withdrawn_at",
            name="tombstone_expiry",
            expireAfterSeconds=int(TOMBSTONE_TTL.total_seconds()),
        )

    # --- accepting ---------------------------------------------------------------------------

    async def insert(self, document: Document, deadline: float) -> None:
        """Durable once this returns; raises DuplicateKeyError when ``_id`` exists already.

        Written together with the other requests' (``insert_batches``), by ``deadline``
        (``time.monotonic``) at the latest.
        """
        await self._inserts.insert(document, deadline)

    async def find(self, tenant_id: str, disclosure_id: str) -> Document | None:
        return await self._collection.find_one(
            {"_id": disclosure_id, "tenant_id": tenant_id}, STATUS_FIELDS
        )

    async def confirm(self, tenant_id: str, disclosure_id: str) -> bool:
        """Claim a stored disclosure for a retry that found it: True when it stands (and can no
        longer be withdrawn), False when it was withdrawn first."""
        result = await self._journaled.update_one(
            {"_id": disclosure_id, "tenant_id": tenant_id, "status": {"$ne": "withdrawn"}},
            {"$set": {"confirmed": True}},
        )
        return result.matched_count == 1

    async def withdraw(self, tenant_id: str, disclosure_id: str, now: datetime) -> bool:
        """Make sure the disclosure is never stored or published: True once a tombstone holds
        its ``_id``; False when it stands (published already, or confirmed by a retry)."""
        try:
            await self._journaled.replace_one(
                {
                    "_id": disclosure_id,
                    "tenant_id": tenant_id,
                    "published": {"$ne": True},
                    "confirmed": {"$ne": True},
                },
                tombstone(tenant_id, now),
                upsert=True,
            )
        except DuplicateKeyError:
            return False
        return True

    # --- publishing --------------------------------------------------------------------------

    async def mark_published(
        self, ids: Collection[str], now: datetime, check_at: datetime, token: str | None = None
    ) -> None:
        """``token``: only the entries still claimed by that relay batch. The next check is
        ``check_at`` at the earliest: the screening deadline runs from the publication."""
        if not ids:
            return
        claim = {"published": False} if token is None else {"lease_token": token}
        await self._collection.update_many(
            {"_id": {"$in": list(ids)}, **claim},
            {
                "$set": {"published": True, "published_at": now},
                "$max": {"check_at": check_at},
                "$unset": {"lease_until": "", "lease_token": ""},
            },
        )

    async def claim(
        self, now: datetime, lease: timedelta, limit: int
    ) -> tuple[str, list[Document]]:
        """Unpublished entries whose lease expired, each claimed by this call alone until
        ``now + lease``: (the claim's token, the entries with their events)."""
        due = {"published": False, "lease_until": {"$lte": now}}
        cursor = self._collection.find(due, {"_id": True}).sort("lease_until", ASCENDING)
        ids = [document["_id"] async for document in cursor.limit(limit)]
        token = uuid.uuid4().hex
        if not ids:
            return token, []
        # Conditional on the same filter: of two relays claiming at once, each entry goes to one.
        await self._collection.update_many(
            {"_id": {"$in": ids}, **due},
            {"$set": {"lease_until": now + lease, "lease_token": token}},
        )
        claimed = self._collection.find({"_id": {"$in": ids}, "lease_token": token}, OUTBOX_FIELDS)
        return token, [document async for document in claimed]

    async def release(self, token: str, ids: Collection[str], now: datetime) -> None:
        """Give entries back to the next relay run (their publish failed)."""
        if ids:
            await self._collection.update_many(
                {"_id": {"$in": list(ids)}, "lease_token": token},
                {"$set": {"lease_until": now}, "$unset": {"lease_token": ""}},
            )

    async def void(self, documents: Iterable[Mapping[str, Any]], now: datetime) -> None:
        for document in documents:
            await self.withdraw(document["tenant_id"], document["_id"], now)

    async def backlog(self) -> int:
        return await self._collection.count_documents({"published": False})

    # --- screening -------------------------------------------------------------------------

    async def due_for_check(self, now: datetime, limit: int) -> list[Document]:
        """Published, still ``accepted``, and past their check time."""
        cursor = self._collection.find(
            {"status": "accepted", "published": True, "check_at": {"$lte": now}},
            {"tenant_id": True, "check_at": True, "redrives": True},
        )
        return [document async for document in cursor.sort("check_at", ASCENDING).limit(limit)]

    async def awaiting_screening(self) -> tuple[int, int]:
        """(within their deadline, re-driven at least once) of the published, still
        ``accepted`` disclosures: the sweeper's backlog."""
        awaiting = {"status": "accepted", "published": True}
        total = await self._collection.count_documents(awaiting)
        redriven = await self._collection.count_documents({**awaiting, "redrives": {"$gte": 1}})
        return total - redriven, redriven

    async def mark_screened(self, ids: Collection[str], now: datetime) -> None:
        if ids:
            await self._collection.update_many(
                {"_id": {"$in": list(ids)}, "status": "accepted"},
                {"$set": {"status": "screened", "screened_at": now}},
            )

    async def redrive(self, redrives: Sequence[Redrive], now: datetime) -> int:
        """Put each back in the outbox for the relay; returns how many this call re-drove."""
        if not redrives:
            return 0
        result = await self._collection.bulk_write(
            [
                UpdateOne(
                    {"_id": r.disclosure_id, "status": "accepted", "check_at": r.check_at},
                    {
                        "$set": {"published": False, "lease_until": now, "check_at": r.next_check},
                        "$inc": {"redrives": 1},
                    },
                )
                for r in redrives
            ],
            ordered=False,
        )
        return result.modified_count

    async def mark_failed(self, tenant_id: str, disclosure_id: str, failure: Document) -> bool:
        """True when this call set ``failed``; a disclosure is failed once, and never after it
        was seen screened."""
        result = await self._collection.update_one(
            {"_id": disclosure_id, "tenant_id": tenant_id, "status": "accepted"},
            {"$set": {"status": "failed", "failure": failure}},
        )
        return result.modified_count == 1
