"""The dead-letter path: a message that can never succeed goes to ``<topic>.dlq`` with its error."""

import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from aiokafka import ConsumerRecord
from faststream.kafka import KafkaBroker

from laboursight_schemas.topics import dead_letter_topic

from .kafka import await_all

MAX_ERROR_CHARS = 2_000
# Where a dead letter came from; the dead-letter guard reads them back (pipeline/history.py).
SOURCE_PARTITION = "dlq.source.partition"
SOURCE_OFFSET = "dlq.source.offset"
CONSUMER_GROUP = "dlq.consumer_group"


@dataclass(frozen=True)
class DeadLetter:
    """A record that can never succeed, why, and at which step (``decode`` or ``handle``)."""

    record: "ConsumerRecord[Any, Any]"
    error: BaseException
    stage: str


class DeadLetterSink(Protocol):
    async def send_all(self, letters: Sequence[DeadLetter]) -> None:
        """Return only once every dead letter is durable; raise otherwise (some may be)."""


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
            SOURCE_PARTITION: str(record.partition),
            SOURCE_OFFSET: str(record.offset),
            CONSUMER_GROUP: group_id,
            "dlq.time": datetime.now(UTC).isoformat(),
        }
    )
    return headers


class KafkaDeadLetters:
    """Publishes the original bytes and key unchanged, so a fixed consumer can replay them."""

    def __init__(self, broker: KafkaBroker, group_id: str) -> None:
        self._broker = broker
        self._group_id = group_id

    async def send_all(self, letters: Sequence[DeadLetter]) -> None:
        """Sends them all, then waits for every acknowledgement."""
        sends = [
            await self._broker.publish(
                letter.record.value or b"",
                dead_letter_topic(letter.record.topic),
                key=letter.record.key,
                headers=error_headers(letter.record, letter.error, letter.stage, self._group_id),
                no_confirm=True,
            )
            for letter in letters
        ]
        await await_all(sends)
