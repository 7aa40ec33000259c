"""One behaviour suite for every RiskStore — its units of work, repositories and outbox — run on
the in-memory fake and on MongoDB."""

import contextlib
from collections.abc import Awaitable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

from laboursight_risk.alerts import Alert
from laboursight_risk.fold import EntityRef
from laboursight_risk.outbox import OutboxEntry
from laboursight_risk.profile import Profile, own_judgement, unknown
from laboursight_risk.store import MongoRiskStore, RiskStore
from laboursight_risk.unit_of_work import UnitOfWork
from laboursight_runtime.failures import is_transient
from laboursight_schemas import collections
from laboursight_schemas.findings import RiskLevel
from tests.risk.builders import next_revision, raised_alert, screening, supplier
from tests.risk.fakes import InMemoryRiskStore

TENANT = "tenant-a"
REF: EntityRef = (TENANT, "supplier", "SUP-1")
NOW = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


def profile(level: RiskLevel = "high", version: int = 0, tenant_id: str = TENANT) -> Profile:
    return replace(
        unknown(tenant_id, "supplier", "SUP-1"),
        own=own_judgement(supplier("SUP-1", level)),
        version=version,
    )


async def written(write: Awaitable[None], uow: UnitOfWork) -> None:
    """``write``, then the commit: MongoDB reports a write conflict at the write, the fake at
    the commit."""
    await write
    await uow.commit()


class Boom(Exception):
    pass


