"""``retention_policies`` and ``legal_holds``, whose only writer is the api (their documents:
``laboursight_schemas.retention``); risk and notify read them when they purge.

Every write is journaled and majority acknowledged: a hold the api answered for is in force for
the next purge whatever fails after. A hold is never deleted: releasing it records who did and
when, once.
"""

import uuid
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase

from laboursight_schemas import collections

from .disclosure_store import JOURNALED

Document = dict[str, Any]


class RetentionStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._policies = db.get_collection(collections.RETENTION_POLICIES, write_concern=JOURNALED)
        self._holds = db.get_collection(collections.LEGAL_HOLDS, write_concern=JOURNALED)

    async def create_indexes(self) -> None:
        await self._holds.create_index(
            [("tenant_id", ASCENDING), ("placed_at", ASCENDING)], name="tenant_placed"
        )

    async def policy(self, tenant_id: str) -> Document | None:
        return await self._policies.find_one({"_id": tenant_id, "tenant_id": tenant_id})

    async def set_years(self, tenant_id: str, years: int, actor: str, at: datetime) -> Document:
        document = {"tenant_id": tenant_id, "years": years, "updated_at": at, "updated_by": actor}
        await self._policies.replace_one(
            {"_id": tenant_id, "tenant_id": tenant_id}, document, upsert=True
        )
        return {"_id": tenant_id, **document}

    async def place(
        self,
        tenant_id: str,
        entity_kind: str | None,
        entity_id: str | None,
        reason: str,
        actor: str,
        at: datetime,
    ) -> Document:
        document = {
            "_id": f"hold_{uuid.uuid4().hex}",
            "tenant_id": tenant_id,
            "entity_kind": entity_kind,
            "entity_id": entity_id,
            "reason": reason,
            "placed_at": at,
            "placed_by": actor,
            "released_at": None,
            "released_by": None,
        }
        await self._holds.insert_one(document)
        return document

    async def holds(self, tenant_id: str) -> list[Document]:
        """Every hold of the tenant, released ones too, the latest placed first."""
        cursor = self._holds.find({"tenant_id": tenant_id})
        return await cursor.sort([("placed_at", DESCENDING), ("_id", DESCENDING)]).to_list()

    async def hold(self, tenant_id: str, hold_id: str) -> Document | None:
        return await self._holds.find_one({"_id": hold_id, "tenant_id": tenant_id})

    async def release(
        self, tenant_id: str, hold_id: str, actor: str, at: datetime
    ) -> Document | None:
        """The hold released (by its first release: releasing again changes nothing), or None
        when the tenant has no such hold."""
        released = await self._holds.find_one_and_update(
            {"_id": hold_id, "tenant_id": tenant_id, "released_at": None},
            {"$set": {"released_at": at, "released_by": actor}},
            return_document=ReturnDocument.AFTER,
        )
        return released if released is not None else await self.hold(tenant_id, hold_id)
