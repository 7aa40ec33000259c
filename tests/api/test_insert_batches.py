"""Concurrent inserts written together: each caller still gets its own document's outcome."""

import asyncio
import time
from collections.abc import Iterable
from typing import Any

import pytest
from pymongo import WriteConcern
from pymongo._csot import get_timeout
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import (
    AutoReconnect,
    DuplicateKeyError,
    WriteConcernError,
    WriteError,
    WTimeoutError,
)

from laboursight_api.insert_batches import InsertBatches, outcomes_of

Document = dict[str, Any]


class RecordingCollection:
    """Records each ``insert_many``; ``hold``: the write waits until it is set; ``failure``:
    the write raises it."""

    def __init__(self, failure: Exception | None = None) -> None:
        self.writes: list[list[Document]] = []
        self.timeouts: list[float | None] = []
        self.writing = asyncio.Event()
        self.hold = asyncio.Event()
        self.hold.set()
        self.failure = failure

    async def insert_many(self, documents: Iterable[Document], *, ordered: bool) -> object:
        self.writes.append(list(documents))
        self.timeouts.append(get_timeout())
        self.writing.set()
        await self.hold.wait()
        if self.failure is not None:
            raise self.failure
        return None


def _later(seconds: float) -> float:
    return time.monotonic() + seconds


async def test_inserts_made_together_go_in_one_write() -> None:
    collection = RecordingCollection()
    inserts = InsertBatches(collection)
    await asyncio.gather(*(inserts.insert({"_id": i}, _later(60)) for i in range(5)))
    assert collection.writes == [[{"_id": i} for i in range(5)]]


async def test_inserts_made_during_a_write_go_in_the_next_one() -> None:
    collection = RecordingCollection()
    collection.hold.clear()
    inserts = InsertBatches(collection)
    first = asyncio.create_task(inserts.insert({"_id": 0}, _later(60)))
    await collection.writing.wait()
    later = [asyncio.create_task(inserts.insert({"_id": i}, _later(60))) for i in (1, 2)]
    await asyncio.sleep(0)  # they queue up behind the write in flight
    collection.hold.set()
    await asyncio.gather(first, *later)
    assert collection.writes == [[{"_id": 0}], [{"_id": 1}, {"_id": 2}]]


async def test_a_batch_is_written_within_its_earliest_deadline() -> None:
    collection = RecordingCollection()
    inserts = InsertBatches(collection)
    await asyncio.gather(
        inserts.insert({"_id": 1}, _later(1000)), inserts.insert({"_id": 2}, _later(100))
    )
    [timeout] = collection.timeouts
    assert timeout is not None
    assert 50 < timeout <= 100


async def test_a_failed_write_fails_every_insert_in_it() -> None:
    inserts = InsertBatches(RecordingCollection(AutoReconnect("connection closed")))
    outcomes = await asyncio.gather(
        *(inserts.insert({"_id": i}, _later(60)) for i in range(3)), return_exceptions=True
    )
    assert all(isinstance(outcome, AutoReconnect) for outcome in outcomes)


@pytest.mark.integration
async def test_a_duplicate_fails_its_own_insert_only(db: AsyncDatabase[Document]) -> None:
    collection = db.get_collection("batched", write_concern=WriteConcern(w="majority", j=True))
    await collection.insert_one({"_id": "taken"})
    inserts = InsertBatches(collection)
    outcomes = await asyncio.gather(
        *(inserts.insert({"_id": key}, _later(60)) for key in ("a", "taken", "b")),
        return_exceptions=True,
    )
    assert outcomes[0] is None
    assert outcomes[2] is None
    assert isinstance(outcomes[1], DuplicateKeyError)
    assert sorted(await collection.distinct("_id")) == ["a", "b", "taken"]


@pytest.mark.integration
async def test_the_documents_are_durable_once_their_inserts_return(
    db: AsyncDatabase[Document],
) -> None:
    collection = db.get_collection("batched", write_concern=WriteConcern(w="majority", j=True))
    inserts = InsertBatches(collection)
    await asyncio.gather(*(inserts.insert({"_id": i}, _later(60)) for i in range(50)))
    assert await collection.count_documents({}) == 50


def test_each_document_gets_its_own_error_or_the_write_concern_error() -> None:
    wtimeout = {
        "code": 64,
        "errmsg": "waiting for replication timed out",
        "errInfo": {"wtimeout": True},
    }
    outcomes = outcomes_of(
        {
            "writeErrors": [
                {"index": 1, "code": 11000, "errmsg": "E11000 duplicate key"},
                {"index": 2, "code": 121, "errmsg": "Document failed validation"},
            ],
            "writeConcernErrors": [wtimeout],
        },
        4,
    )
    assert [type(outcome) for outcome in outcomes] == [
        WTimeoutError,
        DuplicateKeyError,
        WriteError,
        WTimeoutError,
    ]


def test_a_write_concern_error_that_is_not_a_timeout_is_not_one() -> None:
    concern = {"code": 100, "errmsg": "no write concern satisfied"}
    [outcome] = outcomes_of({"writeErrors": [], "writeConcernErrors": [concern]}, 1)
    assert type(outcome) is WriteConcernError
    assert not outcome.timeout


def test_a_bulk_error_without_write_concern_errors_stores_the_others() -> None:
    outcomes = outcomes_of({"writeErrors": [{"index": 0, "code": 11000, "errmsg": "dup"}]}, 2)
    assert isinstance(outcomes[0], DuplicateKeyError)
    assert outcomes[1] is None
