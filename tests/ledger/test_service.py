"""The ledger service as ``bootstrap`` wires it, in this process, on the real broker and
MongoDB: every topic's events chained per tenant with where they were read, old envelopes too,
and a record that is no event dead-lettered instead of chained."""

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from faststream.asgi import AsgiFastStream

from laboursight_ledger.main import bootstrap
from laboursight_ledger.settings import LedgerSettings
from laboursight_ledger.store import MongoLedger
from laboursight_ledger.verification import verify_tenants
from laboursight_runtime.settings import Settings
from laboursight_schemas import topics, topology
from laboursight_schemas.ledger import Entry
from tests.factories import CLEAN_SUPPLIER, supplier_event
from tests.risk.builders import event, supplier

pytestmark = pytest.mark.integration

GOLDEN = Path(__file__).resolve().parents[2] / "schemas" / "golden"
TIMEOUT_S = 30.0


@pytest.fixture(scope="module")
async def app(settings: Settings) -> AsyncIterator[AsgiFastStream]:
    app = bootstrap(settings, LedgerSettings(checkpoint_interval_s=3600))
    await app.start()
    yield app
    await app.stop()


async def chain_of(ledger: MongoLedger, tenant_id: str, count: int) -> list[Entry]:
    deadline = asyncio.get_running_loop().time() + TIMEOUT_S
    while len(entries := [e async for e in ledger.entries(tenant_id)]) < count:
        assert asyncio.get_running_loop().time() < deadline, f"{len(entries)} of {count} entries"
        await asyncio.sleep(0.1)
    return entries


async def test_events_of_every_topic_are_chained_as_read_and_a_redelivery_adds_nothing(
    app: AsgiFastStream, settings: Settings, ledger: MongoLedger
) -> None:
    tenant = f"tenant-{uuid.uuid4().hex[:6]}"
    disclosure = supplier_event(CLEAN_SUPPLIER, tenant_id=tenant).model_dump_json().encode()
    findings = event(supplier("SUP-L1", "high"), tenant_id=tenant).model_dump_json().encode()
    legacy = json.loads((GOLDEN / "supplier-disclosure-submitted" / "1.0-legacy.json").read_text())
    legacy = {**legacy, "tenant_id": tenant, "id": str(uuid.uuid4())}
    old = json.dumps(legacy).encode()
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers, acks="all")
    await producer.start()
    try:
        sent = [
            await producer.send_and_wait(topics.SUPPLIER_DISCLOSURES, disclosure, key=b"k"),
            await producer.send_and_wait(topics.FINDINGS, findings, key=b"k"),
            await producer.send_and_wait(topics.SUPPLIER_DISCLOSURES, old, key=b"k"),
            await producer.send_and_wait(topics.FINDINGS, findings, key=b"k"),  # again
        ]
    finally:
        await producer.stop()

    entries = await chain_of(ledger, tenant, 3)
    await asyncio.sleep(1.0)  # time for the repeated findings event to be read, and ignored
    entries = [e async for e in ledger.entries(tenant)]

    assert len(entries) == 3
    assert sorted(e.event for e in entries) == sorted([disclosure, findings, old])
    placed = {(e.topic, e.partition, e.offset) for e in entries}
    assert placed <= {(m.topic, m.partition, m.offset) for m in sent}
    [verdict] = await verify_tenants(settings, [tenant])
    assert verdict.intact
    assert verdict.entries == 3


async def test_a_record_that_is_no_event_is_dead_lettered_by_the_ledger_not_chained(
    app: AsgiFastStream, settings: Settings
) -> None:
    key = uuid.uuid4().hex.encode()
    dead_letters = AIOKafkaConsumer(
        topics.dead_letter_topic(topics.ALERTS),
        bootstrap_servers=settings.kafka_bootstrap_servers,
        auto_offset_reset="earliest",
    )
    await dead_letters.start()
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(topics.ALERTS, b"not an event", key=key)
        found = None
        async with asyncio.timeout(TIMEOUT_S):
            while found is None:
                batch = await dead_letters.getmany(timeout_ms=500)
                found = next(
                    (r for rs in batch.values() for r in rs if r.key == key and _ours(r)), None
                )
    finally:
        await producer.stop()
        await dead_letters.stop()
    headers = dict(found.headers)
    assert headers["dlq.stage"] == b"decode"
    assert headers["dlq.error.type"] in (b"ValidationError", b"UnreadableEvent")


def _ours(record: Any) -> bool:
    headers = dict(record.headers or ())
    return headers.get("dlq.consumer_group") == topology.ledger_group(topics.ALERTS).encode()
