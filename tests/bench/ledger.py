"""The ledger phase: how fast ``verify`` walks a real chain, next to a plain read of it."""

import asyncio
import time
from typing import Any

from laboursight_ledger.store import ENTRY_FIELDS, PAGE, MongoLedger
from laboursight_schemas import collections
from laboursight_schemas.ledger import Walk
from tests.bench.phases import Bench, Tenant

QUIET_S = 2.0


async def phase(bench: Bench, tenant: Tenant, settle_s: float) -> dict[str, Any]:
    """Once the tenant's chain stops growing (the ledger caught up with the chain), walks it."""
    ledger = MongoLedger(bench.client, bench.db.name)
    head = await _settled(ledger, tenant.name, bench.budget.deadline(settle_s))
    started, cpu = time.perf_counter(), time.process_time()
    read = 0
    cursor = bench.db[collections.LEDGER].find(
        {"tenant_id": tenant.name}, projection=ENTRY_FIELDS, batch_size=PAGE, sort=[("seq", 1)]
    )
    while page := await cursor.to_list(PAGE):
        read += len(page)
    read_s, read_cpu = time.perf_counter() - started, time.process_time() - cpu
    walk = Walk(tenant.name)
    started, cpu = time.perf_counter(), time.process_time()
    async for entry in ledger.entries(tenant.name, until=head):
        walk.check(entry)
    verify_s, verify_cpu = time.perf_counter() - started, time.process_time() - cpu
    verdict = walk.verdict()
    return {
        "entries": verdict.entries,
        "intact": verdict.intact,
        "verify_per_s": verdict.entries / verify_s if verify_s else None,
        "verify_cpu_us_per_entry": verify_cpu * 1e6 / verdict.entries if verdict.entries else None,
        "raw_read_per_s": read / read_s if read_s else None,
        "raw_read_cpu_us_per_entry": read_cpu * 1e6 / read if read else None,
    }


async def _settled(ledger: MongoLedger, tenant_id: str, deadline: float) -> int:
    """The head's sequence number once it moved not at all for ``QUIET_S``."""
    last, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        seq = (await ledger.head(tenant_id)).seq
        if seq != last:
            last, since = seq, time.monotonic()
        elif time.monotonic() - since >= QUIET_S:
            break
        await asyncio.sleep(0.2)
    return last
