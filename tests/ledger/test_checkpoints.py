"""Daily checkpoints on the real MongoDB: signed heads that catch a chain rewritten whole."""

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from laboursight_ledger.checkpoints import Checkpoints
from laboursight_ledger.signing import Signer, new_private_key, signed_by
from laboursight_ledger.store import Arrival, MongoLedger
from laboursight_ledger.verification import verify_tenants
from laboursight_runtime.settings import Settings
from laboursight_schemas import collections
from laboursight_schemas.envelope import now
from laboursight_schemas.ledger import Head, chained, checkpoint_of, entry_document

pytestmark = pytest.mark.integration

Database = AsyncDatabase[dict[str, Any]]
KEY = new_private_key()
DAY_ONE = datetime(2026, 12, 1, 23, 0, tzinfo=UTC)


def events(tenant_id: str, count: int, start: int = 0) -> list[Arrival]:
    return [
        Arrival(tenant_id, f"e-{n}", "alerts.v1", 0, n, b'{"n":%d}' % n)
        for n in range(start, start + count)
    ]


def checkpoints(db: Database, at: datetime = DAY_ONE) -> Checkpoints:
    return Checkpoints(db, Signer(KEY), lambda: at, interval_s=3600)


async def test_one_signed_checkpoint_per_tenant_and_day_whoever_takes_it(
    ledger: MongoLedger, db: Database
) -> None:
    tenant = f"t-{uuid.uuid4().hex[:6]}"
    await ledger.append(events(tenant, 3), now())
    assert await checkpoints(db).take() >= 1
    assert await checkpoints(db).take() == 0
    [document] = await db[collections.LEDGER_CHECKPOINTS].find({"tenant_id": tenant}).to_list()
    checkpoint = checkpoint_of(document)
    head = await ledger.head(tenant)
    assert (checkpoint.day.isoformat(), checkpoint.seq) == ("2026-12-01", 3)
    assert checkpoint.entry_hash == head.entry_hash
    assert signed_by(checkpoint, Signer(KEY).public_key)
    assert not signed_by(checkpoint, Signer(new_private_key()).public_key)


async def test_a_chain_rewritten_with_every_hash_recomputed_is_caught_by_its_checkpoint(
    settings: Settings, ledger: MongoLedger, db: Database
) -> None:
    tenant = f"t-{uuid.uuid4().hex[:6]}"
    await ledger.append(events(tenant, 4), now())
    await checkpoints(db).take()
    await ledger.append(events(tenant, 2, start=4), now())
    # Whoever can write to the database edits event 2 and rebuilds the chain from there on.
    forged = events(tenant, 6)
    forged[1] = Arrival(tenant, "e-1", "alerts.v1", 0, 1, b'{"n":"forged"}')
    entries, head = chained(
        Head(tenant), ((a.event_id, a.topic, a.partition, a.offset, a.event) for a in forged)
    )
    for entry in entries:
        await db[collections.LEDGER].replace_one(
            {"_id": f"{tenant}/{entry.seq}"}, entry_document(entry, now())
        )
    await db[collections.LEDGER_HEADS].update_one(
        {"_id": tenant}, {"$set": {"seq": head.seq, "entry_hash": head.entry_hash}}
    )

    [verdict] = await verify_tenants(settings, [tenant])

    assert verdict.broken_at == 4
    assert "checkpointed on 2026-12-01: the chain was rewritten" in (verdict.reason or "")


async def test_a_checkpoint_not_signed_by_the_published_key_is_a_break(
    settings: Settings, ledger: MongoLedger, db: Database
) -> None:
    tenant = f"t-{uuid.uuid4().hex[:6]}"
    await ledger.append(events(tenant, 2), now())
    await Checkpoints(db, Signer(new_private_key()), lambda: DAY_ONE, 3600).take()

    [verdict] = await verify_tenants(settings, [tenant], Signer(KEY).public_key)
    [unchecked] = await verify_tenants(settings, [tenant])

    assert verdict.reason == "its checkpoint of 2026-12-01 is not signed by the key given"
    assert unchecked.intact


async def test_entries_cut_below_a_checkpoint_are_caught(
    settings: Settings, ledger: MongoLedger, db: Database
) -> None:
    tenant = f"t-{uuid.uuid4().hex[:6]}"
    await ledger.append(events(tenant, 5), now())
    await checkpoints(db).take()
    await db[collections.LEDGER].delete_many({"tenant_id": tenant, "seq": {"$gt": 2}})
    await db[collections.LEDGER_HEADS].delete_one({"_id": tenant})

    [verdict] = await verify_tenants(settings, [tenant])

    assert verdict.broken_at == 3
    assert verdict.reason == "the chain ends at entry 2, a checkpoint of 2026-12-01 holds entry 5"
