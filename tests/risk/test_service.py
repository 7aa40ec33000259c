"""The risk service as ``bootstrap`` wires it, in this process, on the real broker and MongoDB:
batches from findings.v1 to alerts.v1, case events from cases.v1 to alert updates, and the
relay publishing what its outbox holds."""

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pytest
from aiokafka import AIOKafkaConsumer
from faststream.asgi import AsgiFastStream
from faststream.kafka import KafkaBroker
from faststream.kafka.subscriber.usecase import BatchSubscriber
from pymongo.asynchronous.database import AsyncDatabase

from laboursight_risk.alerts import alert_id
from laboursight_risk.broker_log import KafkaAlertLog
from laboursight_risk.main import FINDINGS_MAX_RECORDS, bootstrap
from laboursight_risk.store import MongoRiskStore
from laboursight_runtime.kafka import KafkaPublisher
from laboursight_runtime.mongo import make_client
from laboursight_runtime.settings import Settings
from laboursight_schemas import collections, topics
from laboursight_schemas.envelope import AlertEvent, AlertUpdatedEvent
from laboursight_schemas.findings import AlertUpdated
from laboursight_schemas.upcasting import read_event
from tests.risk.builders import (
    case_event,
    event,
    outbox_entry,
    raised_alert,
    recruiter,
    supplier,
)

pytestmark = pytest.mark.integration

T = TypeVar("T")
Database = AsyncDatabase[dict[str, Any]]
TIMEOUT_S = 30.0


@pytest.fixture(scope="module")
def settings(infra: Any) -> Settings:
    environment = {name.lower(): value for name, value in infra.environment().items()}
    return Settings.model_validate(
        {**environment, "mongodb_database": f"test-risk-{uuid.uuid4().hex[:8]}"}
    )


@pytest.fixture(scope="module")
async def db(settings: Settings) -> AsyncIterator[Database]:
    client = make_client(settings)
    yield client[settings.mongodb_database]
    await client.drop_database(settings.mongodb_database)
    await client.close()


@pytest.fixture(scope="module")
async def app(settings: Settings) -> AsyncIterator[AsgiFastStream]:
    app = bootstrap(settings)
    await app.start()
    yield app
    await app.stop()


@pytest.fixture
async def alerts(settings: Settings) -> AsyncIterator[AIOKafkaConsumer]:
    consumer = AIOKafkaConsumer(
        topics.ALERTS,
        bootstrap_servers=settings.kafka_bootstrap_servers,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    yield consumer
    await consumer.stop()


async def eventually(probe: Callable[[], Awaitable[T | None]]) -> T:
    deadline = asyncio.get_running_loop().time() + TIMEOUT_S
    while (found := await probe()) is None:
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)
    return found


AnyAlertEvent = AlertEvent | AlertUpdatedEvent


async def published(consumer: AIOKafkaConsumer, tenant_id: str, count: int) -> list[AnyAlertEvent]:
    """The alert events of ``tenant_id`` on alerts.v1, once there are ``count`` of them."""
    seen: list[AnyAlertEvent] = []

    async def probe() -> list[AnyAlertEvent] | None:
        for records in (await consumer.getmany(timeout_ms=100)).values():
            for record in records:
                # The topic also holds what other tests sent: newer versions, poison.
                with contextlib.suppress(ValueError):
                    alert = read_event(record.value, (AlertEvent, AlertUpdatedEvent))
                    if alert.tenant_id == tenant_id:
                        seen.append(alert)
        return seen if len({e.id for e in seen}) >= count else None

    return await eventually(probe)


def tenant() -> str:
    return f"tenant-{uuid.uuid4().hex[:8]}"


