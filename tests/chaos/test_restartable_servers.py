"""The local servers crash and come back on their ports: mongod with every journaled write it
acknowledged, tansu empty but with every topic. Servers of their own: the shared ones of the
other tests must not be killed."""

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from pymongo import MongoClient

from laboursight_runtime.local import LocalServers
from laboursight_runtime.local.servers import TRANSACTION_LIFETIME_S
from laboursight_runtime.topics import TOPICS
from laboursight_schemas.topics import SUPPLIER_DISCLOSURES

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def servers() -> Iterator[LocalServers]:
    with LocalServers() as started:
        yield started


def _journal_default(uri: str) -> object:
    client: MongoClient[dict[str, Any]] = MongoClient(uri)
    with client:
        return client.admin.command("replSetGetConfig")["config"].get(
            "writeConcernMajorityJournalDefault"
        )


def test_majority_writes_wait_for_the_journal(servers: LocalServers) -> None:
    assert _journal_default(servers.mongodb_uri) is True


def test_a_killed_writers_transaction_holds_its_locks_for_seconds_not_a_minute(
    servers: LocalServers,
) -> None:
    client: MongoClient[dict[str, Any]] = MongoClient(servers.mongodb_uri)
    with client:
        limit = client.admin.command({"getParameter": 1, "transactionLifetimeLimitSeconds": 1})[
            "transactionLifetimeLimitSeconds"
        ]
    assert limit == TRANSACTION_LIFETIME_S <= 10


def test_mongod_comes_back_on_its_port_with_every_acknowledged_write(
    servers: LocalServers,
) -> None:
    uri = servers.mongodb_uri
    client: MongoClient[dict[str, Any]] = MongoClient(uri, w="majority")
    with client:
        collection = client.chaos.acknowledged
        for i in range(500):
            collection.insert_one({"i": i})
        servers.kill("mongod")
        servers.restart("mongod")
        assert servers.mongodb_uri == uri
        assert collection.count_documents({}) == 500
        collection.insert_one({"i": 500})


async def _end_offsets(bootstrap: str) -> dict[str, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        await consumer.topics()
        partitions = {spec.name: consumer.partitions_for_topic(spec.name) for spec in TOPICS}
        assert partitions == {spec.name: set(range(spec.partitions)) for spec in TOPICS}
        ends = await consumer.end_offsets(
            [TopicPartition(SUPPLIER_DISCLOSURES, p) for p in range(6)]
        )
        return {f"{tp.topic}/{tp.partition}": offset for tp, offset in ends.items()}
    finally:
        await consumer.stop()


async def _produce(bootstrap: str) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(SUPPLIER_DISCLOSURES, b"{}", key=b"k", partition=0)
    finally:
        await producer.stop()


def test_the_broker_comes_back_on_its_port_empty_with_every_topic(servers: LocalServers) -> None:
    bootstrap = servers.kafka_bootstrap_servers
    asyncio.run(_produce(bootstrap))
    assert asyncio.run(_end_offsets(bootstrap))[f"{SUPPLIER_DISCLOSURES}/0"] >= 1

    servers.kill("tansu")
    servers.restart("tansu")

    assert servers.kafka_bootstrap_servers == bootstrap
    assert set(asyncio.run(_end_offsets(bootstrap)).values()) == {0}  # memory only
    asyncio.run(_produce(bootstrap))


def test_only_a_killed_server_restarts_and_only_a_known_one(servers: LocalServers) -> None:
    with pytest.raises(RuntimeError, match="kill it before"):
        servers.restart("mongod")
    with pytest.raises(ValueError, match="no server 'kafka'"):
        servers.kill("kafka")


def test_a_kept_data_folder_initiated_without_journaled_majority_is_set_right(
    tmp_path: Path,
) -> None:
    with LocalServers(tmp_path) as first:
        client: MongoClient[dict[str, Any]] = MongoClient(first.mongodb_uri)
        with client:
            config = client.admin.command("replSetGetConfig")["config"]
            config["writeConcernMajorityJournalDefault"] = False
            config["version"] += 1
            client.admin.command("replSetReconfig", config)
        assert _journal_default(first.mongodb_uri) is False
    with LocalServers(tmp_path) as second:
        assert _journal_default(second.mongodb_uri) is True
