"""The servers the tests run on, whichever route provided them, and the embedded launcher itself."""

import asyncio
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from pymongo import AsyncMongoClient, MongoClient

from laboursight_runtime.local import LocalServers
from laboursight_runtime.settings import Settings
from laboursight_runtime.topics import TOPICS
from laboursight_schemas.topics import SUPPLIER_DISCLOSURES
from tests.infra import Infra

pytestmark = pytest.mark.integration


def _settings(infra: Infra) -> Settings:
    values: dict[str, Any] = {name.lower(): value for name, value in infra.environment().items()}
    return Settings(**values)


def _children(parent: int) -> set[int]:
    children = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:  # the process ended while we looked
            continue
        if int(fields[1]) == parent:
            children.add(int(stat.parent.name))
    return children


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie is dead, waiting for its new parent to reap it


def _wait_until_dead(pids: set[int], timeout: float = 5.0) -> set[int]:
    deadline = time.monotonic() + timeout
    while (alive := {pid for pid in pids if _alive(pid)}) and time.monotonic() < deadline:
        time.sleep(0.05)
    return alive


async def test_every_topic_exists_with_its_partition_count(infra: Infra) -> None:
    consumer = AIOKafkaConsumer(bootstrap_servers=infra.kafka_bootstrap_servers)
    await consumer.start()
    try:
        await consumer.topics()  # refreshes the metadata partitions_for_topic reads
        partitions = {spec.name: consumer.partitions_for_topic(spec.name) for spec in TOPICS}
    finally:
        await consumer.stop()
    assert partitions == {spec.name: set(range(spec.partitions)) for spec in TOPICS}


async def test_a_record_round_trips_through_the_broker(infra: Infra) -> None:
    settings = _settings(infra)
    key, value = uuid.uuid4().hex.encode(), b'{"supplier": "round trip"}'
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        enable_idempotence=settings.kafka_idempotent_producer,
    )
    await producer.start()
    try:
        sent = await producer.send_and_wait(
            SUPPLIER_DISCLOSURES, value, key=key, headers=[("trace", b"t-1")]
        )
    finally:
        await producer.stop()

    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        enable_auto_commit=False,
        fetch_max_wait_ms=settings.kafka_fetch_max_wait_ms,
    )
    await consumer.start()
    try:
        partition = TopicPartition(SUPPLIER_DISCLOSURES, sent.partition)
        consumer.assign([partition])
        consumer.seek(partition, sent.offset)
        record = await asyncio.wait_for(consumer.getone(), timeout=10)
    finally:
        await consumer.stop()
    assert (record.key, record.value, list(record.headers)) == (key, value, [("trace", b"t-1")])


async def test_a_mongodb_transaction_commits_and_an_aborted_one_leaves_nothing(
    infra: Infra,
) -> None:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(infra.mongodb_uri)
    database = client[f"test_{uuid.uuid4().hex}"]
    collection = database["ledger"]
    try:
        async with client.start_session() as session:
            async with await session.start_transaction():
                await collection.insert_one({"_id": "a"}, session=session)
                await collection.insert_one({"_id": "b"}, session=session)
            async with await session.start_transaction():
                await collection.insert_one({"_id": "c"}, session=session)
                await session.abort_transaction()
        assert sorted([doc["_id"] async for doc in collection.find()]) == ["a", "b"]
    finally:
        await client.drop_database(database.name)
        await client.close()


def test_stopping_leaves_no_process_and_no_temporary_folder() -> None:
    before = _children(os.getpid())
    with LocalServers() as servers:
        started = _children(os.getpid()) - before
        data_dir = servers.data_dir
        assert len(started) == 2  # tansu and mongod
        assert data_dir.is_dir()
    assert not _wait_until_dead(started, timeout=0)
    assert not data_dir.exists()


def test_a_kept_data_folder_keeps_mongodb_data_across_restarts(tmp_path: Path) -> None:
    # The second run gets other ports; the replica set must follow its node to the new one.
    for run in range(2):
        with LocalServers(tmp_path) as servers:
            client: MongoClient[dict[str, Any]] = MongoClient(servers.mongodb_uri)
            with client:
                client.kept.runs.insert_one({"run": run})
                runs = sorted(doc["run"] for doc in client.kept.runs.find())
        assert runs == list(range(run + 1))
    assert (tmp_path / "mongod.log").is_file()


EXPORTED = {
    "KAFKA_BOOTSTRAP_SERVERS",
    "MONGODB_URI",
    "KAFKA_IDEMPOTENT_PRODUCER",
    "KAFKA_SESSION_TIMEOUT_MS",
    "KAFKA_HEARTBEAT_INTERVAL_MS",
    "KAFKA_FETCH_MAX_WAIT_MS",
}


def _start_cli() -> tuple[subprocess.Popen[str], dict[str, str], Path]:
    """Run `laboursight-local` until it is up: its exports and the folder it announced."""
    cli = Path(sys.executable).with_name("laboursight-local")
    process = subprocess.Popen(
        [str(cli)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    assert process.stderr is not None
    exports = {}
    for _ in EXPORTED:
        line = process.stdout.readline()
        match = re.fullmatch(r"export (\w+)=(.*)\n", line)
        assert match, f"not an export line: {line!r}; stderr: {process.stderr.read()}"
        exports[match[1]] = shlex.split(match[2])[0]
    status = process.stderr.readline()
    folder = re.search(r"logs in (\S+);", status)
    assert folder, f"unexpected status line: {status!r}"
    return process, exports, Path(folder[1])


def test_the_cli_prints_exports_and_stops_everything_on_sigint() -> None:
    process, exports, data_dir = _start_cli()
    try:
        servers = _children(process.pid)
        assert set(exports) == EXPORTED
        assert len(servers) == 2  # tansu and mongod
        client: MongoClient[dict[str, Any]] = MongoClient(exports["MONGODB_URI"])
        with client:
            assert client.admin.command("ping")["ok"] == 1

        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
        assert not _wait_until_dead(servers, timeout=0)
        assert not data_dir.exists()
    finally:
        process.kill()
        process.communicate()


def test_servers_die_with_a_killed_cli() -> None:
    process, _, data_dir = _start_cli()
    try:
        servers = _children(process.pid)
        assert len(servers) == 2
        process.kill()
        process.communicate()
        assert not _wait_until_dead(servers)
    finally:
        process.kill()
        process.communicate()
        shutil.rmtree(data_dir, ignore_errors=True)  # nobody was left to remove it
