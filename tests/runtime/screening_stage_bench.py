"""The screening stage alone on the embedded servers: disclosure events produced straight to
Kafka, the screening service as its own process, msgs/s from its first findings event to its
last.

Run it with ``.venv/bin/python -m tests.runtime.screening_stage_bench``; it prints, it asserts
nothing. ``--source DIR`` runs the service from another copy of the repository instead (e.g. the
last commit, unpacked with ``git archive HEAD | tar -x -C DIR``), so that a change is measured
against what it replaces in the same run. The figures compare only with others from the same
machine in the same state (INFRA-NOTES.md).
"""

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from pydantic import TypeAdapter

from laboursight_runtime.kafka import encode, event_headers
from laboursight_runtime.local import LocalServers
from laboursight_runtime.local.servers import free_ports
from laboursight_schemas import topics
from laboursight_schemas.disclosure import Disclosure, RecruiterDisclosure
from laboursight_schemas.envelope import (
    DATA_VERSIONS,
    RECRUITER_DISCLOSURE_SUBMITTED,
    SUPPLIER_DISCLOSURE_SUBMITTED,
    Envelope,
    RecruiterDisclosureSubmitted,
    SupplierDisclosureSubmitted,
    now,
)
from tests.bench.corpus import corpus

PACKAGES = ("runtime", "schemas", "services/screening")


def events(count: int, seed: int) -> list[tuple[str, str, Envelope[Any]]]:
    """(topic, key, event) for ``count`` varied disclosures of the benchmark's corpus."""
    made: list[tuple[str, str, Envelope[Any]]] = []
    for _, raw in corpus(count, seed):
        disclosure = TypeAdapter(Disclosure).validate_python(raw)
        disclosure_id = str(uuid.uuid4())
        common: dict[str, Any] = {
            "id": str(uuid.uuid4()),
            "source": "/bench",
            "time": now(),
            "tenant_id": "bench",
            "correlation_id": disclosure_id,
        }
        submitted = {"disclosure_id": disclosure_id, "submitted_by": "key-1"}
        if isinstance(disclosure, RecruiterDisclosure):
            event: Envelope[Any] = Envelope[RecruiterDisclosureSubmitted](
                **common,
                type=RECRUITER_DISCLOSURE_SUBMITTED,
                data_version=DATA_VERSIONS[RECRUITER_DISCLOSURE_SUBMITTED],
                data=RecruiterDisclosureSubmitted(**submitted, disclosure=disclosure),
            )
            topic = topics.RECRUITER_DISCLOSURES
        else:
            event = Envelope[SupplierDisclosureSubmitted](
                **common,
                type=SUPPLIER_DISCLOSURE_SUBMITTED,
                data_version=DATA_VERSIONS[SUPPLIER_DISCLOSURE_SUBMITTED],
                data=SupplierDisclosureSubmitted(**submitted, disclosure=disclosure),
            )
            topic = topics.SUPPLIER_DISCLOSURES
        made.append((topic, disclosure.entity_id, event))
    return made


async def produce(bootstrap: str, items: Sequence[tuple[str, str, Envelope[Any]]]) -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", max_batch_size=1024 * 1024, linger_ms=5
    )
    await producer.start()
    try:
        sent = [
            await producer.send(
                topic,
                encode(event),
                key=key.encode(),
                headers=[(k, v.encode()) for k, v in event_headers(event).items()],
            )
            for topic, key, event in items
        ]
        await asyncio.gather(*sent)
    finally:
        await producer.stop()


def cpu_seconds(pid: int) -> float:
    """User and system CPU time the process used so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def watch(
    bootstrap: str, count: int, timeout_s: float, pid: int
) -> tuple[float, float, float]:
    """(when the first findings event arrived, when the ``count``-th distinct one did, the CPU
    seconds the service used between the two)."""
    consumer = AIOKafkaConsumer(
        topics.FINDINGS,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=10,
    )
    await consumer.start()
    seen: set[str] = set()
    first: float | None = None
    cpu = 0.0
    try:
        async with asyncio.timeout(timeout_s):
            while len(seen) < count:
                for batch in (await consumer.getmany(timeout_ms=100)).values():
                    if first is None:
                        first, cpu = time.monotonic(), cpu_seconds(pid)
                    # Redelivered disclosures republish the same event id: count each once.
                    seen |= {json.loads(record.value)["id"] for record in batch}
    except TimeoutError:
        raise SystemExit(f"only {len(seen)} of {count} findings in {timeout_s} s") from None
    finally:
        await consumer.stop()
    assert first is not None
    return first, time.monotonic(), cpu_seconds(pid) - cpu


def run(count: int, seed: int, timeout_s: float, source: Path | None) -> None:
    items = events(count, seed)
    with LocalServers() as servers:
        asyncio.run(produce(servers.kafka_bootstrap_servers, items))
        (port,) = free_ports(1)
        env = {
            **os.environ,
            **servers.environment(),
            "HTTP_PORT": str(port),
            "LOG_LEVEL": "WARNING",
        }
        if source is not None:
            env["PYTHONPATH"] = os.pathsep.join(str(source / package) for package in PACKAGES)
        command = [sys.executable, "-c", "from laboursight_screening.main import main; main()"]
        with open(servers.data_dir / "screening.log", "wb") as out:
            process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            first, last, cpu = asyncio.run(
                watch(servers.kafka_bootstrap_servers, count, timeout_s, process.pid)
            )
            pipeline = pipeline_metrics(port)
        finally:
            process.terminate()
            process.wait(10)
    rate = (count - 1) / (last - first) if last > first else float("inf")
    code = "this tree" if source is None else str(source)
    print(
        f"screening stage ({code}): {count} disclosures in {last - first:.2f} s: "
        f"{rate:,.0f} msgs/s, {cpu * 1e6 / count:,.0f} µs of CPU each"
    )
    print("\n".join(f"  {line}" for line in pipeline))


def pipeline_metrics(port: int) -> list[str]:
    """The service's own account of the run: records by outcome, batches, transient failures."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
            text = answer.read().decode()
    except OSError as error:
        return [f"(no metrics: {error})"]
    wanted = ("laboursight_messages_total", "laboursight_batch_records_", "laboursight_transient")
    return [
        line
        for line in text.splitlines()
        if line.startswith(wanted) and not line.startswith("laboursight_batch_records_bucket")
    ]


def main(argv: Sequence[str] | None = None) -> None:
    options = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    options.add_argument("--count", type=int, default=20_000)
    options.add_argument("--seed", type=int, default=2026)
    options.add_argument("--timeout", type=float, default=300.0)
    options.add_argument("--source", type=Path, default=None)
    args = options.parse_args(argv)
    run(args.count, args.seed, args.timeout, args.source)


if __name__ == "__main__":
    main()