class RiskStoreContract:
    @pytest.fixture
    def store(self) -> RiskStore:
        raise NotImplementedError  # each implementation provides its own

    async def test_what_a_unit_of_work_commits_the_next_one_reads(self, store: RiskStore) -> None:
        recorded, saved = screening(supplier("SUP-1", "high")), profile()
        state, entry = raised_alert()
        async with store.unit_of_work() as uow:
            await uow.findings.add([recorded], NOW)
            await uow.entities.save([saved], NOW)
            assert await uow.alerts.save([state], [entry]) == [entry]
            await uow.commit()
        async with store.unit_of_work() as uow:
            assert await uow.findings.recorded({recorded.key, (TENANT, "other")}) == {recorded.key}
            other: EntityRef = (TENANT, "supplier", "SUP-2")
            assert await uow.entities.get([REF, other]) == {REF: saved}
            key = (TENANT, state.alert_id)
            assert await uow.alerts.get([key, (TENANT, "other")]) == {key: state}
        assert await store.outbox.older_than(NOW + timedelta(days=1), 10) == [entry]

    async def test_an_alert_revised_before_its_first_revision_was_published_keeps_both(
        self, store: RiskStore
    ) -> None:
        state, raised = raised_alert()
        revised, update = next_revision(state, NOW + timedelta(minutes=1))
        async with store.unit_of_work() as uow:
            await uow.alerts.save([state], [raised])
            await uow.commit()
        async with store.unit_of_work() as uow:
            await uow.alerts.get([(TENANT, state.alert_id)])
            assert await uow.alerts.save([revised], [update]) == [raised, update]
            await uow.commit()
        assert await store.outbox.older_than(NOW + timedelta(seconds=30), 10) == [raised, update]
        await store.outbox.mark_published([raised])
        assert await store.outbox.backlog() == 1
        # Pending since the first revision: past its grace even though the second is recent.
        assert await store.outbox.older_than(NOW + timedelta(seconds=30), 10) == [update]
        await store.outbox.mark_published([update, raised])
        assert await store.outbox.backlog() == 0

    async def test_a_revision_of_a_published_alert_waits_its_own_grace(
        self, store: RiskStore
    ) -> None:
        state, raised = raised_alert()
        later = NOW + timedelta(minutes=10)
        revised, update = next_revision(state, later)
        async with store.unit_of_work() as uow:
            await uow.alerts.save([state], [raised])
            await uow.commit()
        await store.outbox.mark_published([raised])
        async with store.unit_of_work() as uow:
            await uow.alerts.get([(TENANT, state.alert_id)])
            assert await uow.alerts.save([revised], [update]) == [update]
            await uow.commit()
        assert await store.outbox.older_than(later, 10) == []
        assert await store.outbox.older_than(later + timedelta(seconds=1), 10) == [update]

    @pytest.mark.parametrize("leaving", ["without a commit", "on an error"])
    async def test_a_unit_of_work_left_without_its_commit_writes_nothing(
        self, store: RiskStore, leaving: str
    ) -> None:
        recorded = screening(supplier("SUP-1", "high"))
        with contextlib.suppress(Boom):
            async with store.unit_of_work() as uow:
                await uow.findings.add([recorded], NOW)
                await uow.entities.save([profile()], NOW)
                await uow.alerts.save(*_one(raised_alert()))
                if leaving == "on an error":
                    raise Boom
        async with store.unit_of_work() as uow:
            assert await uow.findings.recorded({recorded.key}) == set()
            assert await uow.entities.get([REF]) == {}
        assert await store.outbox.backlog() == 0

    async def test_each_tenant_reads_only_its_own(self, store: RiskStore) -> None:
        recorded = screening(supplier("SUP-1", "high"))
        async with store.unit_of_work() as uow:
            await uow.findings.add([recorded], NOW)
            await uow.entities.save([profile()], NOW)
            await uow.commit()
        elsewhere = ("tenant-b", recorded.key[1])
        async with store.unit_of_work() as uow:
            assert await uow.findings.recorded({elsewhere}) == set()
            assert await uow.entities.get([("tenant-b", "supplier", "SUP-1")]) == {}

    async def test_the_outbox_serves_what_is_unpublished_oldest_first_across_tenants(
        self, store: RiskStore
    ) -> None:
        at = [NOW + timedelta(minutes=m) for m in range(3)]
        oldest = raised_alert("SUP-1", "tenant-b", at[0])
        middle, newest = raised_alert("SUP-2", at=at[1]), raised_alert("SUP-3", at=at[2])
        async with store.unit_of_work() as uow:
            await uow.alerts.save(*_both(newest, oldest, middle))
            await uow.commit()
        entries = [oldest[1], middle[1], newest[1]]
        assert await store.outbox.older_than(at[2], 10) == entries[:2]
        assert await store.outbox.older_than(at[2] + timedelta(seconds=1), 2) == entries[:2]
        assert await store.outbox.backlog() == 3
        await store.outbox.mark_published(entries[:2])
        assert await store.outbox.older_than(at[2] + timedelta(seconds=1), 10) == entries[2:]
        assert await store.outbox.backlog() == 1

    async def test_alerts_published_since_a_time_are_published_again_from_their_start(
        self, store: RiskStore
    ) -> None:
        state, raised = raised_alert()
        revised, update = next_revision(state, NOW + timedelta(minutes=1))
        async with store.unit_of_work() as uow:
            await uow.alerts.save([state], [raised])
            await uow.commit()
        async with store.unit_of_work() as uow:
            await uow.alerts.get([(TENANT, state.alert_id)])
            await uow.alerts.save([revised], [update])
            await uow.commit()
        await store.outbox.mark_published([raised, update])
        assert await store.outbox.republish(datetime.now(UTC) + timedelta(minutes=1)) == 0
        assert await store.outbox.republish(datetime.now(UTC) - timedelta(minutes=1)) == 1
        assert await store.outbox.older_than(NOW + timedelta(seconds=1), 10) == [raised, update]

    async def test_a_unit_of_work_reads_one_snapshot(self, store: RiskStore) -> None:
        saved = profile()
        async with store.unit_of_work() as reader:
            assert await reader.entities.get([REF]) == {}
            async with store.unit_of_work() as writer:
                await writer.entities.save([saved], NOW)
                await writer.commit()
            assert await reader.entities.get([REF]) == {}
        async with store.unit_of_work() as uow:
            assert await uow.entities.get([REF]) == {REF: saved}

    @pytest.mark.parametrize("existing", [True, False], ids=["known profile", "new profile"])
    async def test_writing_a_profile_changed_since_the_snapshot_is_a_transient_conflict(
        self, store: RiskStore, existing: bool
    ) -> None:
        if existing:
            async with store.unit_of_work() as uow:
                await uow.entities.save([profile("medium")], NOW)
                await uow.commit()
        winner = profile("critical", version=1)
        async with store.unit_of_work() as late:
            await late.entities.get([REF])
            async with store.unit_of_work() as early:
                await early.entities.get([REF])
                await early.entities.save([winner], NOW)
                await early.commit()
            with pytest.raises(PyMongoError) as conflict:
                await written(late.entities.save([profile("low", version=1)], NOW), late)
        assert is_transient(conflict.value)
        async with store.unit_of_work() as uow:
            assert await uow.entities.get([REF]) == {REF: winner}

    async def test_recording_a_screening_recorded_since_the_snapshot_is_a_transient_conflict(
        self, store: RiskStore
    ) -> None:
        recorded = screening(supplier("SUP-1", "high"))
        async with store.unit_of_work() as late:
            assert await late.findings.recorded({recorded.key}) == set()
            async with store.unit_of_work() as early:
                await early.findings.add([recorded], NOW)
                await early.commit()
            with pytest.raises(PyMongoError) as conflict:
                await written(late.findings.add([recorded], NOW), late)
        assert is_transient(conflict.value)


