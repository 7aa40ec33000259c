"""The notify service against a real broker, a real MongoDB and a real webhook receiver."""

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest
from aiokafka import AIOKafkaConsumer, ConsumerRecord
from faststream.kafka import KafkaBroker
from pymongo.asynchronous.database import AsyncDatabase

from laboursight_notify.main import bootstrap
from laboursight_runtime.kafka import KafkaPublisher
from laboursight_runtime.mongo import make_client
from laboursight_runtime.settings import Settings
from laboursight_schemas import collections, topics
from laboursight_schemas.envelope import AlertEvent

from .fakes import SECRET, alert_event
from .receiver import Received, Receiver

pytestmark = pytest.mark.integration

T = TypeVar("T")
Database = AsyncDatabase[dict[str, Any]]
TIMEOUT_S = 30.0


@pytest.fixture(scope="module")
def settings(infra: Any) -> Settings:
    environment = {name.lower(): value for name, value in infra.environment().items()}
    return Settings.model_validate(
        {**environment, "mongodb_database": f"test-notify-{uuid.uuid4().hex[:8]}"}
    )


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    with Receiver() as receiver:
        yield receiver


@pytest.fixture(scope="module")
async def db(settings: Settings) -> AsyncIterator[Database]:
    client = make_client(settings)
    yield client[settings.mongodb_database]
    await client.drop_database(settings.mongodb_database)
    await client.close()


@pytest.fixture(scope="module")
async def broker(settings: Settings) -> AsyncIterator[KafkaBroker]:
    """The notify app, running in this process; its broker also publishes the tests' events."""
    app = bootstrap(settings)
    assert isinstance(app.broker, KafkaBroker)
    await app.start()
    yield app.broker
    await app.stop()


async def eventually(probe: Callable[[], Awaitable[T | None]]) -> T:
    deadline = asyncio.get_running_loop().time() + TIMEOUT_S
    while (found := await probe()) is None:
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)
    return found


async def arrivals(receiver: Receiver, path: str, count: int) -> list[Received]:
    async def probe() -> list[Received] | None:
        received = receiver.received(path)
        return received if len(received) >= count else None

    return await eventually(probe)


@dataclass(frozen=True)
class Subscriber:
    tenant_id: str
    subscription_id: str
    path: str

    def delivery_id(self, event: AlertEvent) -> str:
        return f"{event.id}:{self.subscription_id}"


async def subscribe(db: Database, receiver: Receiver, **endpoint: Any) -> Subscriber:
    """A new tenant with one subscription to a new endpoint of the receiver."""
    unique = uuid.uuid4().hex[:8]
    subscriber = Subscriber(f"tenant-{unique}", f"sub-{unique}", f"/hooks/{unique}")
    await db[collections.SUBSCRIPTIONS].insert_one(
        {
            "_id": subscriber.subscription_id,
            "tenant_id": subscriber.tenant_id,
            "url": receiver.endpoint(subscriber.path, SECRET, **endpoint),
            "secret": SECRET,
            "min_risk_level": "high",
            "active": True,
        }
    )
    return subscriber


def new_alert(tenant_id: str) -> AlertEvent:
    return alert_event(str(uuid.uuid4()), tenant_id=tenant_id)


async def publish(broker: KafkaBroker, *events: AlertEvent) -> None:
    for event in events:
        await KafkaPublisher(broker).publish(topics.ALERTS, event.data.entity_id, event)


async def delivery_record(db: Database, tenant_id: str, delivery_id: str) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        return await db[collections.DELIVERIES].find_one(
            {"_id": delivery_id, "tenant_id": tenant_id}
        )

    return await eventually(probe)


async def test_an_alert_arrives_once_signed_and_is_recorded_delivered(
    broker: KafkaBroker, db: Database, receiver: Receiver
) -> None:
    subscriber = await subscribe(db, receiver)
    event = new_alert(subscriber.tenant_id)

    await publish(broker, event)

    [received] = await arrivals(receiver, subscriber.path, 1)
    assert received.verified
    assert received.headers["webhook-id"] == subscriber.delivery_id(event)
    assert AlertEvent.model_validate_json(received.body) == event
    record = await delivery_record(db, subscriber.tenant_id, subscriber.delivery_id(event))
    assert (record["status"], record["attempts"], record["last_status_code"]) == (
        "delivered",
        1,
        204,
    )


async def test_a_redelivered_alert_is_not_posted_again(
    broker: KafkaBroker, db: Database, receiver: Receiver
) -> None:
    subscriber = await subscribe(db, receiver)
    event, later = new_alert(subscriber.tenant_id), new_alert(subscriber.tenant_id)

    # Same key, same partition: once the later alert has arrived, the redelivery was handled.
    await publish(broker, event, event, later)

    await arrivals(receiver, subscriber.path, 2)
    assert [r.headers["webhook-id"] for r in receiver.received(subscriber.path)] == [
        subscriber.delivery_id(event),
        subscriber.delivery_id(later),
    ]


async def test_a_receiver_that_fails_twice_gets_it_on_the_third_attempt(
    broker: KafkaBroker, db: Database, receiver: Receiver
) -> None:
    subscriber = await subscribe(db, receiver, failures=(500, 500))
    event = new_alert(subscriber.tenant_id)

    await publish(broker, event)

    received = await arrivals(receiver, subscriber.path, 3)
    assert [r.answered for r in received] == [500, 500, 204]
    assert all(r.verified for r in received)
    assert {r.headers["webhook-id"] for r in received} == {subscriber.delivery_id(event)}
    record = await delivery_record(db, subscriber.tenant_id, subscriber.delivery_id(event))
    assert (record["status"], record["attempts"], record["last_status_code"]) == (
        "delivered",
        3,
        204,
    )


async def test_a_poison_message_is_dead_lettered_and_the_next_alert_still_delivered(
    broker: KafkaBroker, db: Database, receiver: Receiver, settings: Settings
) -> None:
    subscriber = await subscribe(db, receiver)
    poison = f"{{not json {uuid.uuid4()}".encode()
    good = new_alert(subscriber.tenant_id)

    await broker.publish(poison, topics.ALERTS, key=good.data.entity_id.encode())
    await publish(broker, good)

    [received] = await arrivals(receiver, subscriber.path, 1)
    assert received.headers["webhook-id"] == subscriber.delivery_id(good)
    letter = await dead_letter(settings, poison)
    headers = {name: value.decode() for name, value in letter.headers}
    assert headers["dlq.stage"] == "decode"
    assert headers["dlq.error.type"] == "UnreadableEvent"
    assert headers["dlq.source.topic"] == topics.ALERTS
    assert headers["dlq.consumer_group"] == "notify"
    assert letter.key == good.data.entity_id.encode()


async def dead_letter(settings: Settings, value: bytes) -> "ConsumerRecord[bytes, bytes]":
    consumer = AIOKafkaConsumer(
        topics.dead_letter_topic(topics.ALERTS),
        bootstrap_servers=settings.kafka_bootstrap_servers,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:

        async def probe() -> "ConsumerRecord[bytes, bytes] | None":
            batches = await consumer.getmany(timeout_ms=200)
            return next((r for rs in batches.values() for r in rs if r.value == value), None)

        return await eventually(probe)
    finally:
        await consumer.stop()
