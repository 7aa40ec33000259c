"""In-memory fakes of risk's ports with the guarantees and the failures of the real ones."""

from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self, TypeVar

from aiokafka.errors import KafkaConnectionError
from pymongo.errors import DuplicateKeyError, OperationFailure

from laboursight_risk.alerts import Alert
from laboursight_risk.fold import AlertKey, EntityRef, Screening, ScreeningKey
from laboursight_risk.outbox import OutboxEntry
from laboursight_risk.profile import Profile
from laboursight_runtime.kafka import Outgoing
from laboursight_schemas.envelope import Envelope

K = TypeVar("K")
V = TypeVar("V")


@dataclass(frozen=True)
class Stored:
    """An alert as the database holds it: its state, every revision, and the outbox marks."""

    state: Alert
    revisions: tuple[OutboxEntry, ...]
    published_revision: int = -1
    pending_at: datetime | None = None
    published_at: datetime | None = None

    @property
    def published(self) -> bool:
        return self.published_revision >= self.state.revision

    def unpublished(self) -> list[OutboxEntry]:
        return [e for e in self.revisions if e.revision > self.published_revision]


def write_conflict(what: object) -> OperationFailure:
    """What MongoDB raises inside a transaction that writes a document changed since its
    snapshot: labelled, so ``is_transient`` retries it."""
    return OperationFailure(
        f"WriteConflict on {what!r}",
        code=112,
        details={"errorLabels": ["TransientTransactionError"]},
    )


class InMemoryRiskStore:
    """A RiskStore whose units of work behave like MongoDB transactions: reads see the state at
    ``async with``, writes land at the commit all at once, and a commit that would overwrite a
    document another unit of work committed meanwhile fails with a write conflict."""

    def __init__(self, conflicting_commits: int = 0) -> None:
        """``conflicting_commits``: how many commits fail with a write conflict whatever they
        write, as under heavy contention."""
        self.conflicting_commits = conflicting_commits
        self.entities: dict[EntityRef, Profile] = {}
        self.findings: dict[ScreeningKey, Screening] = {}
        self.alerts: dict[AlertKey, Stored] = {}
        self.outbox = InMemoryOutbox(self)
        self.commits = 0

    def unit_of_work(self) -> "InMemoryUnitOfWork":
        return InMemoryUnitOfWork(self)


class InMemoryOutbox:
    def __init__(self, store: InMemoryRiskStore) -> None:
        self._store = store

    async def older_than(self, cutoff: datetime, limit: int) -> list[OutboxEntry]:
        stale = [
            s
            for s in self._store.alerts.values()
            if not s.published and s.pending_at is not None and s.pending_at < cutoff
        ]
        stale.sort(key=lambda s: s.pending_at or cutoff)
        return [e for s in stale[:limit] for e in s.unpublished()]

    async def mark_published(self, entries: Sequence[OutboxEntry]) -> None:
        now = datetime.now(UTC)
        for e in entries:
            key = (e.tenant_id, e.alert.alert_id)
            stored = self._store.alerts[key]
            self._store.alerts[key] = replace(
                stored,
                published_revision=max(stored.published_revision, e.revision),
                published_at=now,
            )

    async def republish(self, published_since: datetime) -> int:
        again = {
            key: replace(stored, published_revision=-1, pending_at=stored.revisions[0].at)
            for key, stored in self._store.alerts.items()
            if stored.published_at is not None and stored.published_at >= published_since
        }
        self._store.alerts.update(again)
        return len(again)

    async def backlog(self) -> int:
        return sum(not s.published for s in self._store.alerts.values())


class InMemoryUnitOfWork:
    def __init__(self, store: InMemoryRiskStore) -> None:
        self._store = store

    async def __aenter__(self) -> Self:
        store = self._store
        self.entities = _Entities(dict(store.entities))
        self.findings = _Findings(dict(store.findings))
        self.alerts = _Alerts(dict(store.alerts))
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        del self.entities, self.findings, self.alerts

    async def commit(self) -> None:
        store = self._store
        if store.conflicting_commits:
            store.conflicting_commits -= 1
            raise write_conflict("a document another transaction wrote")
        _check(store.entities, self.entities.snapshot, self.entities.written)
        _check(store.findings, self.findings.snapshot, self.findings.written)
        _check(store.alerts, self.alerts.snapshot, self.alerts.written)
        store.entities.update(self.entities.written)
        store.findings.update(self.findings.written)
        store.alerts.update(self.alerts.written)
        store.commits += 1