class TestInMemoryRiskStore(RiskStoreContract):
    @pytest.fixture
    def store(self) -> RiskStore:
        return InMemoryRiskStore()


@pytest.mark.integration
class TestMongoRiskStore(RiskStoreContract):
    @pytest.fixture
    def store(self, mongo_store: MongoRiskStore) -> RiskStore:
        return mongo_store

    async def test_the_documents_read_without_the_code(
        self, store: RiskStore, database: AsyncDatabase[dict[str, Any]]
    ) -> None:
        recorded, (state, alert) = screening(supplier("SUP-1", "high")), raised_alert()
        async with store.unit_of_work() as uow:
            await uow.findings.add([recorded], NOW)
            await uow.entities.save([profile()], NOW)
            await uow.alerts.save([state], [alert])
            await uow.commit()
        entity = await database[collections.ENTITIES].find_one({"_id": "tenant-a/supplier/SUP-1"})
        assert entity is not None
        assert (entity["tenant_id"], entity["risk_level"], entity["score"]) == (TENANT, "high", 70)
        assert entity["own"]["disclosure_id"].startswith("d-SUP-1-")
        # The api finds a disclosure's findings, and so its status, by these two fields.
        findings = await database[collections.FINDINGS].find_one(
            {"tenant_id": TENANT, "disclosure_id": recorded.computed.disclosure_id}
        )
        assert findings is not None
        assert (findings["_id"], findings["event_id"]) == (recorded.key[1], recorded.event_id)
        assert findings["judgement"]["risk_level"] == "high"
        stored = await database[collections.ALERTS].find_one({"_id": alert.alert.alert_id})
        assert stored is not None
        # What the api's alert list reads, and the outbox beside it.
        assert (stored["tenant_id"], stored["status"], stored["revision"]) == (TENANT, "open", 0)
        assert (stored["alert_type"], stored["raised_at"]) == ("risk_level", NOW)
        assert stored["dedupe_key"] == alert.alert.dedupe_key
        assert (stored["alert"]["entity_kind"], stored["alert"]["entity_id"]) == (
            "supplier",
            "SUP-1",
        )
        assert (stored["alert"]["risk_level"], stored["alert"]["period_end"]) == (
            "high",
            "2026-06-30",
        )
        assert (stored["published"], stored["published_revision"]) == (False, -1)
        assert [r["revision"] for r in stored["revisions"]] == [0]


def _one(pair: tuple[Alert, OutboxEntry]) -> tuple[list[Alert], list[OutboxEntry]]:
    return [pair[0]], [pair[1]]


def _both(*pairs: tuple[Alert, OutboxEntry]) -> tuple[list[Alert], list[OutboxEntry]]:
    return [p[0] for p in pairs], [p[1] for p in pairs]
