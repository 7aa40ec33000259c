"""How far the broker's alert log reaches: the end offset of each partition of alerts.v1.

An end offset never goes back while the broker keeps what it acknowledged. When one does (a
broker with memory storage restarted, or a log truncated by an unclean leader election), records
the broker had acknowledged are gone, and the relay re-drives what it published recently.
"""

from typing import Protocol

from aiokafka import AIOKafkaConsumer, TopicPartition

from laboursight_schemas import topics, topology


class BrokerLog(Protocol):
    async def end_offsets(self) -> dict[int, int]:
        """Partition → end offset of every partition of alerts.v1."""
        ...

    async def close(self) -> None: ...


class KafkaAlertLog:
    """Reads the end offsets with a consumer of no group, which never fetches a record."""

    def __init__(self, bootstrap_servers: str) -> None:
        self._bootstrap_servers = bootstrap_servers
        (alerts,) = [t for t in topology.TOPICS if t.name == topics.ALERTS]
        self._partitions = [TopicPartition(topics.ALERTS, p) for p in range(alerts.partitions)]
        self._consumer: AIOKafkaConsumer | None = None

    async def end_offsets(self) -> dict[int, int]:
        if self._consumer is None:
            # Made here, in the event loop that uses it: aiokafka binds to the running loop.
            consumer = AIOKafkaConsumer(
                bootstrap_servers=self._bootstrap_servers,
                # A broker that does not answer fails the read within seconds, not 40.
                request_timeout_ms=5_000,
            )
            await consumer.start()
            self._consumer = consumer
        ends = await self._consumer.end_offsets(self._partitions)
        return {tp.partition: offset for tp, offset in ends.items()}

    async def close(self) -> None:
        consumer, self._consumer = self._consumer, None
        if consumer is not None:
            await consumer.stop()
