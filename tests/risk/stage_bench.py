"""The risk stage alone on the embedded servers: findings events produced straight to Kafka, the
risk service as its own process, msgs/s (and its CPU time a message) from its first recorded
screening to its last, beside MongoDB's bulk-upsert rate measured in the same run.

Run it with ``.venv/bin/python -m tests.risk.stage_bench``; it prints, it asserts nothing. The
figure compares only with others from the same machine in the same state (INFRA-NOTES.md).
"""

import argparse
import asyncio
import os
import random
import subprocess
import sys
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaProducer
from pymongo import MongoClient, ReplaceOne
from pymongo.collection import Collection
from pymongo.database import Database

from laboursight_runtime.kafka import encode, event_headers
from laboursight_runtime.local import LocalServers
from laboursight_runtime.local.servers import free_ports
from laboursight_runtime.settings import Settings
from laboursight_schemas import collections, topics
from laboursight_schemas.envelope import Envelope
from laboursight_schemas.findings import FindingsComputed, RiskLevel
from tests.risk.builders import event, recruiter, supplier

LEVELS: tuple[RiskLevel, ...] = ("low", "low", "low", "medium", "medium", "high", "critical")


def corpus(count: int, seed: int) -> list[Envelope[FindingsComputed]]:
    """Suppliers staffed by one or two recruiters and recruiters placing workers with them, so
    the chain is exercised; about one disclosure in three is at high risk or above."""
    rng = random.Random(seed)
    suppliers = [f"SUP-{i:05}" for i in range(max(1, count // 5))]
    recruiters = [f"REC-{i:04}" for i in range(max(1, count // 25))]
    events = []
    for n in range(count):
        end = f"2026-{1 + n * 12 // count:02}-28"
        level = rng.choice(LEVELS)
        if rng.random() < 0.8:
            staffed_by = [(r, 100, rng.choice((0.3, 0.6, None))) for r in rng.sample(recruiters, 2)]
            computed = supplier(rng.choice(suppliers), level, recruiters=staffed_by, end=end)
        else:
            placed = [(s, 50) for s in rng.sample(suppliers, 2)]
            computed = recruiter(rng.choice(recruiters), level, placements=placed, end=end)
        events.append(event(computed, tenant_id="bench"))
    return events


async def produce(bootstrap: str, events: Sequence[Envelope[FindingsComputed]]) -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", max_batch_size=1024 * 1024, linger_ms=5
    )
    await producer.start()
    try:
        sent = [
            await producer.send(
                topics.FINDINGS,
                encode(e),
                key=e.data.entity_id.encode(),
                headers=[(k, v.encode()) for k, v in event_headers(e).items()],
            )
            for e in events
        ]
        await asyncio.gather(*sent)
    finally:
        await producer.stop()


def run(count: int, seed: int, timeout_s: float, data_dir: str | None, command: str) -> None:
    events = corpus(count, seed)
    with LocalServers(data_dir) as servers:
        client: MongoClient[dict[str, Any]] = MongoClient(servers.mongodb_uri, w="majority")
        upserts = _bulk_upserts(client["stage-bench-raw"])
        asyncio.run(produce(servers.kafka_bootstrap_servers, events))
        (port,) = free_ports(1)
        env = {
            **os.environ,
            **servers.environment(),
            "HTTP_PORT": str(port),
            "LOG_LEVEL": "WARNING",
        }
        log = servers.data_dir / "risk.log"
        with open(log, "wb") as out:
            process = subprocess.Popen([command], env=env, stdout=out, stderr=subprocess.STDOUT)
        db: Database[Any] = client[Settings().mongodb_database]
        try:
            watched = _watch(db[collections.FINDINGS], count, process.pid, timeout_s)
            metrics = _metrics(port)
        finally:
            process.terminate()
            process.wait(10)
        alerts = db[collections.ALERTS]
        raised, published = alerts.count_documents({}), alerts.count_documents({"published": True})
    rate = count / watched.seconds if watched.seconds else float("inf")
    batches = metrics.get("laboursight_batch_records_count", 0.0)
    cpu_ms = watched.cpu_seconds * 1000 / count
    print(f"risk stage: {count} findings events in {watched.seconds:.2f} s: {rate:,.0f} msgs/s")
    print(f"raw limit, same run: MongoDB bulk upsert in transactions {upserts:,.0f} ops/s")
    print(
        f"partition batches {batches:.0f} (mean {count / max(batches, 1):.0f} records), "
        f"run again after a write conflict {metrics.get('laboursight_risk_batch_conflicts_total', 0):.0f}, "
        f"transient failures retried {metrics.get('laboursight_transient_failures_total', 0):.0f}, "
        f"risk process CPU {cpu_ms:.2f} ms a message"
    )
    print(f"alerts raised {raised}, published {published}")


def _bulk_upserts(db: Database[Any], batches: int = 5, size: int = 1000) -> float:
    """Upserts of ~2 KB documents (an entity profile's size), 1,000 to a transaction: the most
    the risk stage's writes could reach."""
    filler = "x" * 2000
    started = time.perf_counter()
    with db.client.start_session() as session:
        for b in range(batches):
            with session.start_transaction():
                db["profiles"].bulk_write(
                    [
                        ReplaceOne(
                            {"_id": f"{b}-{i}"}, {"tenant_id": "t", "x": filler}, upsert=True
                        )
                        for i in range(size)
                    ],
                    session=session,
                )
    return batches * size / (time.perf_counter() - started)


def _metrics(port: int) -> dict[str, float]:
    """The risk process's Prometheus samples, summed over their labels."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    found: dict[str, float] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            base = name.split("{", 1)[0]
            found[base] = found.get(base, 0.0) + float(value)
    return found


@dataclass(frozen=True)
class Watched:
    seconds: float
    cpu_seconds: float
    """The risk process's CPU time over the same span."""


def _watch(findings: Collection[Any], count: int, pid: int, timeout_s: float) -> Watched:
    """From the first recorded screening to the last, polled every 50 ms."""
    deadline = time.monotonic() + timeout_s
    first: tuple[float, float] | None = None
    while time.monotonic() < deadline:
        done = findings.count_documents({})
        now = time.monotonic(), _cpu_seconds(pid)
        if done and first is None:
            first = now
        if done >= count and first is not None:
            return Watched(now[0] - first[0], now[1] - first[1])
        time.sleep(0.05)
    raise SystemExit(f"only {findings.count_documents({})} of {count} recorded in time")


def _cpu_seconds(pid: int) -> float:
    """User and system CPU time of a running process (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main(argv: Sequence[str] | None = None) -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--count", type=int, default=3_000)
    options.add_argument("--seed", type=int, default=2026)
    options.add_argument("--timeout", type=float, default=300.0)
    options.add_argument(
        "--data-dir", help="keep the servers' data and the risk log (risk.log) in this folder"
    )
    options.add_argument(
        "--command",
        default=str(Path(sys.executable).with_name("laboursight-risk")),
        help="the risk service to measure (another version's, for a before and after)",
    )
    args = options.parse_args(argv)
    run(args.count, args.seed, args.timeout, args.data_dir, args.command)


if __name__ == "__main__":
    main()