def _check(current: dict[K, V], snapshot: dict[K, V], written: dict[K, V]) -> None:
    for key in written:
        if current.get(key) is not snapshot.get(key):
            raise write_conflict(key)


class _Entities:
    def __init__(self, snapshot: dict[EntityRef, Profile]) -> None:
        self.snapshot = snapshot
        self.written: dict[EntityRef, Profile] = {}

    async def get(self, refs: Collection[EntityRef]) -> dict[EntityRef, Profile]:
        return {r: self.snapshot[r] for r in refs if r in self.snapshot}

    async def save(self, profiles: Sequence[Profile], now: datetime) -> None:
        self.written.update({(p.tenant_id, p.entity_kind, p.entity_id): p for p in profiles})


class _Findings:
    def __init__(self, snapshot: dict[ScreeningKey, Screening]) -> None:
        self.snapshot = snapshot
        self.written: dict[ScreeningKey, Screening] = {}

    async def recorded(self, keys: Collection[ScreeningKey]) -> set[ScreeningKey]:
        return {k for k in keys if k in self.snapshot}

    async def add(self, screenings: Sequence[Screening], now: datetime) -> None:
        for s in screenings:
            if s.key in self.snapshot or s.key in self.written:
                raise DuplicateKeyError(f"E11000 duplicate key {s.key!r}", code=11000)
            self.written[s.key] = s


class _Alerts:
    def __init__(self, snapshot: dict[AlertKey, Stored]) -> None:
        self.snapshot = snapshot
        self.written: dict[AlertKey, Stored] = {}

    async def get(self, keys: Collection[AlertKey]) -> dict[AlertKey, Alert]:
        return {k: self.snapshot[k].state for k in keys if k in self.snapshot}

    async def save(
        self, states: Sequence[Alert], revisions: Sequence[OutboxEntry]
    ) -> list[OutboxEntry]:
        left: list[OutboxEntry] = []
        for state in states:
            key = (state.tenant_id, state.alert_id)
            new = [e for e in revisions if (e.tenant_id, e.alert.alert_id) == key]
            before = self.written.get(key) or self.snapshot.get(key)
            if before is None:
                self.written[key] = Stored(state, tuple(new), pending_at=new[0].at)
            else:
                pending = before.pending_at if not before.published or not new else new[0].at
                self.written[key] = replace(
                    before,
                    state=state,
                    revisions=before.revisions + tuple(new),
                    pending_at=pending,
                )
            if new:
                left += (before.unpublished() if before else []) + new
        return left


class Crash(BaseException):
    """The process dying at that point: nothing after it runs, no handler catches it."""


class FakeBroker:
    """A BatchPublisher that keeps what it was sent, in one partition whose end offset it
    tells (a BrokerLog). Its first ``fail_times`` records fail as with an unreachable broker;
    its first ``crash_times`` stand for the process dying there; ``lose_memory`` is a broker
    with memory storage restarted."""

    def __init__(self, fail_times: int = 0, crash_times: int = 0) -> None:
        self.sent: list[tuple[str, str, Envelope[Any]]] = []
        self.attempted: list[tuple[str, str, Envelope[Any]]] = []
        self.unreadable = False
        self._fail_times = fail_times
        self._crash_times = crash_times

    async def publish(self, topic: str, key: str, event: Envelope[Any]) -> None:
        self.attempted.append((topic, key, event))
        if self._crash_times:
            self._crash_times -= 1
            raise Crash
        if self._fail_times:
            self._fail_times -= 1
            raise KafkaConnectionError("broker unreachable")
        self.sent.append((topic, key, event))

    async def publish_all(self, items: Sequence[Outgoing]) -> None:
        failure: Exception | None = None
        for topic, key, event in items:
            try:
                await self.publish(topic, key, event)
            except Exception as error:
                failure = failure or error
        if failure is not None:
            raise failure

    def lose_memory(self) -> None:
        self.sent = []

    async def end_offsets(self) -> dict[int, int]:
        if self.unreadable:
            raise KafkaConnectionError("broker unreachable")
        return {0: len(self.sent)}

    async def close(self) -> None:
        pass
