"""The one interface a consuming service implements: a handler of one partition's batch."""

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeAlias, TypeVar

from laboursight_schemas.envelope import Envelope

EventT = TypeVar("EventT", bound=Envelope[Any])

BatchHandler: TypeAlias = Callable[[Sequence[EventT]], Awaitable[None]]
"""Handles the decoded events of one partition, in offset order (never empty).

Returns only once every effect of every event is durable. Must be idempotent per event id (a batch
may be handled again, whole or in part, after a crash, a rewind or while a poison event is
isolated). Raises a transient error (``failures.is_transient``) when the infrastructure failed —
the batch is retried, then rewound — and any other error when an event cannot be handled — the
pipeline then finds the events that fail alone and dead-letters only those.
"""
