"""The api against a real Kafka-protocol broker and real MongoDB: the event on the topic; a
disclosure accepted while the broker is gone reaches it once it is back; a write MongoDB does
not take in time is a 503 that never lands."""

import asyncio
import json
from datetime import timedelta
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from pymongo.asynchronous.database import AsyncDatabase

from laboursight_api.app import create_app
from laboursight_api.settings import ApiSettings
from laboursight_schemas import collections, topics
from tests.api.conftest import SUPPLIER_ID, context_of, relay_of, serving, sweeper_of
from tests.factories import CLEAN_SUPPLIER
from tests.own_broker import OwnBroker

pytestmark = pytest.mark.integration


async def _find_event(bootstrap_servers: str, topic: str, event_id: str) -> Any:
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap_servers, group_id=None, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        async with asyncio.timeout(30):
            while True:
                for records in (await consumer.getmany(timeout_ms=200)).values():
                    for record in records:
                        if json.loads(record.value)["id"] == event_id:
                            return record
    finally:
        await consumer.stop()


async def _correlation_ids(bootstrap_servers: str, topic: str) -> set[str]:
    """Every correlation id on ``topic`` up to its current end."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, group_id=None)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        found: set[str] = set()
        while [p for p in partitions if await consumer.position(p) < ends[p]]:
            for records in (await consumer.getmany(timeout_ms=200)).values():
                found |= {json.loads(r.value)["correlationid"] for r in records}
        return found
    finally:
        await consumer.stop()


async def test_the_event_is_on_the_topic_soon_after_the_api_answers(
    settings: ApiSettings, db: AsyncDatabase[dict[str, Any]], submitter: dict[str, str]
) -> None:
    async with serving(create_app(settings, db=db)) as api:
        answer = await api.post("/v1/disclosures", json=CLEAN_SUPPLIER, headers=submitter)
        body = answer.json()
        record = await _find_event(
            settings.kafka_bootstrap_servers, topics.SUPPLIER_DISCLOSURES, body["event_id"]
        )
        ready = await api.get("/readyz")

    assert answer.status_code == 202, answer.text
    assert ready.json() == {"status": "ready", "kafka": True, "mongodb": True}
    assert record.key == SUPPLIER_ID.encode()
    event = json.loads(record.value)
    assert (event["correlationid"], event["data"]["disclosure_id"]) == (
        body["disclosure_id"],
        body["disclosure_id"],
    )
    assert event["data"]["disclosure"]["supplier"]["supplier_id"] == SUPPLIER_ID
    stored = await db[collections.DISCLOSURES].find_one({"_id": body["disclosure_id"]})
    assert stored is not None
    assert stored["published"] is True


async def test_accepted_while_the_broker_is_gone_and_on_the_topic_once_it_is_back(
    settings: ApiSettings,
    db: AsyncDatabase[dict[str, Any]],
    submitter: dict[str, str],
    own_broker: OwnBroker,
) -> None:
    settings = settings.model_copy(
        update={
            "kafka_bootstrap_servers": own_broker.bootstrap_servers,
            "api_relay_delay_s": 0.0,
            "api_relay_interval_s": 0.2,
        }
    )
    async with serving(create_app(settings, db=db)) as api:
        await asyncio.sleep(0.5)  # the connection to the broker is made in the background
        own_broker.kill()  # kill -9: it comes back empty
        answer = await api.post("/v1/disclosures", json=CLEAN_SUPPLIER, headers=submitter)
        ready = await api.get("/readyz")
        own_broker.start()
        record = await _find_event(
            own_broker.bootstrap_servers, topics.SUPPLIER_DISCLOSURES, answer.json()["event_id"]
        )

    assert answer.status_code == 202, answer.text
    assert (ready.status_code, ready.json()["mongodb"]) == (200, True)
    assert json.loads(record.value)["correlationid"] == answer.json()["disclosure_id"]


async def test_a_disclosure_the_broker_lost_is_redriven_by_the_sweeper(
    settings: ApiSettings,
    db: AsyncDatabase[dict[str, Any]],
    submitter: dict[str, str],
    own_broker: OwnBroker,
) -> None:
    settings = settings.model_copy(
        update={
            "kafka_bootstrap_servers": own_broker.bootstrap_servers,
            "api_relay_interval_s": 0.2,
        }
    )
    app = create_app(settings, db=db)
    async with serving(app) as api:
        answer = (await api.post("/v1/disclosures", json=CLEAN_SUPPLIER, headers=submitter)).json()
        await _find_event(
            own_broker.bootstrap_servers, topics.SUPPLIER_DISCLOSURES, answer["event_id"]
        )
        own_broker.kill()  # kill -9 of a broker that keeps memory only: the event is gone
        own_broker.start()
        # Nothing screened it by the deadline.
        past_deadline = timedelta(seconds=settings.api_screening_deadline_s + 1)
        redriven = await sweeper_of(app, later=past_deadline).run_once()
        relayed = await relay_of(app, later=past_deadline).run_once()
        record = await _find_event(
            own_broker.bootstrap_servers, topics.SUPPLIER_DISCLOSURES, answer["event_id"]
        )

    assert (redriven, relayed) == (1, 1)
    assert json.loads(record.value)["correlationid"] == answer["disclosure_id"]


async def test_a_write_mongodb_does_not_take_in_time_is_a_503_that_never_lands(
    settings: ApiSettings, db: AsyncDatabase[dict[str, Any]], submitter: dict[str, str]
) -> None:
    settings = settings.model_copy(update={"api_write_timeout_s": 1.0, "api_clock_skew_s": 0.0})
    app = create_app(settings, db=db)
    async with serving(app) as api:
        # Writes wait while reads go on: the key is found, the disclosure is not stored in time.
        await db.client.admin.command("fsync", lock=True)
        try:
            refused = await api.post("/v1/disclosures", json=CLEAN_SUPPLIER, headers=submitter)
        finally:
            await db.client.admin.command("fsyncUnlock")
        await context_of(app).withdrawals.settled()
        relayed = await relay_of(app, later=timedelta(hours=1)).run_once()
        ids = [d["_id"] for d in await db[collections.DISCLOSURES].find().to_list()]
        on_the_topic = await _correlation_ids(
            settings.kafka_bootstrap_servers, topics.SUPPLIER_DISCLOSURES
        )
        shown = [await api.get(f"/v1/disclosures/{i}", headers=submitter) for i in ids]

    assert refused.status_code == 503
    assert refused.json()["code"] == "unavailable"
    assert relayed == 0
    assert [answer.status_code for answer in shown] == [404] * len(ids)
    assert not on_the_topic & set(ids)
