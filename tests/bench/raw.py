"""The raw limits of the servers, measured in the same run as the system they bound.

Kafka with plain aiokafka and the producer options the services use (acks=all, 1 MiB batches);
MongoDB with the write concern the services are held to, majority and journaled, on documents
the size of a real disclosure. Each probe does a fixed amount of work, so it ends by itself.
"""

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import bson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from pymongo import AsyncMongoClient, UpdateOne, WriteConcern
from pymongo.asynchronous.client_session import AsyncClientSession

from laboursight_runtime.kafka import MAX_BATCH_BYTES
from tests.bench.stats import Latency

JOURNALED_MAJORITY = WriteConcern(w="majority", j=True)
_CONSUME_POLL_MS = 500


@dataclass(frozen=True)
class KafkaSizes:
    batched: int = 30_000
    acked_in_series: int = 200
    concurrent_clients: int = 64
    concurrent_each: int = 100
    partitions: int = 6


@dataclass(frozen=True)
class MongoSizes:
    batch: int = 1_000
    rounds: int = 8
    transactions: int = 300


async def kafka_limits(
    bootstrap: str, value: bytes, sizes: KafkaSizes, *, idempotent: bool, fetch_max_wait_ms: int
) -> dict[str, Any]:
    topic = f"bench.raw.{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, sizes.partitions, 1)])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        enable_idempotence=idempotent,
        max_batch_size=MAX_BATCH_BYTES,
    )
    await producer.start()
    try:
        keys = [uuid.uuid4().hex.encode() for _ in range(sizes.batched)]
        started = time.perf_counter()
        sent = [await producer.send(topic, value, key=key) for key in keys]
        await asyncio.gather(*sent)
        batched_s = time.perf_counter() - started

        in_series = []
        for _ in range(sizes.acked_in_series):
            one = time.perf_counter()
            await producer.send_and_wait(topic, value, key=uuid.uuid4().hex.encode())
            in_series.append(time.perf_counter() - one)

        async def client() -> None:
            for _ in range(sizes.concurrent_each):
                await producer.send_and_wait(topic, value, key=uuid.uuid4().hex.encode())

        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(sizes.concurrent_clients)))
        concurrent_s = time.perf_counter() - started
    finally:
        await producer.stop()
    consume_s = await _consume(bootstrap, topic, sizes.batched, fetch_max_wait_ms)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:  # the broker keeps topics in memory: give it back before the system runs
        await admin.delete_topics([topic])
    finally:
        await admin.close()
    concurrent = sizes.concurrent_clients * sizes.concurrent_each
    return {
        "value_bytes": len(value),
        "batched_produce_per_s": sizes.batched / batched_s,
        "batched_produce_mb_per_s": sizes.batched * len(value) / batched_s / 1e6,
        "consume_per_s": sizes.batched / consume_s,
        "acked_produce_ms": Latency.of_seconds(in_series),
        "concurrent_acked_produces_per_s": concurrent / concurrent_s,
    }


async def _consume(bootstrap: str, topic: str, at_least: int, fetch_max_wait_ms: int) -> float:
    """Seconds to read ``at_least`` records from the start of ``topic`` (no group to join)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, fetch_max_wait_ms=fetch_max_wait_ms
    )
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in sorted(await _partitions(consumer, topic))]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        read = 0
        started = time.perf_counter()
        while read < at_least:
            batches = await consumer.getmany(timeout_ms=_CONSUME_POLL_MS, max_records=10_000)
            if not batches:
                raise TimeoutError(f"read {read} of {at_least} records, then nothing came")
            read += sum(len(records) for records in batches.values())
        return time.perf_counter() - started
    finally:
        await consumer.stop()


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> set[int]:
    await consumer.topics()
    found: set[int] | None = consumer.partitions_for_topic(topic)
    if not found:
        raise RuntimeError(f"topic {topic} has no partitions")
    return found


async def mongo_limits(uri: str, document: dict[str, Any], sizes: MongoSizes) -> dict[str, Any]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(uri, tz_aware=True)
    database = client.get_database(
        f"bench_raw_{uuid.uuid4().hex[:8]}", write_concern=JOURNALED_MAJORITY
    )
    try:
        upserts = database["upserts"]
        inserts = database["inserts"]
        for name in (
            "upserts",
            "inserts",
            "marks",
            "findings",
            "disclosures",
            "entities",
            "alerts",
        ):
            await database.create_collection(name)

        async def bulk_upsert() -> None:
            await upserts.bulk_write(
                [
                    UpdateOne({"_id": uuid.uuid4().hex}, {"$set": document}, upsert=True)
                    for _ in range(sizes.batch)
                ]
            )

        async def insert_many() -> None:
            await inserts.insert_many(
                [{**document, "_id": uuid.uuid4().hex} for _ in range(sizes.batch)]
            )

        bulk_s = await _timed(sizes.rounds, bulk_upsert)
        insert_s = await _timed(sizes.rounds, insert_many)

        async def five_writes(session: AsyncClientSession) -> None:
            key = uuid.uuid4().hex
            await database["marks"].insert_one({"_id": key}, session=session)
            await database["findings"].update_one(
                {"_id": key}, {"$setOnInsert": document}, upsert=True, session=session
            )
            await database["disclosures"].update_one(
                {"_id": key}, {"$set": {"status": "screened"}}, upsert=True, session=session
            )
            await database["entities"].replace_one(
                {"_id": key}, {"level": "high"}, upsert=True, session=session
            )
            await database["alerts"].update_one(
                {"_id": key}, {"$setOnInsert": {"published": False}}, upsert=True, session=session
            )

        async def transaction() -> None:
            async with client.start_session() as session:
                await session.with_transaction(five_writes, write_concern=JOURNALED_MAJORITY)

        transactions_s = await _timed(sizes.transactions, transaction)
        hello = await client.admin.command("replSetGetConfig")
    finally:
        await client.drop_database(database.name)
        await client.close()
    return {
        "document_bytes": len(bson.encode(document)),
        "bulk_upsert_ops_per_s": sizes.rounds * sizes.batch / bulk_s,
        "insert_many_docs_per_s": sizes.rounds * sizes.batch / insert_s,
        "transactions_per_s": sizes.transactions / transactions_s,
        "writes_per_transaction": 5,
        "write_concern": "majority, j=true",
        "replica_set_majority_journal_default": hello["config"].get(
            "writeConcernMajorityJournalDefault", True
        ),
    }


async def _timed(times: int, step: Callable[[], Awaitable[None]]) -> float:
    started = time.perf_counter()
    for _ in range(times):
        await step()
    return time.perf_counter() - started
