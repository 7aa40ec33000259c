"""The ledger phase: how fast ``verify`` walks a real chain, next to a plain read of it.

Run alone (``python -m tests.bench.ledger``), the ledger service's own figures: its peak
resident memory and append rate while it catches up with a backlog on every topic it reads.
"""

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaProducer
from pydantic import TypeAdapter
from pymongo import AsyncMongoClient

from laboursight_ledger.store import ENTRY_FIELDS, PAGE, MongoLedger
from laboursight_runtime.kafka import MAX_BATCH_BYTES
from laboursight_runtime.local import LocalServers
from laboursight_runtime.local.servers import free_ports
from laboursight_runtime.local.stack import stop_processes
from laboursight_schemas import collections, topics
from laboursight_schemas.disclosure import Disclosure
from laboursight_schemas.envelope import (
    CLOUDEVENTS_JSON,
    DATA_VERSIONS,
    RECRUITER_DISCLOSURE_SUBMITTED,
    SUPPLIER_DISCLOSURE_SUBMITTED,
    Envelope,
    RecruiterDisclosureSubmitted,
    SupplierDisclosureSubmitted,
    now,
)
from laboursight_schemas.ledger import Walk
from laboursight_schemas.reference import load_reference
from laboursight_screening.engine import SHIPPED
from laboursight_screening.replay_screen import ChunkScreener, Window
from tests.bench.corpus import corpus
from tests.bench.phases import Bench, Tenant
from tests.bench.rss import RssSampler
from tests.bench.workload import entity_id

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


# --- `python -m tests.bench.ledger`: the ledger service alone, catching up with a backlog -------

CATCH_UP_DEADLINE_S = 300.0
DATABASE = "ledger-bench"
TARGET_RSS_MB = 150


def _events(count: int, seed: int, tenants: int) -> list[tuple[str, bytes, bytes]]:
    """``count`` disclosure events as the api publishes them, each followed by the findings
    screening records for it: (topic, key, value), spread over ``tenants`` tenants."""
    validate = TypeAdapter(Disclosure).validate_python
    rules, reference = SHIPPED.compiled(SHIPPED.current_version()), load_reference()
    names = [f"tenant-ledger-bench-{n}" for n in range(tenants)]
    screeners = {name: ChunkScreener(rules, reference, Window(name)) for name in names}
    made = []
    for i, (_, raw) in enumerate(corpus(count, seed)):
        disclosure = validate(raw)
        tenant = names[i % tenants]
        kind = disclosure.kind
        event_type = (
            SUPPLIER_DISCLOSURE_SUBMITTED if kind == "supplier" else RECRUITER_DISCLOSURE_SUBMITTED
        )
        model = SupplierDisclosureSubmitted if kind == "supplier" else RecruiterDisclosureSubmitted
        disclosure_id = str(uuid.uuid4())
        event = Envelope[Any](
            id=str(uuid.uuid4()),
            type=event_type,
            data_version=DATA_VERSIONS[event_type],
            source="/laboursight/api",
            time=now(),
            tenant_id=tenant,
            correlation_id=disclosure_id,
            data=model(disclosure_id=disclosure_id, submitted_by="key", disclosure=disclosure),
        )
        value = event.model_dump_json().encode()
        topic = topics.SUPPLIER_DISCLOSURES if kind == "supplier" else topics.RECRUITER_DISCLOSURES
        key = entity_id(raw).encode()
        made.append((topic, key, value))
        (outcome,) = screeners[tenant]([(topic, value)])
        made.append((topics.FINDINGS, key, outcome.payload))
    return made


async def _produce(bootstrap: str, events: Sequence[tuple[str, bytes, bytes]]) -> None:
    """Each event as our publishers send it: with its ``content-type`` header (which FastStream
    reads: without it, FastStream parses the record as JSON, which a real consumer never pays)."""
    headers = [("content-type", CLOUDEVENTS_JSON.encode())]
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", max_batch_size=MAX_BATCH_BYTES
    )
    await producer.start()
    try:
        sent = [
            await producer.send(topic, value, key=key, headers=headers)
            for topic, key, value in events
        ]
        await asyncio.gather(*sent)
    finally:
        await producer.stop()


async def _caught_up(mongodb_uri: str, expected: int) -> tuple[int, float]:
    """Entries in the ledger once it holds ``expected`` (or the deadline passed), and how long
    that took from the first entry."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_uri)
    entries = client[DATABASE][collections.LEDGER]
    deadline = time.monotonic() + CATCH_UP_DEADLINE_S
    first: float | None = None
    try:
        while (held := await entries.estimated_document_count()) < expected:
            if first is None and held:
                first = time.monotonic()
            if time.monotonic() > deadline:
                break
            await asyncio.sleep(0.1)
        return held, time.monotonic() - (first or time.monotonic())
    finally:
        await client.close()


@dataclass(frozen=True)
class CatchUp:
    entries: int
    seconds: float
    peak_rss_mb: float

    @property
    def per_s(self) -> float:
        return self.entries / self.seconds if self.seconds else 0.0


def catch_up(events: Sequence[tuple[str, bytes, bytes]], log: Path) -> CatchUp:
    """On fresh servers: ``events`` produced, then the ledger started, sampled until it holds
    them all (and a second more, for what it keeps once caught up)."""
    with LocalServers() as servers:
        asyncio.run(_produce(servers.kafka_bootstrap_servers, events))
        (port,) = free_ports(1)
        env = {**os.environ, **servers.environment(), "HTTP_PORT": str(port)}
        sampler = RssSampler(interval_s=0.1)
        sampler.start()
        with open(log, "wb") as output:
            ledger = subprocess.Popen(
                [str(Path(sys.executable).parent / "laboursight-ledger")],
                env={**env, "MONGODB_DATABASE": DATABASE},
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        try:
            held, took = asyncio.run(_caught_up(servers.mongodb_uri, len(events)))
            time.sleep(1.0)
        finally:
            sampler.stop()
            stop_processes([ledger])
    return CatchUp(held, took, sampler.peak_mb().get("ledger", 0.0))


def main(argv: Sequence[str] | None = None) -> None:
    """Fills the topics, then starts ``laboursight-ledger`` and samples its resident memory while
    it appends the backlog; prints its peak RSS and append rate, run by run."""
    options = argparse.ArgumentParser(description=main.__doc__)
    options.add_argument("--disclosures", type=int, default=20_000)
    options.add_argument("--tenants", type=int, default=3)
    options.add_argument("--repeats", type=int, default=3, help="runs, each on fresh servers")
    options.add_argument("--seed", type=int, default=2026)
    args = options.parse_args(argv)
    events = _events(args.disclosures, args.seed, args.tenants)
    size = sum(len(value) for _, _, value in events)
    print(f"{len(events):,} events (a disclosure, then its findings), {size / 1e6:.1f} MB")
    logs = Path(__file__).parent / "results" / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    runs = []
    for run in range(args.repeats):
        runs.append(figures := catch_up(events, logs / f"ledger-bench-{run}.log"))
        print(
            f"run {run + 1}: {figures.entries:,} entries in {figures.seconds:.1f} s, "
            f"{figures.per_s:,.0f}/s; peak RSS {figures.peak_rss_mb:.0f} MB",
            flush=True,
        )
    complete = all(r.entries == len(events) for r in runs)
    print(
        f"peak RSS {max(r.peak_rss_mb for r in runs):.0f} MB (target ≤ {TARGET_RSS_MB} MB); "
        f"median {statistics.median(r.per_s for r in runs):,.0f} entries/s"
        + ("" if complete else "; some runs did not catch up")
    )


if __name__ == "__main__":
    main(sys.argv[1:])
