"""The notify service against a real broker, a real MongoDB and real webhook receivers.

Retries, circuits and polling are set short here so the tests end quickly; what is checked is
the order of events (what had arrived, what was still pending), never how long anything took.
"""

import asyncio
import socket
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

import pytest
from aiokafka import AIOKafkaConsumer, ConsumerRecord
from faststream.kafka import KafkaBroker
from pymongo.asynchronous.database import AsyncDatabase
from tenacity import wait_fixed

from laboursight_notify.circuits import Circuits
from laboursight_notify.dispatcher import Dispatcher
from laboursight_notify.handlers import RecordDeliveries
from laboursight_notify.main import bootstrap
from laboursight_notify.model import Subscription
from laboursight_notify.retries import RetryPolicy
from laboursight_notify.settings import NotifySettings
from laboursight_notify.stores import (
    Claim,
    MongoDeliveryQueue,
    MongoSubscriptions,
    create_indexes,
)
from laboursight_notify.webhooks import SignedWebhookSender
from laboursight_runtime.kafka import KafkaPublisher
from laboursight_runtime.mongo import make_client
from laboursight_runtime.settings import Settings
from laboursight_schemas import collections, topics
from laboursight_schemas.delivery_requests import WEBHOOK_TEST
from laboursight_schemas.envelope import AlertEvent, AlertUpdatedEvent, Envelope

from .fakes import SECRET, alert_event, alert_updated, asked_to_test, redelivery
from .receiver import Received, Receiver

pytestmark = pytest.mark.integration

T = TypeVar("T")
Database = AsyncDatabase[dict[str, Any]]
TIMEOUT_S = 30.0
FAST = NotifySettings(
    retry_first_wait_s=0.05,
    retry_max_wait_s=0.2,
    circuit_failures=3,
    circuit_cooldown_s=0.3,
    poll_interval_s=0.05,
)


@pytest.fixture(scope="module")
def settings(infra: Any) -> Settings:
    environment = {name.lower(): value for name, value in infra.environment().items()}
    return Settings.model_validate(
        {
            **environment,
            "mongodb_database": f"test-notify-{uuid.uuid4().hex[:8]}",
            # The receiver listens on loopback, whichever route gave the servers.
            "outbound_allow_loopback": True,
        }
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
    app = bootstrap(settings, FAST)
    assert isinstance(app.broker, KafkaBroker)
    await app.start()
    yield app.broker
    await app.stop()


@pytest.fixture
async def standalone(settings: Settings) -> AsyncIterator[Database]:
    """A database of its own, for dispatchers a test runs without the app."""
    client = make_client(settings)
    name = f"test-notify-{uuid.uuid4().hex[:8]}"
    await create_indexes(client[name])
    yield client[name]
    await client.drop_database(name)
    await client.close()


@pytest.fixture
async def sender(settings: Settings) -> AsyncIterator[SignedWebhookSender]:
    async with SignedWebhookSender(policy=settings.outbound_policy()) as opened:
        yield opened


async def eventually(probe: Callable[[], Awaitable[T | None]]) -> T:
    deadline = asyncio.get_running_loop().time() + TIMEOUT_S
    while (found := await probe()) is None:
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.02)
    return found


async def arrivals(receiver: Receiver, path: str, count: int) -> list[Received]:
    async def probe() -> list[Received] | None:
        received = receiver.received(path)
        return received if len(received) >= count else None

    return await eventually(probe)


def accepted_ids(receiver: Receiver, path: str) -> Counter[str]:
    """How many times each webhook-id was answered 2xx at ``path``."""
    return Counter(
        r.headers["webhook-id"] for r in receiver.received(path) if 200 <= r.answered < 300
    )


@dataclass(frozen=True)
class Subscriber:
    tenant_id: str
    subscription_id: str
    path: str

    def delivery_id(self, event: Envelope[Any]) -> str:
        return f"{event.id}:{self.subscription_id}"


async def subscribe(db: Database, url: Callable[[str], str], **filters: Any) -> Subscriber:
    """A new tenant with one subscription to ``url(path)``."""
    unique = uuid.uuid4().hex[:8]
    subscriber = Subscriber(f"tenant-{unique}", f"sub-{unique}", f"/hooks/{unique}")
    await db[collections.SUBSCRIPTIONS].insert_one(
        {
            "_id": subscriber.subscription_id,
            "tenant_id": subscriber.tenant_id,
            "url": url(subscriber.path),
            "secret": SECRET,
            "min_risk_level": "high",
            "active": True,
            **filters,
        }
    )
    return subscriber


