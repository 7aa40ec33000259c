"""Where the api publishes: Kafka in production, a list in unit tests."""

from typing import Any, Protocol

from faststream.kafka import KafkaBroker

from laboursight_runtime.kafka import KafkaPublisher, Publisher
from laboursight_schemas.envelope import Envelope


class EventBus(Publisher, Protocol):
    async def ping(self) -> bool:
        """True when the broker answers."""
        ...


class KafkaBus:
    def __init__(self, broker: KafkaBroker) -> None:
        self._broker = broker
        self._publisher = KafkaPublisher(broker)

    async def publish(self, topic: str, key: str, event: Envelope[Any]) -> None:
        await self._publisher.publish(topic, key, event)

    async def ping(self) -> bool:
        return await self._broker.ping(timeout=2.0)
