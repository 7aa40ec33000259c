"""The overview's "level rose this week", on screenings recorded as risk records them, some of
them dated before the week."""

import re
from datetime import timedelta

import httpx
import pytest

from laboursight_risk.handlers import RecordFindings
from laboursight_risk.store import MongoRiskStore
from laboursight_schemas import collections
from laboursight_schemas.envelope import now
from laboursight_schemas.findings import FindingsComputed
from tests.dashboard.conftest import SUPPLIER_ID, TENANT, Db, key_of, sign_in
from tests.risk.builders import event, supplier
from tests.risk.fakes import FakeBroker

pytestmark = pytest.mark.integration


async def _record(db: Db, computed: FindingsComputed, *, days_ago: int = 0) -> None:
    store = MongoRiskStore(db.client, db.name)
    await RecordFindings(store, FakeBroker())([event(computed, tenant_id=TENANT)])
    if days_ago:
        await db[collections.FINDINGS].update_many(
            {"disclosure_id": computed.disclosure_id},
            {"$set": {"computed_at": now() - timedelta(days=days_ago)}},
        )


async def test_the_entities_whose_level_rose_this_week(browser: httpx.AsyncClient, db: Db) -> None:
    await _record(db, supplier("SUP-ROSE", "low", end="2026-03-31"), days_ago=10)
    await _record(db, supplier("SUP-ROSE", "high", end="2026-06-30"))
    await _record(db, supplier("SUP-FELL", "high", end="2026-03-31"), days_ago=10)
    await _record(db, supplier("SUP-FELL", "medium", end="2026-06-30"))
    await _record(db, supplier("SUP-NEW-LOW", "low"))
    await _record(db, supplier("SUP-NEW-MEDIUM", "medium"))
    await sign_in(browser, await key_of(db, "analyst"))
    page = (await browser.get("/dashboard")).text
    section = re.search(r'<h2 id="risers-h">.*?</section>', page, re.DOTALL)
    assert section is not None, page
    shown = re.findall(
        r"/dashboard/entities/supplier/([^\"]+)\">[^<]*</a> \(supplier\): ([^<]+) →", section[0]
    )
    # The seeded supplier came in at critical this week.
    assert shown == [
        (SUPPLIER_ID, "not scored"),
        ("SUP-ROSE", "low"),
        ("SUP-NEW-MEDIUM", "not scored"),
    ]