async def test_findings_become_profiles_and_published_alerts(
    app: AsgiFastStream, db: Database, alerts: AIOKafkaConsumer
) -> None:
    assert isinstance(app.broker, KafkaBroker)
    mine = tenant()
    batch = [
        event(supplier("SUP-1", "medium", recruiters=[("REC-9", 300, 0.75)]), mine),
        event(recruiter("REC-9", "high", placements=[("SUP-1", 300)]), mine),
        event(supplier("SUP-2", "low"), mine),
    ]
    await KafkaPublisher(app.broker).publish_all(
        [(topics.FINDINGS, e.data.entity_id, e) for e in batch]
    )
    raised = await published(alerts, mine, 4)
    assert sorted((e.data.entity_id, e.data.alert_type) for e in raised) == [
        ("REC-9", "forced_labour"),
        ("REC-9", "risk_level"),
        ("REC-9", "strong_indicator"),
        ("SUP-1", "risk_level"),
    ]
    assert await db[collections.FINDINGS].count_documents({"tenant_id": mine}) == 3
    outbox = db[collections.ALERTS]

    async def marked() -> bool | None:
        return await outbox.count_documents({"tenant_id": mine, "published": True}) == 4 or None

    await eventually(marked)


async def test_a_case_event_becomes_an_alert_update(
    app: AsgiFastStream, db: Database, alerts: AIOKafkaConsumer
) -> None:
    assert isinstance(app.broker, KafkaBroker)
    mine = tenant()
    publisher = KafkaPublisher(app.broker)
    computed = supplier("SUP-1", "high", likely=False)
    await publisher.publish_all([(topics.FINDINGS, "SUP-1", event(computed, mine))])
    (raised,) = await published(alerts, mine, 1)
    mine_alert = alert_id(mine, "supplier", "SUP-1", "risk_level")
    assert raised.data.alert_id == mine_alert
    opened = case_event(1, "opened", "open", [mine_alert], tenant_id=mine)
    await publisher.publish_all([(topics.CASES, opened.data.case_id, opened)])
    (update,) = await published(alerts, mine, 1)
    assert isinstance(update.data, AlertUpdated)
    assert (update.data.change, update.data.status, update.correlation_id) == (
        "triaged",
        "triaged",
        opened.correlation_id,
    )
    stored = await db[collections.ALERTS].find_one({"_id": mine_alert, "tenant_id": mine})
    assert stored is not None
    assert (stored["status"], stored["revision"]) == ("triaged", 1)


async def test_an_alert_left_in_the_outbox_is_published_without_any_event(
    app: AsgiFastStream, db: Database, settings: Settings, alerts: AIOKafkaConsumer
) -> None:
    mine = tenant()
    # As a crash between commit and publish leaves it, its source event lost with the broker.
    alert, left = raised_alert("SUP-7", mine, at=datetime.now(UTC) - timedelta(minutes=1))
    store = MongoRiskStore(db.client, settings.mongodb_database)
    async with store.unit_of_work() as uow:
        await uow.alerts.save([alert], [left])
        await uow.commit()
    (relayed,) = await published(alerts, mine, 1)
    assert (relayed.id, relayed.data) == (left.event().id, left.alert)

    async def marked() -> bool | None:
        return await store.outbox.backlog() == 0 or None

    await eventually(marked)


async def test_the_alert_log_tells_how_far_each_partition_of_alerts_reaches(
    app: AsgiFastStream, settings: Settings
) -> None:
    assert isinstance(app.broker, KafkaBroker)
    log = KafkaAlertLog(settings.kafka_bootstrap_servers)
    try:
        before = await log.end_offsets()
        sent = outbox_entry("SUP-8", tenant())
        await KafkaPublisher(app.broker).publish_all([(topics.ALERTS, "SUP-8", sent.event())])
        after = await log.end_offsets()
    finally:
        await log.close()
    assert sorted(after) == sorted(before) == [0, 1, 2]
    assert sum(after.values()) == sum(before.values()) + 1


def test_the_service_is_wired_outside_an_event_loop(settings: Settings) -> None:
    # As main() does, before uvicorn runs the loop: nothing may bind to a loop yet.
    assert isinstance(bootstrap(settings).broker, KafkaBroker)


def test_findings_come_in_batches_small_enough_for_the_memory_target(settings: Settings) -> None:
    # Issue 8: a batch of 500 findings under a backlog took risk past 150 MB resident.
    broker = bootstrap(settings).broker
    assert isinstance(broker, KafkaBroker)
    batches = {
        topic.name: subscriber.max_records
        for subscriber in broker.subscribers
        if isinstance(subscriber, BatchSubscriber)
        for topic in subscriber.topics
    }
    assert batches[topics.FINDINGS] == FINDINGS_MAX_RECORDS < 500
