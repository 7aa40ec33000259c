"""``laboursight-risk purge`` on real MongoDB, over what the real risk store recorded: findings past
the retention go unless their entity is held; entities and alerts stay whatever their age."""

from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from laboursight_api.retention_store import RetentionStore
from laboursight_risk.handlers import RecordFindings
from laboursight_risk.purge import TARGETS
from laboursight_risk.store import MongoRiskStore
from laboursight_runtime.retention import Tally, purge
from laboursight_schemas import collections
from laboursight_schemas.envelope import now
from tests.retention import years_from_now

from .builders import event, recruiter, supplier
from .fakes import FakeBroker

pytestmark = pytest.mark.integration

Db = AsyncDatabase[dict[str, Any]]
TENANT = "tenant-a"


async def snapshot(db: Db, collection: str) -> list[dict[str, Any]]:
    return await db[collection].find().sort("_id", 1).to_list()


async def test_findings_past_seven_years_go_unless_held_and_profiles_and_alerts_stay(
    mongo_store: MongoRiskStore, database: Db
) -> None:
    record = RecordFindings(mongo_store, FakeBroker())
    await record(
        [
            event(supplier("SUP-1", "critical", indicators=["debt_bondage"]), tenant_id=TENANT),
            event(supplier("SUP-2", "critical", indicators=["debt_bondage"]), tenant_id=TENANT),
            event(recruiter("REC-1", "high"), tenant_id=TENANT),
        ]
    )
    entities = await snapshot(database, collections.ENTITIES)
    alerts = await snapshot(database, collections.ALERTS)
    assert len(alerts) >= 2
    await RetentionStore(database).place(TENANT, "supplier", "SUP-1", "litigation", "key-1", now())

    younger = await purge(database, TARGETS, years_from_now(7, days=-1))
    older = await purge(database, TARGETS, years_from_now(7, days=1))

    assert younger == {collections.FINDINGS: Tally(0, 0)}
    assert older == {collections.FINDINGS: Tally(2, 1)}
    left = await database[collections.FINDINGS].distinct("entity_id")
    assert left == ["SUP-1"]
    assert await snapshot(database, collections.ENTITIES) == entities
    assert await snapshot(database, collections.ALERTS) == alerts
