"""The wired service on FastStream's in-memory broker, with fakes behind the ports."""

from faststream.kafka import KafkaBroker, KafkaMessage, TestKafkaBroker

from laboursight_notify.main import bootstrap
from laboursight_notify.settings import NotifySettings
from laboursight_runtime.kafka import KafkaPublisher
from laboursight_runtime.settings import Settings
from laboursight_schemas import topics

from .fakes import (
    FakeSender,
    InMemoryDeliveryQueue,
    InMemorySubscriptions,
    alert_event,
    alert_updated,
    asked_to_test,
    eventually,
    owed,
    redelivery,
    subscription,
)


def wired() -> tuple[KafkaBroker, InMemoryDeliveryQueue, FakeSender]:
    subscriptions = InMemorySubscriptions()
    subscriptions.add(subscription("sub-1"))
    queue = InMemoryDeliveryQueue()
    sender = FakeSender()
    app = bootstrap(
        Settings(), NotifySettings(), subscriptions=subscriptions, deliveries=queue, sender=sender
    )
    assert isinstance(app.broker, KafkaBroker)
    return app.broker, queue, sender


async def test_an_alert_on_the_topic_is_recorded_owed_and_sent_without_the_consumer() -> None:
    broker, queue, sender = wired()
    event = alert_event()
    held = sender.hold(subscription("sub-1").url)

    async with TestKafkaBroker(broker):
        await KafkaPublisher(broker).publish(topics.ALERTS, event.data.entity_id, event)

        # The consumer is done while its webhook is still unanswered: the dispatcher sends it.
        assert queue.status("evt-1:sub-1") == "pending"
        assert sender.answered == []
        held.set()
        await eventually(lambda: queue.status("evt-1:sub-1") == "delivered")

    assert [s.message_id for s in sender.answered] == ["evt-1:sub-1"]


async def test_a_poison_message_ends_in_the_dead_letter_topic() -> None:
    broker, queue, _ = wired()
    dead: list[KafkaMessage] = []

    @broker.subscriber(topics.dead_letter_topic(topics.ALERTS))
    async def on_dead_letter(message: KafkaMessage) -> None:
        dead.append(message)

    async with TestKafkaBroker(broker):
        await broker.publish(b"{not json", topics.ALERTS, key=b"supplier-1")

    [letter] = dead
    assert letter.body == b"{not json"
    assert letter.headers["dlq.stage"] == "decode"
    assert letter.headers["dlq.error.type"] == "UnreadableEvent"
    assert queue.rows == {}


async def test_a_revision_on_the_topic_is_delivered_as_a_delivery_of_its_own() -> None:
    broker, queue, sender = wired()
    raised = alert_event()
    updated = alert_updated(raised, "evt-2")

    async with TestKafkaBroker(broker):
        for event in (raised, updated):
            await KafkaPublisher(broker).publish(topics.ALERTS, event.data.entity_id, event)
        await eventually(lambda: queue.status("evt-2:sub-1") == "delivered")

    assert [s.message_id for s in sender.answered] == ["evt-1:sub-1", "evt-2:sub-1"]


async def test_the_apis_requests_on_their_topic_are_carried_out() -> None:
    broker, queue, sender = wired()
    await queue.add([owed("evt-1", subscription("sub-1"))])
    queue.rows["evt-1:sub-1"].status = "dead"

    async with TestKafkaBroker(broker):
        for event in (redelivery("req-1"), asked_to_test("req-2")):
            await KafkaPublisher(broker).publish(topics.DELIVERY_REQUESTS, "sub-1", event)
        # The test-send is handed over; the redelivery waits in the queue for the claim loop,
        # which runs with the app, not here.
        await eventually(lambda: queue.status("req-2:sub-1") == "delivered")

    assert queue.status("evt-1:sub-1") == "pending"
    assert [s.message_id for s in sender.answered] == ["req-2:sub-1"]
