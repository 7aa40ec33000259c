"""The one interface a consuming service implements: a handler of one partition's batch."""

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeAlias, TypeVar

from aiokafka import ConsumerRecord

from laboursight_schemas.envelope import Envelope

EventT = TypeVar("EventT", bound=Envelope[Any])


@dataclass(frozen=True)
class Decoded(Generic[EventT]):
    """An event and the record it was read from (topic, partition, offset, the bytes)."""

    record: "ConsumerRecord[Any, Any]"
    event: EventT


BatchHandler: TypeAlias = Callable[[Sequence[EventT]], Awaitable[None]]
"""Handles the decoded events of one partition, in offset order (never empty).

Returns only once every effect of every event is durable. Must be idempotent per event id (a batch
may be handled again, whole or in part, after a crash, a rewind or while a poison event is
isolated). Raises a transient error (``failures.is_transient``) when the infrastructure failed —
the batch is retried, then rewound — and any other error when an event cannot be handled — the
pipeline then finds the events that fail alone and dead-letters only those.
"""


RecordsHandler: TypeAlias = Callable[[Sequence[Decoded[EventT]]], Awaitable[None]]
"""A :data:`BatchHandler` that also needs each event's record: the same contract."""


def of_events(handle: BatchHandler[EventT]) -> RecordsHandler[EventT]:
    async def records(items: Sequence[Decoded[EventT]]) -> None:
        await handle([item.event for item in items])

    return records
