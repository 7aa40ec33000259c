"""The events on the running system's topics, read as an outside tool would read them.

Every record is a CloudEvent in the Kafka protocol binding's structured content mode, which the
``cloudevents`` SDK parses; and every service reads an event from a newer minor version (new
attributes, new fields) instead of dead-lettering it.
"""

import asyncio
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from cloudevents.core.bindings import kafka as ce_kafka
from cloudevents.core.formats.json import JSONFormat
from pymongo import MongoClient

from laboursight_schemas import collections, topics
from laboursight_schemas.envelope import CLOUDEVENTS_JSON, DATA_VERSIONS
from tests.e2e.system import ALERT_WITHIN_S, TENANT, System, wait_for_status
from tests.factories import BONDED_SUPPLIER, CLEAN_RECRUITER, CLEAN_SUPPLIER, supplier
from tests.infra import Infra

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

EVENT_TOPICS = {
    topics.SUPPLIER_DISCLOSURES: "org.laboursight.disclosure.supplier.submitted",
    topics.RECRUITER_DISCLOSURES: "org.laboursight.disclosure.recruiter.submitted",
    topics.FINDINGS: "org.laboursight.findings.computed",
    topics.ALERTS: "org.laboursight.alert.raised",
}
Record = Any  # aiokafka's ConsumerRecord[bytes, bytes]; aiokafka has no type information


