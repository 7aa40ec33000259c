"""Consuming one message: decode, act, then acknowledge — or dead-letter, or retry.

Guarantees, per message and in partition order:

- The offset is committed only after the handler returned, i.e. after its effect is durable.
  A crash before that means a redelivery, so every handler must be idempotent on the event id.
- Decoding is tolerant: unknown fields are ignored and older versions upcast
  (``laboursight_schemas.upcasting``). A message that cannot be decoded even so, or whose handler raised an error that is not transient, is
  published to ``<topic>.dlq`` with the error and then committed: a poison message neither blocks
  its partition nor crash-loops the consumer.
- A transient failure (database or broker unreachable) is retried with backoff; when the retry
  budget is spent the message is rewound and fetched again. It is never dropped.
- More than ``max_consecutive_dead_letters`` in a row means the fault is ours, not the messages':
  the consumer halts (``on_halt``) rather than dead-letter the whole stream.
"""

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

from aiokafka import ConsumerRecord
from faststream.kafka import KafkaMessage
from tenacity import AsyncRetrying, retry_if_exception, stop_after_delay, wait_exponential

from laboursight_schemas.envelope import Envelope
from laboursight_schemas.upcasting import read_event

from . import logs
from .dead_letters import DeadLetterSink
from .failures import is_transient
from .metrics import HANDLE_SECONDS, MESSAGES

EventT = TypeVar("EventT", bound=Envelope[Any])

log = logging.getLogger(__name__)


def _record(message: KafkaMessage) -> "ConsumerRecord[Any, Any]":
    record = message.raw_message
    if isinstance(record, tuple):
        raise TypeError("EventConsumer takes one message at a time, not a batch")
    return record


class EventConsumer(Generic[EventT]):
    def __init__(
        self,
        *,
        event_type: type[EventT],
        handle: Callable[[EventT], Awaitable[None]],
        dead_letters: DeadLetterSink,
        on_halt: Callable[[str], None],
        retry_budget_s: float = 60.0,
        max_consecutive_dead_letters: int = 100,
    ) -> None:
        self._event_type = event_type
        self._handle = handle
        self._dead_letters = dead_letters
        self._on_halt = on_halt
        self._retry_budget_s = retry_budget_s
        self._max_consecutive = max_consecutive_dead_letters
        self._consecutive = 0
        self.halted: str | None = None

    async def __call__(self, message: KafkaMessage) -> None:
        record = _record(message)
        started = time.perf_counter()
        if self.halted:
            await message.nack()
            return
        try:
            outcome = await self._consume(message)
        except BaseException:
            # Whatever escaped (a failed dead-letter publish, cancellation) must not let a later
            # commit skip this message.
            await message.nack()
            raise
        if outcome == "retry":
            await message.nack()
        else:
            await message.ack()
        MESSAGES.labels(record.topic, outcome).inc()
        HANDLE_SECONDS.labels(record.topic).observe(time.perf_counter() - started)

    async def _consume(self, message: KafkaMessage) -> str:
        try:
            event = read_event(message.body, self._event_type)
        except ValueError as error:
            return await self._dead_letter(message, error, "decode")
        token = logs.correlation_id.set(event.correlation_id)
        try:
            await self._with_retries(event)
        except Exception as error:
            if is_transient(error):
                log.warning("transient failure, message rewound", extra={"error": repr(error)})
                return "retry"
            return await self._dead_letter(message, error, "handle")
        finally:
            logs.correlation_id.reset(token)
        self._consecutive = 0
        return "processed"

    async def _with_retries(self, event: EventT) -> None:
        async for attempt in AsyncRetrying(
            retry=retry_if_exception(is_transient),
            wait=wait_exponential(multiplier=0.2, max=5.0),
            stop=stop_after_delay(self._retry_budget_s),
            reraise=True,
        ):
            with attempt:
                await self._handle(event)

    async def _dead_letter(self, message: KafkaMessage, error: Exception, stage: str) -> str:
        record = _record(message)
        self._consecutive += 1
        if self._consecutive > self._max_consecutive:
            self.halted = (
                f"{self._consecutive} consecutive messages failed on {record.topic}; "
                f"last error: {error!r}"
            )
            log.critical("consumer halted", extra={"reason": self.halted})
            self._on_halt(self.halted)
            return "retry"
        await self._dead_letters.send(record, error, stage)
        log.error(
            "message dead-lettered",
            extra={
                "topic": record.topic,
                "partition": record.partition,
                "offset": record.offset,
                "stage": stage,
                "error": repr(error),
            },
        )
        return "dead_lettered"
