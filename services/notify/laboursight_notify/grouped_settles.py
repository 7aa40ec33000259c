"""Settling attempts as a group: the settlements that arrive while one write is in flight go
together in the next, one ``bulk_write`` for all of them (group commit).

Attempts end many at a time under load, and each settlement alone is a journaled write whose
round trip and per-command cost dominated notify's CPU (measured: one ``update_one`` per
webhook was a sixth of the process). Grouped, a burst of settlements costs a couple of writes;
a lone settlement is written at once, as before.

Guarantees:

- ``settle`` returns only once its update is durable (the collection's write concern), and
  says whether it matched: an update whose claim was lost matches nothing and changes nothing.
- One update's failure is its own: a write error on one document fails that settlement only;
  a failure of the whole write (MongoDB unreachable) fails every settlement of the group, each
  caller deciding what to do (the dispatcher retries transient ones).
- Nothing is left waiting: a writer stopped (cancelled) fails what it had not written.
"""

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pymongo import UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError, WriteError

Document = dict[str, Any]

# Past this many, a group is split: one write stays a bounded message.
GROUP_LIMIT = 500


@dataclass(frozen=True)
class Settling:
    """One settlement: ``update`` applies only under ``lease``, and records ``lease`` as the
    document's ``settled_lease``, which is how a group tells which of its updates matched."""

    delivery_id: str
    tenant_id: str
    lease: str
    update: UpdateOne
    done: "asyncio.Future[bool]" = field(compare=False)


class GroupedSettles:
    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self._collection = collection
        self._waiting: list[Settling] = []
        self._writer: asyncio.Task[None] | None = None

    async def settle(self, delivery_id: str, tenant_id: str, lease: str, update: UpdateOne) -> bool:
        loop = asyncio.get_running_loop()
        settling = Settling(delivery_id, tenant_id, lease, update, loop.create_future())
        self._waiting.append(settling)
        if self._writer is None:
            self._writer = loop.create_task(self._write_all(), name="notify-settles")
        return await settling.done

    async def _write_all(self) -> None:
        group: list[Settling] = []
        try:
            while self._waiting:
                group, self._waiting = self._waiting[:GROUP_LIMIT], self._waiting[GROUP_LIMIT:]
                await self._write(group)
        except BaseException as error:
            stopped = RuntimeError(f"settlement not written: {error!r}")
            for settling in group + self._waiting:
                _fail(settling, stopped)
            self._waiting = []
            raise
        finally:
            self._writer = None

    async def _write(self, group: Sequence[Settling]) -> None:
        failed: dict[int, Exception] = {}
        try:
            result = await self._collection.bulk_write([s.update for s in group], ordered=False)
            matched = result.matched_count
        except BulkWriteError as error:
            if error.details.get("writeConcernErrors"):
                for settling in group:
                    _fail(settling, error)
                return
            matched = error.details.get("nMatched", 0)
            for e in error.details.get("writeErrors", []):
                failed[e["index"]] = WriteError(e.get("errmsg", ""), e.get("code"), e)
        except Exception as error:
            for settling in group:
                _fail(settling, error)
            return
        written = [(i, s) for i, s in enumerate(group) if i not in failed]
        try:
            kept = None if matched == len(written) else await self._kept([s for _, s in written])
        except Exception as error:
            kept, failed = set(), {i: error for i, _ in written} | failed
        for i, settling in enumerate(group):
            if i in failed:
                _fail(settling, failed[i])
            elif not settling.done.done():
                settling.done.set_result(
                    kept is None or (settling.delivery_id, settling.lease) in kept
                )

    async def _kept(self, settled: Sequence[Settling]) -> set[tuple[str, str]]:
        """Which of ``settled`` matched (some did not: their claims were lost)."""
        cursor = self._collection.find(
            {
                "_id": {"$in": [s.delivery_id for s in settled]},
                "tenant_id": {"$in": sorted({s.tenant_id for s in settled})},
                "settled_lease": {"$in": sorted({s.lease for s in settled})},
            },
            projection={"settled_lease": True},
        )
        return {(doc["_id"], doc["settled_lease"]) async for doc in cursor}


def _fail(settling: Settling, error: BaseException) -> None:
    if not settling.done.done():
        settling.done.set_exception(error)
