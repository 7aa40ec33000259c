"""The api against a real Kafka-protocol broker: the event on the topic, and 503 without one."""

import asyncio
import json
import socket
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer
from pymongo.asynchronous.database import AsyncDatabase

from laboursight_api.app import create_app
from laboursight_api.settings import ApiSettings
from laboursight_runtime.local.servers import tansu_binary
from laboursight_schemas import topics
from tests.api.conftest import SUPPLIER_ID, serving
from tests.factories import CLEAN_SUPPLIER

pytestmark = pytest.mark.integration


async def _find_event(bootstrap_servers: str, topic: str, event_id: str) -> Any:
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap_servers, group_id=None, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        async with asyncio.timeout(15):
            while True:
                for records in (await consumer.getmany(timeout_ms=200)).values():
                    for record in records:
                        if json.loads(record.value)["id"] == event_id:
                            return record
    finally:
        await consumer.stop()


async def test_the_event_is_on_the_topic_when_the_api_answers(
    settings: ApiSettings, db: AsyncDatabase[dict[str, Any]], submitter: dict[str, str]
) -> None:
    async with serving(create_app(settings, db=db)) as api:
        answer = await api.post("/v1/disclosures", json=CLEAN_SUPPLIER, headers=submitter)
        ready = await api.get("/readyz")

    assert answer.status_code == 202, answer.text
    assert ready.status_code == 200
    body = answer.json()
    record = await _find_event(
        settings.kafka_bootstrap_servers, topics.SUPPLIER_DISCLOSURES, body["event_id"]
    )
    assert record.key == SUPPLIER_ID.encode()
    event = json.loads(record.value)
    assert (event["correlationid"], event["data"]["disclosure_id"]) == (
        body["disclosure_id"],
        body["disclosure_id"],
    )
    assert event["data"]["disclosure"]["supplier"]["supplier_id"] == SUPPLIER_ID


@pytest.fixture
def own_broker() -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A broker of this test's own, which it may stop; the session's broker stays up."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"tcp://127.0.0.1:{port}"
    process = subprocess.Popen(
        [tansu_binary(), "broker", "--listener-url", url, "--advertised-listener-url", url,
         "--storage-engine", "memory://tansu/"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield f"127.0.0.1:{port}", process
    finally:
        process.kill()
        process.wait()


async def test_503_with_retry_after_when_the_broker_is_gone(
    settings: ApiSettings,
    db: AsyncDatabase[dict[str, Any]],
    submitter: dict[str, str],
    own_broker: tuple[str, subprocess.Popen[bytes]],
) -> None:
    bootstrap_servers, broker = own_broker
    settings = settings.model_copy(update={"kafka_bootstrap_servers": bootstrap_servers})
    async with serving(create_app(settings, db=db)) as api:
        # Gone before the first publish: a record the producer already buffered would hold
        # the shutdown until aiokafka's request timeout (40 s) expires it.
        broker.kill()
        broker.wait()
        refused = await api.post("/v1/disclosures", json=CLEAN_SUPPLIER, headers=submitter)
        ready = await api.get("/readyz")

    assert refused.status_code == 503
    assert int(refused.headers["Retry-After"]) > 0
    assert refused.json()["code"] == "unavailable"
    assert (ready.status_code, ready.json()["kafka"], ready.json()["mongodb"]) == (503, False, True)
