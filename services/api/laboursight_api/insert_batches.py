"""Concurrent inserts into one collection, written together: one ``insert_many`` carries every
document queued while the previous one was in flight (a group commit).

Each caller gets the outcome of its own document, as from ``insert_one``: it returns once MongoDB
acknowledged the document with the collection's write concern; it raises ``DuplicateKeyError``
when the ``_id`` exists, or the error of the whole write (a timeout, a lost connection, a write
concern error), after which the document may be stored all the same, exactly as after a failed
``insert_one``. A batch is written within the earliest deadline of its documents, so no caller
is told "stored" after its deadline. Documents of one batch do not depend on one another
(``ordered=False``): one duplicate fails only its own caller.
"""

import asyncio
import contextvars
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol

import pymongo
from pymongo.errors import (
    BulkWriteError,
    DuplicateKeyError,
    PyMongoError,
    WriteConcernError,
    WriteError,
    WTimeoutError,
)

Document = dict[str, Any]
Outcome = BaseException | None

# What MongoDB answers for a unique index violation (11000; the others are older spellings).
_DUPLICATE_KEY: Final = frozenset({11000, 11001, 12582})
# The shortest deadline a batch is sent with: pymongo reads a timeout of 0 as none at all.
_MIN_TIMEOUT_S: Final = 0.001


class Collection(Protocol):
    """What is written to: a pymongo ``AsyncCollection``."""

    async def insert_many(self, documents: Iterable[Document], *, ordered: bool) -> object: ...


@dataclass(frozen=True)
class _Queued:
    document: Document
    deadline: float
    answer: "asyncio.Future[None]"


class InsertBatches:
    def __init__(self, collection: Collection, *, max_batch: int = 256) -> None:
        self._collection = collection
        self._max_batch = max_batch
        self._queued: list[_Queued] = []
        self._writer: asyncio.Task[None] | None = None

    async def insert(self, document: Document, deadline: float) -> None:
        """Durable once this returns; ``deadline`` (``time.monotonic``): when the caller stops
        waiting for MongoDB."""
        answer = asyncio.get_running_loop().create_future()
        self._queued.append(_Queued(document, deadline, answer))
        if self._writer is None:
            # In a context of its own: the first caller's MongoDB deadline is not the batches'.
            self._writer = asyncio.create_task(self._write_queued(), context=contextvars.Context())
        await answer

    async def _write_queued(self) -> None:
        batch: list[_Queued] = []
        try:
            while self._queued:
                batch = self._queued[: self._max_batch]
                del self._queued[: self._max_batch]
                outcomes = await self._write(batch)
                for queued, outcome in zip(batch, outcomes, strict=True):
                    _settle(queued.answer, outcome)
        except BaseException:
            # Cancelled (the loop is closing): no caller is left waiting for an answer.
            for queued in [*batch, *self._queued]:
                queued.answer.cancel()
            self._queued.clear()
            raise
        finally:
            self._writer = None

    async def _write(self, batch: Sequence[_Queued]) -> Sequence[Outcome]:
        timeout = max(min(q.deadline for q in batch) - time.monotonic(), _MIN_TIMEOUT_S)
        try:
            with pymongo.timeout(timeout):
                await self._collection.insert_many([q.document for q in batch], ordered=False)
        except BulkWriteError as error:
            return outcomes_of(error.details, len(batch))
        except Exception as error:  # the whole write failed: every caller hears of it
            return [error] * len(batch)
        return [None] * len(batch)


def outcomes_of(details: Mapping[str, Any], count: int) -> list[Outcome]:
    """Each document's outcome in a bulk insert's error ``details``: its own write error, else
    the write concern error (the write may not be durable), else None (stored)."""
    concern = details.get("writeConcernErrors") or []
    shared: Outcome = _concern_error(concern[0]) if concern else None
    outcomes: list[Outcome] = [shared] * count
    for error in details.get("writeErrors") or []:
        kind = DuplicateKeyError if error.get("code") in _DUPLICATE_KEY else WriteError
        outcomes[error["index"]] = kind(str(error.get("errmsg", "")), error.get("code"), error)
    return outcomes


def _concern_error(error: Mapping[str, Any]) -> PyMongoError:
    # As pymongo reports it for a single write: a wtimeout is a timeout, the rest not.
    info = error.get("errInfo") or {}
    kind = WTimeoutError if error.get("code") == 50 or info.get("wtimeout") else WriteConcernError
    return kind(str(error.get("errmsg", "")), error.get("code"), dict(error))


def _settle(answer: "asyncio.Future[None]", outcome: Outcome) -> None:
    if answer.done():  # its caller was cancelled
        return
    if outcome is None:
        answer.set_result(None)
    else:
        answer.set_exception(outcome)
