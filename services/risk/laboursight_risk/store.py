"""Where the risk service keeps its state: a unit of work for each batch, and the outbox that
the handlers mark after a commit and the relay reads."""

from typing import Any, Protocol

from pymongo import AsyncMongoClient

from .outbox import Unpublished
from .repositories import MongoOutbox, create_indexes
from .unit_of_work import MongoUnitOfWork, UnitOfWork


class RiskStore(Protocol):
    @property
    def outbox(self) -> Unpublished: ...

    def unit_of_work(self) -> UnitOfWork:
        """A new unit of work; several may be open at once (one per partition)."""
        ...


class MongoRiskStore:
    def __init__(self, client: AsyncMongoClient[dict[str, Any]], database: str) -> None:
        self._client = client
        self._database = database
        self._outbox = MongoOutbox(client[database])

    @property
    def outbox(self) -> MongoOutbox:
        return self._outbox

    def unit_of_work(self) -> MongoUnitOfWork:
        return MongoUnitOfWork(self._client, self._database)

    async def create_indexes(self) -> None:
        await create_indexes(self._client[self._database])
