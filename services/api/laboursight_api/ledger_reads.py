"""Reading a tenant's chain as the ledger service stored it (``collections.LEDGER``, its head
and its daily checkpoints), for the routes that check it or cite it."""

from collections.abc import AsyncIterator
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from laboursight_schemas import collections
from laboursight_schemas.ledger import Checkpoint, Entry, Head, checkpoint_of, entry_of

Db = AsyncDatabase[dict[str, Any]]
BATCH = 10_000


async def recorded_head(db: Db, tenant_id: str) -> Head:
    head = await db[collections.LEDGER_HEADS].find_one({"_id": tenant_id})
    return Head(tenant_id) if head is None else Head(tenant_id, head["seq"], head["entry_hash"])


async def checkpoints_of(db: Db, tenant_id: str) -> list[Checkpoint]:
    found = db[collections.LEDGER_CHECKPOINTS].find({"tenant_id": tenant_id})
    return [checkpoint_of(document) async for document in found]


async def entries_of(db: Db, tenant_id: str, up_to: int) -> AsyncIterator[Entry]:
    """The tenant's entries with a sequence number up to ``up_to``, in order."""
    cursor = db[collections.LEDGER].find(
        {"tenant_id": tenant_id, "seq": {"$lte": up_to}},
        projection={"appended_at": False},
        batch_size=BATCH,
    )
    async for document in cursor.sort("seq", 1):
        yield entry_of(document)
