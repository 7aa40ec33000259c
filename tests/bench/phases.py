"""The benchmark's measurements of the running system, one function a phase.

Each phase drives the system through its public surfaces only (the HTTP api, the Kafka topics)
and reads the outcome from outside (findings in MongoDB, signed webhooks at the receiver), with
a deadline on every wait: a phase that cannot finish reports how far it got.
"""

import asyncio
import json
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from laboursight_runtime.kafka import MAX_BATCH_BYTES
from laboursight_schemas import collections, topics, topology
from tests.bench import procs
from tests.bench.events import Record, Template, normalised
from tests.bench.load import (
    Submission,
    api_client,
    closed_loop,
    encoded,
    load_session,
    open_loop,
)
from tests.bench.observe import FindingsWatcher, Webhooks
from tests.bench.rss import RssSampler
from tests.bench.stats import Latency
from tests.bench.workload import Raw

POLL_S = 0.05


@dataclass(frozen=True)
class Tenant:
    name: str
    submitter: str
    analyst: str | None = None
    webhooks: Webhooks | None = None


@dataclass
class Budget:
    """The whole benchmark's time bound: no wait may run past ``end``."""

    end: float

    def deadline(self, want_s: float) -> float:
        return min(time.monotonic() + want_s, self.end)

    def left(self) -> float:
        return self.end - time.monotonic()


@dataclass
class Bench:
    api: str
    bootstrap: str
    idempotent: bool
    fetch_max_wait_ms: int
    client: AsyncMongoClient[dict[str, Any]]
    db: AsyncDatabase[dict[str, Any]]
    watcher: FindingsWatcher
    budget: Budget
    rss: RssSampler
    submitted: dict[str, set[str]] = field(default_factory=dict)

    def track(self, tenant: Tenant, disclosures: Collection[str]) -> None:
        self.submitted.setdefault(tenant.name, set()).update(disclosures)

    def backlog(self) -> int:
        """Disclosures submitted so far that have no findings yet: still in the chain."""
        return sum(
            len(ids) - self.watcher.count(tenant, ids) for tenant, ids in self.submitted.items()
        )


async def until(done: Callable[[], bool], deadline: float) -> bool:
    while not done():
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(POLL_S)
    return True


async def subscribe(bench: Bench, tenant: Tenant) -> None:
    if tenant.analyst is None or tenant.webhooks is None:
        raise ValueError(f"tenant {tenant.name} has no analyst key or receiver to subscribe")
    async with api_client(bench.api, tenant.analyst, 1) as client:
        response = await client.post(
            "/v1/subscriptions",
            json={"url": tenant.webhooks.receiver.url, "min_risk_level": "high"},
        )
    if response.status_code != 201:
        raise RuntimeError(f"subscription refused: {response.status_code} {response.text}")
    tenant.webhooks.receiver.secret = response.json()["secret"]


async def alerts(bench: Bench, tenant: Tenant) -> int:
    return await bench.db[collections.ALERTS].count_documents({"tenant_id": tenant.name})


async def _writes(bench: Bench) -> int:
    counters = (await bench.client.admin.command("serverStatus"))["opcounters"]
    return int(counters["insert"] + counters["update"] + counters["delete"])


_TOP_KINDS = ("insert", "update", "remove", "queries", "getmore", "commands")


async def _top(bench: Bench) -> dict[str, dict[str, int]]:
    """mongod's per-collection counts and time (µs), for where its CPU goes."""
    totals = (await bench.client.admin.command("top"))["totals"]
    return {
        ns.split(".", 1)[1]: {
            **{kind: int(figures[kind]["count"]) for kind in _TOP_KINDS},
            "time_us": int(figures["total"]["time"]),
        }
        for ns, figures in totals.items()
        if ns.startswith(f"{bench.db.name}.")
    }


