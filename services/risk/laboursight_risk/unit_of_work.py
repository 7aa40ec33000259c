"""The unit of work: one MongoDB transaction around the repositories of one batch.

``async with uow:`` opens it, ``await uow.commit()`` makes every write in it durable at once, and
leaving the block without a commit (an error, a cancellation) aborts it, so nothing of a batch
is ever half written. Reads see one snapshot; a write to a document that another transaction
changed since then fails with a ``TransientTransactionError``, which ``is_transient`` recognises:
the whole batch is then run again, on the other transaction's result.
"""

from types import TracebackType
from typing import Any, Protocol, Self

from pymongo import AsyncMongoClient
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.read_concern import ReadConcern
from pymongo.write_concern import WriteConcern

from .repositories import Alerts, Entities, Findings, MongoAlerts, MongoEntities, MongoFindings


class UnitOfWork(Protocol):
    @property
    def entities(self) -> Entities: ...

    @property
    def findings(self) -> Findings: ...

    @property
    def alerts(self) -> Alerts: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None: ...

    async def commit(self) -> None: ...


class MongoUnitOfWork:
    """A snapshot read, a majority-acknowledged commit."""

    entities: MongoEntities
    findings: MongoFindings
    alerts: MongoAlerts

    def __init__(self, client: AsyncMongoClient[dict[str, Any]], database: str) -> None:
        self._client = client
        self._database = database
        self._session: AsyncClientSession | None = None

    async def __aenter__(self) -> Self:
        session = self._client.start_session()
        await session.start_transaction(
            read_concern=ReadConcern("snapshot"), write_concern=WriteConcern("majority")
        )
        self._session = session
        db = self._client[self._database]
        self.entities = MongoEntities(db, session)
        self.findings = MongoFindings(db, session)
        self.alerts = MongoAlerts(db, session)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        session, self._session = self._session, None
        if session is None:
            return
        try:
            if session.in_transaction:
                await session.abort_transaction()
        finally:
            await session.end_session()

    async def commit(self) -> None:
        if self._session is None:
            raise RuntimeError("commit outside `async with` of the unit of work")
        await self._session.commit_transaction()
