"""The wired service on FastStream's in-memory broker, with fakes behind the ports."""

from faststream.kafka import KafkaBroker, KafkaMessage, TestKafkaBroker

from laboursight_notify.main import bootstrap
from laboursight_runtime.kafka import KafkaPublisher
from laboursight_runtime.settings import Settings
from laboursight_schemas import topics

from .fakes import FakeSender, InMemoryDeliveryLog, InMemorySubscriptions, alert_event, subscription


def wired() -> tuple[KafkaBroker, FakeSender]:
    subscriptions = InMemorySubscriptions()
    subscriptions.add(subscription("sub-1"))
    sender = FakeSender()
    app = bootstrap(
        Settings(),
        subscriptions=subscriptions,
        deliveries=InMemoryDeliveryLog(),
        sender=sender,
    )
    assert isinstance(app.broker, KafkaBroker)
    return app.broker, sender


async def test_an_alert_on_the_topic_is_delivered_once() -> None:
    broker, sender = wired()
    event = alert_event()

    async with TestKafkaBroker(broker):
        await KafkaPublisher(broker).publish(topics.ALERTS, event.data.entity_id, event)

    assert [s.message_id for s in sender.sent] == ["evt-1:sub-1"]


async def test_a_poison_message_ends_in_the_dead_letter_topic() -> None:
    broker, sender = wired()
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
    assert sender.sent == []