async def subscribe_to(
    db: Database, receiver: Receiver, failures: tuple[int, ...] = (), **filters: Any
) -> Subscriber:
    return await subscribe(
        db, lambda path: receiver.endpoint(path, SECRET, failures=failures), **filters
    )


@pytest.fixture
def refusing_port() -> Iterator[socket.socket]:
    """A loopback port bound but never listening: every connection is refused, as by a receiver
    that is down."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock


def down_at(sock: socket.socket) -> Callable[[str], str]:
    port = sock.getsockname()[1]
    return lambda path: f"http://127.0.0.1:{port}{path}"


def new_alert(tenant_id: str) -> AlertEvent:
    return alert_event(str(uuid.uuid4()), tenant_id=tenant_id)


async def publish(broker: KafkaBroker, *events: AlertEvent | AlertUpdatedEvent) -> None:
    # Every test alert has the same key, so all go to one partition, in this order.
    for event in events:
        await KafkaPublisher(broker).publish(topics.ALERTS, event.data.entity_id, event)


async def request(broker: KafkaBroker, *events: Envelope[Any]) -> None:
    for event in events:
        await KafkaPublisher(broker).publish(
            topics.DELIVERY_REQUESTS, event.data.subscription_id, event
        )


async def delivery_record(
    db: Database, subscriber: Subscriber, event: Envelope[Any], status: str
) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        return await db[collections.DELIVERIES].find_one(
            {
                "_id": subscriber.delivery_id(event),
                "tenant_id": subscriber.tenant_id,
                "status": status,
            }
        )

    return await eventually(probe)


async def statuses(db: Database, subscriber: Subscriber) -> list[str]:
    cursor = db[collections.DELIVERIES].find({"tenant_id": subscriber.tenant_id})
    return [doc["status"] async for doc in cursor]


async def test_an_alert_arrives_once_signed_and_is_recorded_delivered(
    broker: KafkaBroker, db: Database, receiver: Receiver
) -> None:
    subscriber = await subscribe_to(db, receiver)
    event = new_alert(subscriber.tenant_id)

    await publish(broker, event)

    [received] = await arrivals(receiver, subscriber.path, 1)
    assert received.verified
    assert received.headers["webhook-id"] == subscriber.delivery_id(event)
    assert AlertEvent.model_validate_json(received.body) == event
    record = await delivery_record(db, subscriber, event, "delivered")
    assert (record["attempts"], record["last_status_code"], record["lease"]) == (1, 204, None)
    [logged] = record["attempt_log"]
    assert (logged["status_code"], logged["error"]) == (204, None)
    assert logged["latency_ms"] >= 0


async def test_a_redelivered_alert_changes_nothing_and_is_not_posted_again(
    broker: KafkaBroker, db: Database, receiver: Receiver
) -> None:
    subscriber = await subscribe_to(db, receiver)
    event, later = new_alert(subscriber.tenant_id), new_alert(subscriber.tenant_id)
    await publish(broker, event)
    before = await delivery_record(db, subscriber, event, "delivered")

    # Same partition: once the later alert is delivered, the redelivery was handled.
    await publish(broker, event, later)

    await delivery_record(db, subscriber, later, "delivered")
    after = await db[collections.DELIVERIES].find_one({"_id": subscriber.delivery_id(event)})
    assert after == before
    assert [r.headers["webhook-id"] for r in receiver.received(subscriber.path)] == [
        subscriber.delivery_id(event),
        subscriber.delivery_id(later),
    ]


async def test_a_receiver_that_fails_twice_gets_it_on_the_third_attempt(
    broker: KafkaBroker, db: Database, receiver: Receiver
) -> None:
    subscriber = await subscribe_to(db, receiver, failures=(500, 500))
    event = new_alert(subscriber.tenant_id)

    await publish(broker, event)

    received = await arrivals(receiver, subscriber.path, 3)
    assert [r.answered for r in received] == [500, 500, 204]
    assert all(r.verified for r in received)
    assert {r.headers["webhook-id"] for r in received} == {subscriber.delivery_id(event)}
    record = await delivery_record(db, subscriber, event, "delivered")
    assert record["attempts"] == 3
    assert [a["status_code"] for a in record["attempt_log"]] == [500, 500, 204]


async def test_a_receiver_down_then_back_gets_every_alert_exactly_once(
    broker: KafkaBroker, db: Database, refusing_port: socket.socket
) -> None:
    subscriber = await subscribe(db, down_at(refusing_port))
    events = [new_alert(subscriber.tenant_id) for _ in range(6)]

    await publish(broker, *events)

    async def circuit_opened() -> bool | None:
        docs = db[collections.DELIVERIES].find({"tenant_id": subscriber.tenant_id})
        made = [doc["attempts"] async for doc in docs if doc["status"] == "pending"]
        return True if len(made) == len(events) and sum(made) >= FAST.circuit_failures else None

    await eventually(circuit_opened)
    port = refusing_port.getsockname()[1]
    refusing_port.close()
    with Receiver(port=port) as back:
        back.endpoint(subscriber.path, SECRET)
        await arrivals(back, subscriber.path, len(events))
        for event in events:
            await delivery_record(db, subscriber, event, "delivered")

        assert accepted_ids(back, subscriber.path) == {subscriber.delivery_id(e): 1 for e in events}
        assert all(r.verified for r in back.received(subscriber.path))


async def test_a_dead_receiver_does_not_delay_another_tenants(
    broker: KafkaBroker, db: Database, receiver: Receiver, refusing_port: socket.socket
) -> None:
    dead = await subscribe(db, down_at(refusing_port))
    healthy = await subscribe_to(db, receiver)
    stuck = [new_alert(dead.tenant_id) for _ in range(5)]
    other = new_alert(healthy.tenant_id)

    # One partition, the dead receiver's alerts first.
    await publish(broker, *stuck, other)

    await arrivals(receiver, healthy.path, 1)
    # When the healthy receiver had its alert, the dead one's were all still being retried.
    assert await statuses(db, dead) == ["pending"] * len(stuck)


async def test_a_delivery_past_the_horizon_ends_dead_and_stays(
    standalone: Database, receiver: Receiver, sender: SignedWebhookSender
) -> None:
    subscriber = await subscribe_to(standalone, receiver, failures=(503,) * 1000)
    event = new_alert(subscriber.tenant_id)
    dispatcher = dispatcher_on(standalone, sender)

    async with running(dispatcher):
        await recorder(standalone, dispatcher, horizon=timedelta(milliseconds=300))([event])
        record = await delivery_record(standalone, subscriber, event, "dead")

    assert record["attempts"] >= 1
    assert (record["last_status_code"], record["due_at"]) == (503, None)
    assert {r.headers["webhook-id"] for r in receiver.received(subscriber.path)} == {
        subscriber.delivery_id(event)
    }


async def test_two_dispatchers_never_send_one_delivery_twice(
    standalone: Database, receiver: Receiver, sender: SignedWebhookSender
) -> None:
    subscriber = await subscribe_to(standalone, receiver)
    events = [new_alert(subscriber.tenant_id) for _ in range(40)]
    first, second = dispatcher_on(standalone, sender), dispatcher_on(standalone, sender)
    await recorder(standalone, first)(events)

    async with running(first, second):
        for event in events:
            await delivery_record(standalone, subscriber, event, "delivered")

    # Each POST reached the receiver before its delivery was recorded delivered.
    assert accepted_ids(receiver, subscriber.path) == {subscriber.delivery_id(e): 1 for e in events}
    assert len(receiver.received(subscriber.path)) == len(events)


async def test_the_claim_of_a_dispatcher_that_died_expires(
    standalone: Database, receiver: Receiver, sender: SignedWebhookSender
) -> None:
    subscriber = await subscribe_to(standalone, receiver)
    event = new_alert(subscriber.tenant_id)
    dispatcher = dispatcher_on(standalone, sender)
    await RecordDeliveries(
        MongoSubscriptions(standalone),
        MongoDeliveryQueue(standalone),
        horizon=timedelta(hours=1),
        dispatch=DiedOnHandover(),
    )([event])

    async with running(dispatcher):
        await delivery_record(standalone, subscriber, event, "delivered")

    assert accepted_ids(receiver, subscriber.path) == {subscriber.delivery_id(event): 1}


class DiedOnHandover:
    """A dispatcher that claimed deliveries and died before attempting them."""

    def lease_until(self, claimed_at: datetime) -> datetime:
        return claimed_at + timedelta(milliseconds=500)

    def take(
        self, claims: Sequence[Claim], subscriptions: Sequence[Subscription], claimed_at: datetime
    ) -> None:
        assert claims

    def wake(self) -> None:
        pass  # died: nothing wakes it


def dispatcher_on(db: Database, sender: SignedWebhookSender) -> Dispatcher:
    return Dispatcher(
        MongoDeliveryQueue(db),
        MongoSubscriptions(db),
        sender,
        policy=RetryPolicy(wait=wait_fixed(0.05)),
        circuits=Circuits(failures_to_open=1000),
        concurrency=8,
        poll_interval=timedelta(milliseconds=50),
    )


def recorder(
    db: Database, dispatcher: Dispatcher, *, horizon: timedelta = timedelta(hours=1)
) -> RecordDeliveries:
    """The consumer's handler, called directly, handing over to ``dispatcher``."""
    return RecordDeliveries(
        MongoSubscriptions(db), MongoDeliveryQueue(db), horizon=horizon, dispatch=dispatcher
    )


