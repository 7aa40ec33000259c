"""The ledger in MongoDB: ``ledger`` (the entries) and ``ledger_heads`` (each chain's end).

Guarantees:

- **Append-only, no gaps.** An append runs in one transaction: it reads the heads of the
  tenants it appends to, inserts the entries after them and moves the heads in one bulk write,
  each update naming the head it read. Two processes appending to one tenant's chain at once
  conflict on the head; MongoDB aborts one, which runs again on the other's result, so the
  chain stays one line. (tenant_id, seq) is unique, as a second line of defence.
- **Idempotent on the event id.** An event already in its tenant's chain, or twice in one append,
  is appended once; (tenant_id, event_id) is unique.
- Nothing in the code updates or deletes an entry.
"""

from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Protocol

from pymongo import ASCENDING, AsyncMongoClient, UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError
from pymongo.read_concern import ReadConcern
from pymongo.write_concern import WriteConcern

from laboursight_schemas import collections
from laboursight_schemas.ledger import Entry, Head, chained, entry_document, entry_of

Document = dict[str, Any]
PAGE = 5_000
DUPLICATE_KEY = 11000
# What an entry is made of: the rest (``_id``, ``appended_at``) only slows a walk down.
ENTRY_FIELDS: Final = dict.fromkeys(
    (
        "tenant_id",
        "seq",
        "event_id",
        "topic",
        "partition",
        "offset",
        "event",
        "event_sha256",
        "previous_hash",
        "entry_hash",
    ),
    True,
) | {"_id": False}


@dataclass(frozen=True)
class Arrival:
    """An event read from Kafka, to be appended to its tenant's chain."""

    tenant_id: str
    event_id: str
    topic: str
    partition: int
    offset: int
    event: bytes


class ChainMoved(Exception):
    """Another append moved a chain's head while this one ran: run this one again."""


class Ledger(Protocol):
    async def append(self, arrivals: Sequence[Arrival], at: datetime) -> int:
        """Appends the arrivals not yet in their chains, in the order given; returns how many."""
        ...

    async def head(self, tenant_id: str) -> Head: ...

    def entries(
        self, tenant_id: str, after: int = 0, until: int | None = None
    ) -> AsyncIterator[Entry]:
        """A tenant's entries in sequence order, from ``after + 1`` up to ``until``."""
        ...


def fresh(arrivals: Iterable[Arrival], present: set[tuple[str, str]]) -> list[Arrival]:
    """The arrivals whose (tenant, event id) is neither in ``present`` nor earlier in the list."""
    seen = set(present)
    kept = []
    for arrival in arrivals:
        key = (arrival.tenant_id, arrival.event_id)
        if key not in seen:
            seen.add(key)
            kept.append(arrival)
    return kept


def extend(
    heads: dict[str, Head], arrivals: Sequence[Arrival]
) -> dict[str, tuple[Head, list[Entry]]]:
    """Per tenant: the head read and the entries that follow it."""
    by_tenant: dict[str, list[Arrival]] = {}
    for arrival in arrivals:
        by_tenant.setdefault(arrival.tenant_id, []).append(arrival)
    extended = {}
    for tenant_id, group in by_tenant.items():
        head = heads.get(tenant_id, Head(tenant_id))
        entries, _ = chained(
            head, ((a.event_id, a.topic, a.partition, a.offset, a.event) for a in group)
        )
        extended[tenant_id] = (head, entries)
    return extended


class MongoLedger:
    def __init__(self, client: AsyncMongoClient[Document], database: str) -> None:
        self._client = client
        self._db: AsyncDatabase[Document] = client[database]

    async def create_indexes(self) -> None:
        entries = self._db[collections.LEDGER]
        await entries.create_index([("tenant_id", ASCENDING), ("seq", ASCENDING)], unique=True)
        await entries.create_index([("tenant_id", ASCENDING), ("event_id", ASCENDING)], unique=True)

    async def append(self, arrivals: Sequence[Arrival], at: datetime) -> int:
        async with self._client.start_session() as session:
            await session.start_transaction(
                read_concern=ReadConcern("snapshot"), write_concern=WriteConcern("majority")
            )
            try:
                written = await self._append(session, arrivals, at)
                await session.commit_transaction()
            finally:
                if session.in_transaction:
                    await session.abort_transaction()
        return written

    async def _append(
        self, session: AsyncClientSession, arrivals: Sequence[Arrival], at: datetime
    ) -> int:
        tenants = sorted({a.tenant_id for a in arrivals})
        present = {
            (d["tenant_id"], d["event_id"])
            async for d in self._db[collections.LEDGER].find(
                {
                    "tenant_id": {"$in": tenants},
                    "event_id": {"$in": sorted({a.event_id for a in arrivals})},
                },
                projection={"_id": False, "tenant_id": True, "event_id": True},
                session=session,
            )
        }
        new = fresh(arrivals, present)
        if not new:
            return 0
        heads = {
            d["_id"]: Head(d["_id"], d["seq"], d["entry_hash"])
            async for d in self._db[collections.LEDGER_HEADS].find(
                {"_id": {"$in": tenants}}, session=session
            )
        }
        extended = extend(heads, new)
        documents = [entry_document(e, at) for _, entries in extended.values() for e in entries]
        await self._db[collections.LEDGER].insert_many(documents, session=session)
        moves = [
            UpdateOne(
                {"_id": tenant_id, "seq": read.seq},
                {
                    "$set": {
                        "entry_hash": entries[-1].entry_hash,
                        "seq": entries[-1].seq,
                        "updated_at": at,
                    }
                },
                upsert=read.seq == 0,
            )
            for tenant_id, (read, entries) in extended.items()
        ]
        try:
            moved = await self._db[collections.LEDGER_HEADS].bulk_write(moves, session=session)
        except BulkWriteError as error:
            if lost_race(error):
                raise ChainMoved(", ".join(extended)) from error
            raise
        # A head that moved since it was read matches nothing, and a new one is a duplicate.
        if moved.matched_count + moved.upserted_count != len(moves):
            raise ChainMoved(", ".join(extended))
        return len(documents)

    async def head(self, tenant_id: str) -> Head:
        document = await self._db[collections.LEDGER_HEADS].find_one({"_id": tenant_id})
        if document is None:
            return Head(tenant_id)
        return Head(tenant_id, document["seq"], document["entry_hash"])

    async def entries(
        self, tenant_id: str, after: int = 0, until: int | None = None
    ) -> AsyncIterator[Entry]:
        seq: Document = {"$gt": after} if until is None else {"$gt": after, "$lte": until}
        cursor = self._db[collections.LEDGER].find(
            {"tenant_id": tenant_id, "seq": seq}, projection=ENTRY_FIELDS, batch_size=PAGE
        )
        cursor = cursor.sort("seq", ASCENDING)
        # A page at a time: an await per entry would cost more than checking it.
        while page := await cursor.to_list(PAGE):
            for document in page:
                yield entry_of(document)

    async def tenants(self) -> list[str]:
        return sorted([d["_id"] async for d in self._db[collections.LEDGER_HEADS].find({})])


def lost_race(error: BulkWriteError) -> bool:
    """Whether every write ``error`` refused was a duplicate key: a head that another append
    created after this one read none (what ``update_one`` would raise as ``DuplicateKeyError``)."""
    refused = error.details.get("writeErrors", [])
    return bool(refused) and all(e.get("code") == DUPLICATE_KEY for e in refused)
