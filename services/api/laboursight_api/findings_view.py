"""Risk's ``findings`` collection, as the api reads it: a disclosure is screened once it has one."""

from collections.abc import Collection
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from laboursight_schemas import collections

Document = dict[str, Any]


class FindingsView:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._collection = db[collections.FINDINGS]

    async def latest(self, tenant_id: str, disclosure_id: str) -> Document | None:
        return await self._collection.find_one(
            {"tenant_id": tenant_id, "disclosure_id": disclosure_id}, sort=[("computed_at", -1)]
        )

    async def screened(self, tenant_id: str, disclosure_ids: Collection[str]) -> set[str]:
        """Which of ``disclosure_ids`` have findings."""
        cursor = self._collection.find(
            {"tenant_id": tenant_id, "disclosure_id": {"$in": list(disclosure_ids)}},
            {"disclosure_id": True, "_id": False},
        )
        return {document["disclosure_id"] async for document in cursor}