def _per_disclosure(
    before: dict[str, dict[str, int]], after: dict[str, dict[str, int]], count: int
) -> dict[str, dict[str, float]]:
    spent = {
        name: {k: (v - before.get(name, {}).get(k, 0)) / count for k, v in figures.items()}
        for name, figures in after.items()
    }
    return {name: figures for name, figures in spent.items() if figures["time_us"] > 0}


# --- templates --------------------------------------------------------------------------------


async def templates(
    bench: Bench, tenant: Tenant, bodies: Sequence[Raw], deadline_s: float
) -> tuple[dict[str, Template], dict[str, Any]]:
    """One real event per disclosure kind: POSTed, then read back off its topic."""
    async with api_client(bench.api, tenant.submitter, 1) as client:
        answers = [await client.post("/v1/disclosures", json=body) for body in bodies]
    for answer in answers:
        if answer.status_code != 202:
            raise RuntimeError(f"the api refused a template: {answer.status_code} {answer.text}")
    wanted = {
        answer.json()["disclosure_id"]: body for answer, body in zip(answers, bodies, strict=True)
    }
    bench.track(tenant, wanted)
    deadline = bench.budget.deadline(deadline_s)
    found = await _read_back(bench, set(wanted), deadline)
    made = {
        wanted[disclosure]["kind"]: Template.from_record(topic, value, headers)
        for disclosure, (topic, value, headers) in found.items()
    }
    matches = all(
        json.loads(found[disclosure][1])["data"]["disclosure"] == normalised(body)
        for disclosure, body in wanted.items()
    )
    screened = await until(
        lambda: bench.watcher.count(tenant.name, wanted) == len(wanted), deadline
    )
    return made, {
        "event_bytes": {kind: len(json.dumps(t.event)) for kind, t in made.items()},
        "disclosure_dumped_as_the_api_does": matches,
        "templates_screened": screened,
    }