@asynccontextmanager
async def running(*dispatchers: Dispatcher) -> AsyncIterator[None]:
    for d in dispatchers:
        await d.start()
    try:
        yield
    finally:
        for d in dispatchers:
            await d.stop()


async def test_a_poison_message_is_dead_lettered_and_the_next_alert_still_delivered(
    broker: KafkaBroker, db: Database, receiver: Receiver, settings: Settings
) -> None:
    subscriber = await subscribe_to(db, receiver)
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


async def test_each_revision_of_an_alert_arrives_once_under_its_own_webhook_id(
    broker: KafkaBroker, db: Database, receiver: Receiver
) -> None:
    subscriber = await subscribe_to(db, receiver, min_risk_level="critical")
    raised = alert_event(str(uuid.uuid4()), tenant_id=subscriber.tenant_id, risk_level="critical")
    resolved = alert_updated(raised, str(uuid.uuid4()), change="resolved", risk_level="medium")

    await publish(broker, raised, resolved, resolved)

    await delivery_record(db, subscriber, resolved, "delivered")
    assert accepted_ids(receiver, subscriber.path) == {
        subscriber.delivery_id(raised): 1,
        subscriber.delivery_id(resolved): 1,
    }
    [_, second] = receiver.received(subscriber.path)
    assert AlertUpdatedEvent.model_validate_json(second.body) == resolved