async def records(
    bootstrap: str, topic: str, wanted: Callable[[Record], bool], timeout_s: float
) -> list[Record]:
    """The records of ``topic`` that ``wanted`` picks, reading from the start, once one is seen."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [
            TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        found: list[Record] = []
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=200)
            found += [r for rs in batch.values() for r in rs if wanted(r)]
            if found and not batch:
                return found
        return found
    finally:
        await consumer.stop()


def correlated(disclosure_id: str) -> Callable[[Record], bool]:
    return lambda record: disclosure_id.encode() in (record.value or b"")


def as_kafka_message(record: Record) -> ce_kafka.KafkaMessage:
    return ce_kafka.KafkaMessage(
        headers=dict(record.headers), key=record.key, value=record.value or b""
    )


def submit(system: System, key: str, body: dict[str, Any]) -> str:
    with system.client(key) as client:
        response = client.post("/v1/disclosures", json=body)
        assert response.status_code == 202, response.text
        disclosure_id: str = response.json()["disclosure_id"]
        wait_for_status(client, disclosure_id, "screened")
    return disclosure_id


def test_an_event_of_every_type_off_the_broker_is_a_structured_cloudevent(
    system: System, keys: dict[str, str], infra: Infra
) -> None:
    # An entity of its own: the pipeline tests expect the bonded supplier's first alert.
    ids = [f"SUP-CE-{uuid.uuid4().hex[:8]}", CLEAN_RECRUITER["recruiter"]["recruiter_id"]]
    key = system.stack.create_key(TENANT, "submitter", ids)
    supplier_id = submit(system, key, renamed(BONDED_SUPPLIER, ids[0]))
    recruiter_id = submit(system, key, CLEAN_RECRUITER)
    system.receiver.wait_for(lambda e: e["correlationid"] == supplier_id, ALERT_WITHIN_S)

    for topic, event_type in EVENT_TOPICS.items():
        disclosure_id = recruiter_id if "recruiter" in topic else supplier_id
        found = asyncio.run(
            records(infra.kafka_bootstrap_servers, topic, correlated(disclosure_id), 15)
        )
        assert found, f"no event of {disclosure_id} on {topic}"
        for record in found:
            assert dict(record.headers)["content-type"] == CLOUDEVENTS_JSON.encode()
            event = ce_kafka.from_structured(as_kafka_message(record), JSONFormat())
            assert (event.get_specversion(), event.get_type()) == ("1.0", event_type)
            assert event.get_extension("tenantid") == TENANT
            assert event.get_extension("correlationid") == disclosure_id
            assert event.get_extension("dataversion") == DATA_VERSIONS[event_type]
            assert event.get_source().startswith("/laboursight/")
            assert isinstance(event.get_data(), dict)


def future(document: dict[str, Any]) -> bytes:
    """The event as a later minor version would write it: a new attribute, new data fields."""
    major, minor = document["dataversion"].split(".")
    document = {**document, "dataversion": f"{major}.{int(minor) + 1}", "newattribute": "x"}
    document["data"] = {**document["data"], "added_field": {"from": "the future"}}
    return json.dumps(document).encode()


async def publish(bootstrap: str, topic: str, key: str, value: bytes) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(
            topic, value, key=key.encode(), headers=[("content-type", CLOUDEVENTS_JSON.encode())]
        )
    finally:
        await producer.stop()


def renamed(body: dict[str, Any], supplier_id: str) -> dict[str, Any]:
    return supplier(body, supplier={**body["supplier"], "supplier_id": supplier_id})


def test_every_service_reads_a_newer_minor_version_instead_of_dead_lettering_it(
    system: System, keys: dict[str, str], infra: Infra
) -> None:
    bootstrap = infra.kafka_bootstrap_servers
    mongo: MongoClient[dict[str, Any]] = MongoClient(infra.mongodb_uri)
    db = mongo[infra.environment().get("MONGODB_DATABASE", "laboursight")]
    # A real event of today's version to start from, taken off the disclosure topic; its
    # disclosure is replaced by a bonded one of a new supplier, so that every stage acts on it.
    template_id = submit(system, keys["submitter"], CLEAN_SUPPLIER)
    [template] = asyncio.run(
        records(bootstrap, topics.SUPPLIER_DISCLOSURES, correlated(template_id), 15)
    )
    disclosure_event = json.loads(template.value or b"")

    # disclosures.supplier.v1 → screening → findings.v1 → risk → alerts.v1 → notify.
    disclosure_id, supplier_id = str(uuid.uuid4()), f"SUP-FUTURE-{uuid.uuid4().hex[:8]}"
    disclosure_event |= {"id": str(uuid.uuid4()), "correlationid": disclosure_id}
    disclosure_event["data"] = {
        **disclosure_event["data"],
        "disclosure_id": disclosure_id,
        "disclosure": {
            **renamed(BONDED_SUPPLIER, supplier_id),
            "added_section": {"new": True},
        },
    }
    asyncio.run(
        publish(bootstrap, topics.SUPPLIER_DISCLOSURES, supplier_id, future(disclosure_event))
    )
    alert = system.receiver.wait_for(lambda e: e["correlationid"] == disclosure_id, ALERT_WITHIN_S)
    assert alert["data"]["entity_id"] == supplier_id
    assert db[collections.FINDINGS].count_documents({"disclosure_id": disclosure_id}) == 1

    # findings.v1 → risk → alerts.v1 → notify, from a findings event of a newer minor version.
    [findings] = asyncio.run(records(bootstrap, topics.FINDINGS, correlated(disclosure_id), 15))
    findings_event = json.loads(findings.value or b"")
    second_id, second_supplier = str(uuid.uuid4()), f"SUP-FUTURE-{uuid.uuid4().hex[:8]}"
    findings_event |= {"id": str(uuid.uuid4()), "correlationid": second_id}
    findings_event["data"] |= {"disclosure_id": second_id, "entity_id": second_supplier}
    asyncio.run(publish(bootstrap, topics.FINDINGS, second_supplier, future(findings_event)))
    system.receiver.wait_for(lambda e: e["correlationid"] == second_id, ALERT_WITHIN_S)

    # alerts.v1 → notify, from an alert event of a newer minor version.
    alert_event = {**alert, "id": str(uuid.uuid4()), "correlationid": str(uuid.uuid4())}
    asyncio.run(publish(bootstrap, topics.ALERTS, supplier_id, future(alert_event)))
    delivered = system.receiver.wait_for(
        lambda e: e["correlationid"] == alert_event["correlationid"], ALERT_WITHIN_S
    )
    assert delivered["id"] == alert_event["id"]

    ids = [disclosure_event["id"], findings_event["id"], alert_event["id"]]
    for topic in EVENT_TOPICS:
        dead = asyncio.run(
            records(
                bootstrap,
                topics.dead_letter_topic(topic),
                lambda r: any(i.encode() in (r.value or b"") for i in ids),
                2,
            )
        )
        assert dead == [], f"dead-lettered on {topic}: {dead}"
    mongo.close()
