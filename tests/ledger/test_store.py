"""The ledger store and its handler on the real MongoDB: idempotent, gapless, one chain per
tenant with several appenders at once, and ``verify`` catching what is done to the documents."""

import asyncio
import uuid
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

from laboursight_ledger.handlers import AppendEvents
from laboursight_ledger.store import Arrival, ChainMoved, MongoLedger, lost_race
from laboursight_ledger.verification import verify_tenants
from laboursight_runtime.failures import Contended, is_transient
from laboursight_runtime.mongo import make_client
from laboursight_runtime.settings import Settings
from laboursight_schemas import collections
from laboursight_schemas.envelope import now
from laboursight_schemas.ledger import Walk

pytestmark = pytest.mark.integration

Database = AsyncDatabase[dict[str, Any]]


def arrivals(tenant_id: str, count: int, partition: int = 0, start: int = 0) -> list[Arrival]:
    return [
        Arrival(
            tenant_id, f"{tenant_id}-p{partition}-{n}", "findings.v1", partition, n, b"{%d}" % n
        )
        for n in range(start, start + count)
    ]


async def walked(ledger: MongoLedger, tenant_id: str) -> tuple[bool, int]:
    walk = Walk(tenant_id)
    async for entry in ledger.entries(tenant_id):
        walk.check(entry)
    verdict = walk.verdict(await ledger.head(tenant_id))
    return verdict.intact, verdict.entries


async def test_an_append_repeated_whole_or_in_part_adds_nothing_twice(ledger: MongoLedger) -> None:
    tenant = f"t-{uuid.uuid4().hex[:6]}"
    batch = arrivals(tenant, 5)
    assert await ledger.append(batch, now()) == 5
    assert await ledger.append(batch, now()) == 0
    assert await ledger.append(batch[3:] + arrivals(tenant, 2, start=5), now()) == 2
    assert await walked(ledger, tenant) == (True, 7)


async def test_an_event_twice_in_one_batch_is_appended_once(ledger: MongoLedger) -> None:
    tenant = f"t-{uuid.uuid4().hex[:6]}"
    [one] = arrivals(tenant, 1)
    assert await ledger.append([one, one], now()) == 1


async def test_one_batch_of_several_tenants_extends_each_tenants_own_chain(
    ledger: MongoLedger,
) -> None:
    a, b = (f"t-{uuid.uuid4().hex[:6]}" for _ in range(2))
    mixed = [x for pair in zip(arrivals(a, 3), arrivals(b, 3), strict=True) for x in pair]
    assert await ledger.append(mixed, now()) == 6
    assert await walked(ledger, a) == (True, 3)
    assert await walked(ledger, b) == (True, 3)


async def test_appenders_racing_on_one_tenant_leave_one_gapless_chain(
    settings: Settings, ledger: MongoLedger
) -> None:
    tenant = f"t-{uuid.uuid4().hex[:6]}"
    clients = [make_client(settings) for _ in range(4)]
    try:
        handlers = [AppendEvents(MongoLedger(c, settings.mongodb_database)) for c in clients]

        async def run(handler: AppendEvents, partition: int) -> None:
            for round_ in range(5):
                batch = arrivals(tenant, 4, partition=partition, start=round_ * 4)
                await handler.append_all(batch)

        await asyncio.gather(*(run(h, p) for p, h in enumerate(handlers)))
    finally:
        for client in clients:
            await client.close()
    assert await walked(ledger, tenant) == (True, 80)
    seqs = [e.seq async for e in ledger.entries(tenant)]
    assert seqs == list(range(1, 81))


async def test_verify_names_the_entry_that_was_edited_deleted_or_reordered_in_mongodb(
    settings: Settings, ledger: MongoLedger, db: Database
) -> None:
    tenants = [f"t-{uuid.uuid4().hex[:6]}" for _ in range(5)]
    for tenant in tenants:
        await ledger.append(arrivals(tenant, 6), now())
    entries = db[collections.LEDGER]
    edited, payload, deleted, swapped, untouched = tenants
    await entries.update_one({"_id": f"{edited}/3"}, {"$set": {"offset": 42}})
    await entries.update_one({"_id": f"{payload}/4"}, {"$set": {"event": b"{forged}"}})
    await entries.delete_one({"_id": f"{deleted}/2"})
    await entries.update_one({"_id": f"{swapped}/2"}, {"$set": {"seq": 99}})
    await entries.update_one({"_id": f"{swapped}/5"}, {"$set": {"seq": 2}})
    await entries.update_one({"_id": f"{swapped}/2"}, {"$set": {"seq": 5}})

    verdicts = {v.tenant_id: v for v in await verify_tenants(settings, tenants)}

    assert (verdicts[edited].broken_at, verdicts[edited].reason) == (
        3,
        "its fields do not hash to its entry_hash",
    )
    assert verdicts[payload].broken_at == 4
    assert "does not hash to its event_sha256" in (verdicts[payload].reason or "")
    assert verdicts[deleted].broken_at == 2
    assert verdicts[swapped].broken_at == 2
    assert verdicts[untouched].intact
    assert verdicts[untouched].entries == 6


class LosingLedger:
    """A ledger whose every append loses the race for the head."""

    async def append(self, arrivals: Any, at: Any) -> int:
        raise ChainMoved("tenant-a")


async def test_an_append_that_keeps_losing_races_is_a_transient_failure_not_a_dead_letter() -> None:
    with pytest.raises(Contended) as raised:
        await AppendEvents(LosingLedger()).append_all(arrivals("tenant-a", 1))  # type: ignore[arg-type]
    assert is_transient(raised.value)


def test_a_bulk_write_refused_only_for_duplicate_keys_lost_a_race_and_any_other_did_not() -> None:
    duplicate = {"index": 0, "code": 11000, "errmsg": "E11000 duplicate key"}
    invalid = {"index": 1, "code": 121, "errmsg": "Document failed validation"}
    assert lost_race(BulkWriteError({"writeErrors": [duplicate]}))
    assert not lost_race(BulkWriteError({"writeErrors": [duplicate, invalid]}))
    assert not lost_race(BulkWriteError({"writeErrors": []}))
