"""Hand-written fakes: an event bus that records or fails like an absent Kafka, and MongoDB
writes that fail the ways a real server's do."""

import asyncio
import json
from collections.abc import Sequence
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import AutoReconnect, PyMongoError

from laboursight_api.bus import Outcome
from laboursight_api.disclosure_store import DisclosureStore
from laboursight_api.outbox import OutboxRecord


class FakeBus:
    def __init__(self, failure: Exception | None = None, *, ready: bool = True) -> None:
        self.sent: list[OutboxRecord] = []
        self.failure = failure
        self.ready = ready

    async def send(self, records: Sequence[OutboxRecord]) -> list[Outcome]:
        if self.failure is not None:
            return [self.failure for _ in records]
        self.sent.extend(records)
        return [None for _ in records]

    async def ping(self) -> bool:
        return self.ready

    def events(self) -> list[dict[str, Any]]:
        """What reached the bus, as a consumer reads it."""
        return [json.loads(record.value) for record in self.sent]


class FailingWrites(DisclosureStore):
    """The accepting write fails with ``failure``; ``lands``: it reached MongoDB all the same,
    as when the connection drops after the server applied it."""

    def __init__(
        self, db: AsyncDatabase[dict[str, Any]], failure: PyMongoError, *, lands: bool = False
    ) -> None:
        super().__init__(db)
        self.failure: PyMongoError | None = failure
        self.lands = lands

    async def insert(self, document: dict[str, Any], deadline: float) -> None:
        failure, self.failure = self.failure, None
        if failure is None or self.lands:
            await super().insert(document, deadline)
        if failure is not None:
            raise failure


class HeldWrites(DisclosureStore):
    """The accepting write waits until ``resume`` is set: a request caught in flight."""

    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        super().__init__(db)
        self.writing = asyncio.Event()
        self.resume = asyncio.Event()

    async def insert(self, document: dict[str, Any], deadline: float) -> None:
        self.writing.set()
        await self.resume.wait()
        await super().insert(document, deadline)


CONNECTION_LOST = AutoReconnect("connection closed")
