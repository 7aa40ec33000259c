"""The ``disclosure_batches`` collection, whose only writer is the api, and the bulk write of a
batch's disclosures into ``disclosures``.

Every write a guarantee rests on (accepting an upload, withdrawing it, storing its disclosures)
is journaled and majority acknowledged. Claims span tenants: they are the api's own background
work, keyed by ``_id``, and never answer a caller.
"""

import contextlib
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta
from typing import Any, Final

from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError

from laboursight_schemas import collections

from .batch_jobs import tombstone
from .disclosure_store import JOURNALED

Document = dict[str, Any]

DUPLICATE_KEY: Final = 11000
# What the views read: never the upload itself.
VIEW_FIELDS: Final = {"body": False, "entity_ids": False}


class BatchStore:
    def __init__(self, db: AsyncDatabase[Document], ttl: timedelta) -> None:
        self._batches = db[collections.DISCLOSURE_BATCHES]
        self._journaled = db.get_collection(collections.DISCLOSURE_BATCHES, write_concern=JOURNALED)
        self._disclosures = db.get_collection(collections.DISCLOSURES, write_concern=JOURNALED)
        self._ttl = ttl

    async def create_indexes(self) -> None:
        await self._batches.create_index(
            [("tenant_id", ASCENDING), ("submitted_by", ASCENDING), ("upload_key", ASCENDING)],
            name="upload_key",
            unique=True,
            partialFilterExpression={"upload_key": {"$exists": True}},
        )
        await self._batches.create_index(
            [("batch_id", ASCENDING), ("first_line", ASCENDING)],
            name="results",
            partialFilterExpression={"batch_id": {"$exists": True}},
        )
        await self._batches.create_index(
            [("lease_until", ASCENDING)], name="open", partialFilterExpression={"open": True}
        )
        await self._batches.create_index("expires_at", name="expiry", expireAfterSeconds=0)

    # --- accepting ---------------------------------------------------------------------------

    async def create(self, document: Document) -> None:
        """Durable once this returns; raises DuplicateKeyError when the batch, or another with
        its upload key, exists already."""
        await self._journaled.insert_one(document)

    async def by_upload(self, tenant_id: str, key_id: str, upload_key: str) -> Document | None:
        return await self._batches.find_one(
            {"tenant_id": tenant_id, "submitted_by": key_id, "upload_key": upload_key},
            VIEW_FIELDS,
        )

    async def confirm(self, batch: str) -> bool:
        """Claim a stored batch for a retry that found it: True when it stands (and can no
        longer be withdrawn), False when it was withdrawn first."""
        result = await self._journaled.update_one(
            {"_id": batch, "state": {"$ne": "withdrawn"}}, {"$set": {"confirmed": True}}
        )
        return result.matched_count == 1

    async def replace_withdrawn(self, document: Document) -> bool:
        """Store ``document`` in place of its withdrawn tombstone; False when there is none."""
        result = await self._journaled.replace_one(
            {"_id": document["_id"], "state": "withdrawn"}, document
        )
        return result.matched_count == 1

    async def withdraw(self, tenant_id: str, batch: str, now: datetime) -> bool:
        """Make sure the batch is never processed: True once a tombstone holds its ``_id``;
        False when it stands (a retry confirmed it, or its processing began)."""
        try:
            await self._journaled.replace_one(
                {
                    "_id": batch,
                    "tenant_id": tenant_id,
                    "state": "pending",
                    "confirmed": {"$ne": True},
                },
                tombstone(tenant_id, now, self._ttl),
                upsert=True,
            )
        except DuplicateKeyError:
            return False
        return True

    # --- reading -----------------------------------------------------------------------------

    async def find(self, tenant_id: str, batch: str) -> Document | None:
        return await self._batches.find_one({"_id": batch, "tenant_id": tenant_id}, VIEW_FIELDS)

    async def pages(self, batch: str, after_line: int) -> AsyncIterator[Document]:
        """The pages of line results holding a line after ``after_line``, in line order."""
        cursor = self._batches.find({"batch_id": batch, "last_line": {"$gt": after_line}})
        async for page in cursor.sort("first_line", ASCENDING):
            yield page

    # --- processing --------------------------------------------------------------------------

    async def claim(
        self, now: datetime, lease: timedelta, batch: str | None = None
    ) -> tuple[str, Document] | None:
        """An open batch whose lease expired (or ``batch``, when still pending), with its
        upload, claimed by this call alone until ``now + lease``: (the claim's token, it)."""
        due: Document = (
            {"open": True, "lease_until": {"$lte": now}}
            if batch is None
            else {"_id": batch, "open": True, "state": "pending"}
        )
        token = uuid.uuid4().hex
        claimed = await self._batches.find_one_and_update(
            due,
            {"$set": {"state": "processing", "lease_until": now + lease, "lease_token": token}},
            sort=[("lease_until", ASCENDING)],
            return_document=ReturnDocument.AFTER,
        )
        return None if claimed is None else (token, claimed)

    async def void(self, claimed: Document, token: str, now: datetime) -> bool:
        """Withdraw a claimed batch whose write landed after its request's deadline; False when
        a retry confirmed it meanwhile (it stands)."""
        result = await self._journaled.replace_one(
            {"_id": claimed["_id"], "lease_token": token, "confirmed": {"$ne": True}},
            tombstone(claimed["tenant_id"], now, self._ttl),
        )
        return result.matched_count == 1

    async def insert_disclosures(self, documents: Sequence[Document]) -> set[str]:
        """Store every document (one bulk write); returns the ids that were stored already."""
        if not documents:
            return set()
        try:
            await self._disclosures.insert_many(documents, ordered=False)
        except BulkWriteError as error:
            details = error.details
            failures = details.get("writeErrors", [])
            if details.get("writeConcernErrors") or any(
                f["code"] != DUPLICATE_KEY for f in failures
            ):
                raise
            return {documents[f["index"]]["_id"] for f in failures}
        return set()

    async def record(
        self,
        claimed: Document,
        token: str,
        page: Document,
        *,
        cursor: int,
        accepted: int,
        rejected: int,
        now: datetime,
        lease: timedelta,
    ) -> bool:
        """Store one chunk's results and move the batch's cursor past it, renewing the claim;
        False when the claim was lost (another replica resumed the batch)."""
        # A chunk processed again has the same page, line for line.
        with contextlib.suppress(DuplicateKeyError):
            await self._journaled.insert_one(page)
        tally = {"accepted": accepted, "rejected": rejected}
        changes: Document = {"$set": {"cursor": cursor, "lease_until": now + lease}, "$inc": tally}
        if cursor >= claimed["lines_total"]:
            changes = {
                "$set": {"cursor": cursor, "state": "done", "open": False, "finished_at": now},
                "$unset": {"body": "", "lease_until": "", "lease_token": ""},
                "$inc": tally,
            }
        result = await self._journaled.update_one(
            {"_id": claimed["_id"], "lease_token": token, "cursor": claimed["cursor"]}, changes
        )
        if result.modified_count == 1:
            claimed["cursor"] = cursor
        return result.modified_count == 1

    async def release(self, batch: str, token: str, now: datetime) -> None:
        """Give a batch back at once, for any replica to resume (its processing failed)."""
        await self._batches.update_one(
            {"_id": batch, "lease_token": token}, {"$set": {"lease_until": now}}
        )
