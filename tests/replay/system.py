"""The running system as the replay tests drive and watch it: uploads through the api, waits
until every service is done, and a snapshot of everything live a replay must leave alone."""

import asyncio
import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from pymongo import AsyncMongoClient

from laboursight_schemas import collections, topics, topology

BIN = Path(sys.executable).parent
SETTLE_S = 120.0
QUIET_S = 2.0
JSONL = {"content-type": "application/x-ndjson"}

Document = dict[str, Any]


def entity_of(disclosure: Document) -> str:
    party = disclosure["supplier"] if disclosure["kind"] == "supplier" else disclosure["recruiter"]
    entity: str = party["supplier_id" if disclosure["kind"] == "supplier" else "recruiter_id"]
    return entity


async def upload(client: httpx.AsyncClient, disclosures: list[Document]) -> list[str]:
    """The disclosure id of each line, once the api judged every line (all must be accepted)."""
    body = b"".join(json.dumps(d).encode() + b"\n" for d in disclosures)
    headers = {**JSONL, "Idempotency-Key": f'"replay-{time.time_ns()}"'}
    answer = await client.post("/v1/disclosures:batch", content=body, headers=headers)
    assert answer.status_code == 202, answer.text
    deadline = time.monotonic() + SETTLE_S
    while (batch := (await client.get(answer.headers["Location"])).json())["status"] != "done":
        assert time.monotonic() < deadline, batch
        await asyncio.sleep(0.2)
    assert batch["lines"]["rejected"] == 0, batch
    ids: list[str] = []
    url: str | None = batch["results_url"] + "?limit=200"
    while url:
        page = (await client.get(url)).json()
        ids += [line["disclosure_id"] for line in page["results"]]
        url = page.get("next")
    assert len(ids) == len(disclosures)
    return ids


async def settle(
    client: AsyncMongoClient[Document], database: str, tenant: str, count: int
) -> None:
    """Returns once risk recorded ``count`` screenings of the tenant, every alert revision is
    published and chained in the ledger, no delivery is pending, and the tenant's chain has
    stopped growing."""
    db = client[database]
    deadline = time.monotonic() + SETTLE_S
    last, since = -1, time.monotonic()
    while True:
        assert time.monotonic() < deadline, "the system did not settle"
        findings = await db[collections.FINDINGS].count_documents({"tenant_id": tenant})
        unpublished = await db[collections.ALERTS].count_documents(
            {"tenant_id": tenant, "published": False}
        )
        revisions = [
            d["n"]
            async for d in await db[collections.ALERTS].aggregate(
                [
                    {"$match": {"tenant_id": tenant}},
                    {"$group": {"_id": None, "n": {"$sum": {"$size": "$revisions"}}}},
                ]
            )
        ]
        chained = await db[collections.LEDGER].count_documents(
            {"tenant_id": tenant, "topic": topics.ALERTS}
        )
        pending = await db[collections.DELIVERIES].count_documents(
            {"tenant_id": tenant, "status": "pending"}
        )
        head = await db[collections.LEDGER_HEADS].find_one({"_id": tenant})
        seq = -1 if head is None else head["seq"]
        if seq != last:
            last, since = seq, time.monotonic()
        done = findings >= count and not unpublished and not pending
        if done and chained == sum(revisions) and time.monotonic() - since >= QUIET_S:
            return
        await asyncio.sleep(0.2)


@dataclass(frozen=True)
class Snapshot:
    """Everything live: each collection's count, the databases, the ledger heads, every topic's
    end offsets and the webhooks received."""

    counts: dict[str, int]
    databases: frozenset[str]
    heads: dict[str, tuple[int, str]]
    ends: dict[tuple[str, int], int]
    webhooks: int


async def snapshot(
    client: AsyncMongoClient[Document], database: str, bootstrap: str, webhooks: int
) -> Snapshot:
    db = client[database]
    counts = {
        name: await db[name].count_documents({})
        for name in sorted(await db.list_collection_names())
    }
    heads = {
        d["_id"]: (d["seq"], d["entry_hash"]) async for d in db[collections.LEDGER_HEADS].find({})
    }
    names = [t.name for t in topology.TOPICS]
    names += [topics.dead_letter_topic(n) for n in names]
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    await consumer.start()
    try:
        known = await consumer.topics()
        partitions = [
            TopicPartition(n, p)
            for n in names
            if n in known
            for p in sorted(consumer.partitions_for_topic(n) or ())
        ]
        ends = {
            (tp.topic, tp.partition): o
            for tp, o in (await consumer.end_offsets(partitions)).items()
        }
    finally:
        await consumer.stop()
    return Snapshot(
        counts,
        frozenset(n for n in await client.list_database_names() if "_replay_" not in n),
        heads,
        ends,
        webhooks,
    )


def replay(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return command("laboursight-replay", env, *args)


def command(script: str, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / script), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def report_files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}