async def _read_back(
    bench: Bench, disclosures: set[str], deadline: float
) -> dict[str, tuple[str, bytes, list[tuple[str, bytes]]]]:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bench.bootstrap,
        enable_auto_commit=False,
        fetch_max_wait_ms=bench.fetch_max_wait_ms,
    )
    await consumer.start()
    found: dict[str, tuple[str, bytes, list[tuple[str, bytes]]]] = {}
    try:
        await consumer.topics()
        partitions = [
            TopicPartition(topic, p)
            for topic in (topics.SUPPLIER_DISCLOSURES, topics.RECRUITER_DISCLOSURES)
            for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        while len(found) < len(disclosures):
            if time.monotonic() >= deadline:
                raise TimeoutError(
                    f"{len(disclosures) - len(found)} template event(s) never reached their topic"
                )
            for partition, records in (await consumer.getmany(timeout_ms=200)).items():
                for record in records:
                    correlation = json.loads(record.value).get("correlationid")
                    if correlation in disclosures:
                        found[correlation] = (partition.topic, record.value, list(record.headers))
    finally:
        await consumer.stop()
    return found


# --- idle -------------------------------------------------------------------------------------


async def idle(bench: Bench, settle_s: float, seconds: float) -> dict[str, Any]:
    await asyncio.sleep(settle_s)
    before, started = procs.sample(), time.monotonic()
    await asyncio.sleep(seconds)
    after, wall = procs.sample(), time.monotonic() - started
    spent = procs.cpu_spent(before, after)
    stack = {name: cpu / wall for name, cpu in spent.items() if name != "bench"}
    return {
        "seconds": wall,
        "core_share": sum(stack.values()),
        "core_share_by_component": stack,
        "rss_mb": {name: usage.rss_bytes / 1e6 for name, usage in after.items()},
    }


# --- open-loop latency ------------------------------------------------------------------------


async def latency(
    bench: Bench, tenant: Tenant, bodies: Sequence[Raw], per_second: float, drain_s: float
) -> dict[str, Any]:
    """Submit at ``per_second`` on a schedule; time each disclosure to findings and webhook."""
    if tenant.webhooks is None:
        raise ValueError("latency needs a tenant with a webhook receiver")
    hooks = tenant.webhooks
    alerts_before, arrivals_before = await alerts(bench, tenant), len(hooks.arrivals())
    async with load_session(bench.api, tenant.submitter, 256) as session:
        sent, lag = await open_loop(session, encoded(bodies), per_second)
    accepted = {s.disclosure_id: s for s in sent if s.disclosure_id is not None}
    bench.track(tenant, accepted)
    deadline = bench.budget.deadline(drain_s)
    await until(lambda: bench.watcher.count(tenant.name, accepted) == len(accepted), deadline)
    expected = await alerts(bench, tenant) - alerts_before
    await until(lambda: _delivered(hooks, accepted, arrivals_before) >= expected, deadline)
    screened = bench.watcher.seen(tenant.name)
    alerted = hooks.first_by_disclosure(arrivals_before)
    return {
        "offered_per_s": per_second,
        "sent": len(sent),
        "largest_send_lag_ms": lag * 1000,
        "statuses": _statuses(sent),
        "accept_ms": Latency.of_seconds([s.latency_s for s in sent if s.status == 202]),
        "to_findings_ms": Latency.of_seconds(
            [screened[d] - s.submitted_at for d, s in accepted.items() if d in screened]
        ),
        "to_webhook_ms": Latency.of_seconds(
            [alerted[d] - s.submitted_at for d, s in accepted.items() if d in alerted]
        ),
        "without_findings": sum(1 for d in accepted if d not in screened),
        "alerts_expected": expected,
        "webhooks_delivered": _delivered(hooks, accepted, arrivals_before),
        "webhook_duplicates": _duplicates(hooks, accepted, arrivals_before),
    }


def _delivered(hooks: Webhooks, disclosures: Collection[str], since: int) -> int:
    return len({a.webhook_id for a in hooks.arrivals()[since:] if a.correlation_id in disclosures})


def _duplicates(hooks: Webhooks, disclosures: Collection[str], since: int) -> int:
    mine = [a for a in hooks.arrivals()[since:] if a.correlation_id in disclosures]
    return len(mine) - len({a.webhook_id for a in mine})


def _statuses(sent: Sequence[Submission]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for s in sent:
        label = str(s.status) if s.error is None else s.error
        counts[label] = counts.get(label, 0) + 1
    return counts


# --- 64 clients -------------------------------------------------------------------------------


async def accept(
    bench: Bench,
    tenant: Tenant,
    bodies: Sequence[Raw],
    clients: int,
    time_limit_s: float,
    drain_s: float,
) -> dict[str, Any]:
    """Single POSTs from ``clients`` concurrent clients; then the chain behind them, drained."""
    async with load_session(bench.api, tenant.submitter, clients) as session:
        sent, elapsed = await closed_loop(session, encoded(bodies), clients, time_limit_s)
    accepted = {s.disclosure_id: s for s in sent if s.disclosure_id is not None}
    bench.track(tenant, accepted)
    first = min((s.submitted_at for s in sent), default=time.time())
    await until(
        lambda: bench.watcher.count(tenant.name, accepted) == len(accepted),
        bench.budget.deadline(drain_s),
    )
    screened = bench.watcher.seen(tenant.name)
    done = [screened[d] for d in accepted if d in screened]
    chain_s = max(done) - first if done else None
    return {
        "clients": clients,
        "sent": len(sent),
        "seconds": elapsed,
        "statuses": _statuses(sent),
        "accepted_per_s": len(accepted) / elapsed if elapsed else 0.0,
        "accept_ms": Latency.of_seconds([s.latency_s for s in sent if s.status == 202]),
        "screened": len(done),
        "chain_per_s": len(done) / chain_s if chain_s else None,
        "chain_complete": len(done) == len(accepted),
    }


# --- straight to Kafka ------------------------------------------------------------------------


async def direct(
    bench: Bench, tenant: Tenant, records: Sequence[Record], deadline_s: float, webhooks_s: float
) -> dict[str, Any]:
    """Produce every record at once; time until each has findings, and its alerts arrived."""
    if tenant.webhooks is None:
        raise ValueError("the direct phase needs a tenant with a webhook receiver")
    hooks = tenant.webhooks
    ids = {record.disclosure_id for record in records}
    alerts_before, arrivals_before = await alerts(bench, tenant), len(hooks.arrivals())
    writes_before, cpu_before, top_before = await _writes(bench), procs.sample(), await _top(bench)
    started = time.time()
    produce_s = await _produce(bench, records)
    bench.track(tenant, ids)
    await until(
        lambda: bench.watcher.count(tenant.name, ids) == len(ids),
        bench.budget.deadline(deadline_s),
    )
    screened = bench.watcher.seen(tenant.name)
    done = [screened[d] for d in ids if d in screened]
    findings_s = (max(done) if len(done) == len(ids) else time.time()) - started
    expected = await alerts(bench, tenant) - alerts_before
    await until(
        lambda: _delivered(hooks, ids, arrivals_before) >= expected,
        bench.budget.deadline(webhooks_s),
    )
    delivered = _delivered(hooks, ids, arrivals_before)
    # Counted once the alerts are delivered too, so notify's writes are the chain's as well.
    writes = await _writes(bench) - writes_before
    cpu = procs.cpu_spent(cpu_before, procs.sample())
    top = _per_disclosure(top_before, await _top(bench), len(done)) if done else {}
    arrivals = sorted(a.at for a in hooks.arrivals()[arrivals_before:] if a.correlation_id in ids)
    webhooks_s_taken = (
        (arrivals[expected - 1] if delivered >= expected else time.time()) - started
        if expected
        else findings_s
    )
    complete = len(done) == len(ids)
    return {
        "events": len(records),
        "produce_s": produce_s,
        "screened": len(done),
        "complete": complete,
        "to_findings_s": findings_s,
        "findings_per_s": len(done) / findings_s,
        "alerts_expected": expected,
        "webhooks_delivered": delivered,
        "webhook_duplicates": _duplicates(hooks, ids, arrivals_before),
        "to_webhooks_s": webhooks_s_taken,
        "webhooks_per_s": (len(done) / webhooks_s_taken if delivered >= expected else None),
        "mongodb_writes_per_disclosure": writes / len(done) if done else None,
        "mongodb_by_collection_per_disclosure": top,
        "cpu_ms_per_disclosure": (
            sum(v for k, v in cpu.items() if k != "bench") * 1000 / len(done) if done else None
        ),
        "cpu_ms_per_disclosure_by_component": (
            {k: v * 1000 / len(done) for k, v in cpu.items()} if done else {}
        ),
    }


async def _produce(bench: Bench, records: Sequence[Record]) -> float:
    producer = AIOKafkaProducer(
        bootstrap_servers=bench.bootstrap,
        acks="all",
        enable_idempotence=bench.idempotent,
        max_batch_size=MAX_BATCH_BYTES,
    )
    await producer.start()
    try:
        started = time.perf_counter()
        sent = [
            await producer.send(r.topic, r.value, key=r.key, headers=r.headers) for r in records
        ]
        await asyncio.gather(*sent)
        return time.perf_counter() - started
    finally:
        await producer.stop()


# --- dead letters -----------------------------------------------------------------------------


async def dead_letters(bench: Bench) -> dict[str, int]:
    """Records on each dead-letter topic so far (the servers are fresh, so: in this run)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bench.bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer.topics()
        partitions = [
            TopicPartition(dlq.name, p)
            for dlq in topology.DEAD_LETTER_TOPICS
            for p in sorted(consumer.partitions_for_topic(dlq.name) or ())
        ]
        ends: Mapping[TopicPartition, int] = await consumer.end_offsets(partitions)
    finally:
        await consumer.stop()
    totals: dict[str, int] = {}
    for partition, end in ends.items():
        totals[partition.topic] = totals.get(partition.topic, 0) + end
    return totals
