"""The ledger is kept for good: every service's purge, run years later, leaves every chain entry,
head and checkpoint as it was, and the chain verifies intact with as many entries."""

import uuid
from datetime import timedelta
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from laboursight_api.purge import TARGETS as API_TARGETS
from laboursight_ledger.checkpoints import Checkpoints
from laboursight_ledger.store import MongoLedger
from laboursight_ledger.verification import verify_tenants
from laboursight_notify.purge import TARGETS as NOTIFY_TARGETS
from laboursight_risk.handlers import RecordFindings
from laboursight_risk.purge import TARGETS as RISK_TARGETS
from laboursight_risk.store import MongoRiskStore
from laboursight_runtime.retention import Target, purge
from laboursight_runtime.settings import Settings
from laboursight_schemas import collections
from laboursight_schemas.envelope import now
from tests.retention import years_from_now
from tests.risk.builders import event, supplier
from tests.risk.fakes import FakeBroker

from .test_store import arrivals

pytestmark = pytest.mark.integration

Database = AsyncDatabase[dict[str, Any]]
LEDGER_COLLECTIONS = (collections.LEDGER, collections.LEDGER_HEADS, collections.LEDGER_CHECKPOINTS)
EVERY_TARGET = (*API_TARGETS, *RISK_TARGETS, *NOTIFY_TARGETS)


async def everything(db: Database) -> dict[str, list[dict[str, Any]]]:
    return {name: await db[name].find().sort("_id", 1).to_list() for name in LEDGER_COLLECTIONS}


async def test_every_purge_leaves_the_ledger_as_it_was(
    settings: Settings, db: Database, ledger: MongoLedger
) -> None:
    tenant = f"t-{uuid.uuid4().hex[:6]}"
    assert await ledger.append(arrivals(tenant, 12), now()) == 12
    await Checkpoints(db, None, now, 3600).take()
    risk = MongoRiskStore(db.client, db.name)
    await risk.create_indexes()
    await RecordFindings(risk, FakeBroker())(
        [event(supplier("SUP-1", "critical", indicators=["debt_bondage"]), tenant_id=tenant)]
    )
    before = await everything(db)
    [verdict] = await verify_tenants(settings, [tenant])
    assert (verdict.intact, verdict.entries) == (True, 12)

    purged = await purge(db, EVERY_TARGET, years_from_now(30))

    assert purged[collections.FINDINGS].purged == 1
    assert await everything(db) == before
    [after] = await verify_tenants(settings, [tenant])
    assert (after.intact, after.entries, after.head_hash) == (True, 12, verdict.head_hash)


@pytest.mark.parametrize("collection", LEDGER_COLLECTIONS)
async def test_a_purge_naming_the_ledger_is_refused(db: Database, collection: str) -> None:
    target = Target(collection, lambda cutoff: {"at": {"$lt": cutoff}}, lambda _: [], {})

    with pytest.raises(ValueError, match="the ledger is never purged"):
        await purge(db, [*RISK_TARGETS, target], now() + timedelta(days=1))