async def test_a_dead_delivery_redelivered_on_request_arrives_with_its_webhook_id(
    broker: KafkaBroker, db: Database, receiver: Receiver
) -> None:
    subscriber = await subscribe_to(db, receiver, failures=(410,))
    event = new_alert(subscriber.tenant_id)
    await publish(broker, event)
    dead = await delivery_record(db, subscriber, event, "dead")
    asked = redelivery(
        str(uuid.uuid4()), subscriber.subscription_id, tenant_id=subscriber.tenant_id
    )

    await request(broker, asked, asked)

    record = await delivery_record(db, subscriber, event, "delivered")
    assert [r.answered for r in receiver.received(subscriber.path)] == [410, 204]
    assert {r.headers["webhook-id"] for r in receiver.received(subscriber.path)} == {
        subscriber.delivery_id(event)
    }
    assert [a["status_code"] for a in record["attempt_log"]] == [410, 204]
    assert record["expires_at"] > dead["expires_at"]
    assert [r["request_id"] for r in record["redeliveries"]] == [asked.id]


async def test_a_test_send_on_request_posts_a_signed_test_event_once(
    broker: KafkaBroker, db: Database, receiver: Receiver
) -> None:
    subscriber = await subscribe_to(db, receiver)
    asked = asked_to_test(
        str(uuid.uuid4()), subscriber.subscription_id, tenant_id=subscriber.tenant_id
    )

    await request(broker, asked, asked)

    async def probe() -> dict[str, Any] | None:
        return await db[collections.DELIVERIES].find_one(
            {"_id": f"{asked.id}:{subscriber.subscription_id}", "status": "delivered"}
        )

    record = await eventually(probe)
    [received] = receiver.received(subscriber.path)
    assert received.verified
    assert received.headers["webhook-id"] == record["_id"]
    assert (record["event_type"], record["alert_id"], record["attempts"]) == (WEBHOOK_TEST, None, 1)


async def test_a_target_refused_at_delivery_is_dead_at_once_with_the_reason(
    broker: KafkaBroker, db: Database
) -> None:
    # A private address: the api would have refused it; say the name moved there since.
    subscriber = await subscribe(db, lambda path: f"http://10.255.255.1:8080{path}")
    event = new_alert(subscriber.tenant_id)

    await publish(broker, event)

    record = await delivery_record(db, subscriber, event, "dead")
    assert record["attempts"] == 1
    assert record["last_status_code"] is None
    assert "a private address" in record["last_error"]
