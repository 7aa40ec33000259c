"""GET /v1/ledger on chains written by the real ledger store: the auditor's verify."""

from typing import Any

import httpx
from pymongo.asynchronous.database import AsyncDatabase

from laboursight_ledger.store import Arrival, MongoLedger
from laboursight_schemas import collections
from laboursight_schemas.envelope import now
from laboursight_schemas.ledger import GENESIS
from tests.api.conftest import TENANT, bearer

Db = AsyncDatabase[dict[str, Any]]


async def chain(db: Db, tenant_id: str, count: int) -> None:
    ledger = MongoLedger(db.client, db.name)
    await ledger.create_indexes()
    arrivals = [
        Arrival(tenant_id, f"e-{n}", "findings.v1", 0, n, b'{"n":%d}' % n) for n in range(count)
    ]
    await ledger.append(arrivals, now())


async def test_an_intact_chain_is_reported_with_its_head_hash(
    api: httpx.AsyncClient, db: Db
) -> None:
    await chain(db, TENANT, 4)
    head = await db[collections.LEDGER_HEADS].find_one({"_id": TENANT})
    assert head is not None

    response = await api.get("/v1/ledger", headers=await bearer(db, "auditor"))

    assert response.status_code == 200, response.text
    assert response.json() == {
        "intact": True,
        "entries": 4,
        "head_hash": head["entry_hash"],
        "recorded_head_seq": 4,
        "checkpoints": 0,
        "broken_at": None,
        "reason": None,
    }


async def test_a_tampered_entry_is_named_with_why(api: httpx.AsyncClient, db: Db) -> None:
    await chain(db, TENANT, 4)
    await db[collections.LEDGER].update_one({"_id": f"{TENANT}/3"}, {"$set": {"event": b"{}"}})

    body = (await api.get("/v1/ledger", headers=await bearer(db, "auditor"))).json()

    assert (body["intact"], body["entries"], body["broken_at"]) == (False, 2, 3)
    assert body["reason"] == "its event e-2 does not hash to its event_sha256"


async def test_each_tenant_walks_only_its_own_chain(api: httpx.AsyncClient, db: Db) -> None:
    await chain(db, "tenant-other", 3)
    await db[collections.LEDGER].update_one({"_id": "tenant-other/1"}, {"$set": {"offset": 7}})

    body = (await api.get("/v1/ledger", headers=await bearer(db, "auditor"))).json()

    assert body == {
        "intact": True,
        "entries": 0,
        "head_hash": GENESIS,
        "recorded_head_seq": 0,
        "checkpoints": 0,
        "broken_at": None,
        "reason": None,
    }


async def test_only_auditors_verify(api: httpx.AsyncClient, db: Db) -> None:
    for role in ("analyst", "admin"):
        response = await api.get("/v1/ledger", headers=await bearer(db, role))
        assert response.status_code == 403, role
