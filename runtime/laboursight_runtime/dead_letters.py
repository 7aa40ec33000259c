"""The dead-letter path: a message that can never succeed goes to ``<topic>.dlq`` with its error."""

import traceback
from datetime import UTC, datetime
from typing import Any, Protocol

from aiokafka import ConsumerRecord
from faststream.kafka import KafkaBroker

from laboursight_schemas.topics import dead_letter_topic

MAX_ERROR_CHARS = 2_000


class DeadLetterSink(Protocol):
    async def send(
        self, record: "ConsumerRecord[Any, Any]", error: BaseException, stage: str
    ) -> None:
        """Return only once the dead letter is durable; raise otherwise."""


def error_headers(
    record: "ConsumerRecord[Any, Any]", error: BaseException, stage: str, group_id: str
) -> dict[str, str]:
    """The original headers, plus where the message came from and why it failed."""
    headers = {name: value.decode(errors="replace") for name, value in record.headers or ()}
    detail = "".join(traceback.format_exception_only(error)).strip()
    headers.update(
        {
            "dlq.error.type": type(error).__qualname__,
            "dlq.error.message": detail[:MAX_ERROR_CHARS],
            "dlq.stage": stage,
            "dlq.source.topic": record.topic,
            "dlq.source.partition": str(record.partition),
            "dlq.source.offset": str(record.offset),
            "dlq.consumer_group": group_id,
            "dlq.time": datetime.now(UTC).isoformat(),
        }
    )
    return headers


class KafkaDeadLetters:
    """Publishes the original bytes and key unchanged, so a fixed consumer can replay them."""

    def __init__(self, broker: KafkaBroker, group_id: str) -> None:
        self._broker = broker
        self._group_id = group_id

    async def send(
        self, record: "ConsumerRecord[Any, Any]", error: BaseException, stage: str
    ) -> None:
        await self._broker.publish(
            record.value or b"",
            dead_letter_topic(record.topic),
            key=record.key,
            headers=error_headers(record, error, stage, self._group_id),
        )
