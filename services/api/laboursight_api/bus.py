"""Where the api publishes: Kafka in production, a list in unit tests."""

import asyncio
import logging
from collections.abc import Sequence
from typing import Any, Protocol

from faststream.kafka import KafkaBroker

from laboursight_runtime import tracing
from laboursight_schemas.envelope import CLOUDEVENTS_JSON, Envelope

from .outbox import OutboxRecord, outbox_record

log = logging.getLogger(__name__)

# The CloudEvents Kafka binding, structured mode: the same headers as
# ``laboursight_runtime.kafka.event_headers``, for events already serialised.
HEADERS = {"content-type": CLOUDEVENTS_JSON}

Outcome = BaseException | None
"""None: the broker acknowledged the record; otherwise why it did not (yet)."""


class EventBus(Protocol):
    async def send(self, records: Sequence[OutboxRecord]) -> list[Outcome]:
        """Send every record without waiting for each, then wait for the acknowledgements.

        One outcome per record, in order; a broker fault is an outcome, never raised. A record
        not acknowledged in time may still reach the broker later: consumers deduplicate on the
        event id, so publishing it again is safe.
        """
        ...

    async def ping(self) -> bool:
        """True when the broker answers."""
        ...


class KafkaBus:
    """``started``: the broker is connected already; otherwise ``connect`` connects it."""

    def __init__(
        self, broker: KafkaBroker, *, timeout_s: float = 5.0, started: bool = True
    ) -> None:
        self._broker = broker
        self._timeout_s = timeout_s
        self._connected = asyncio.Event()
        if started:
            self._connected.set()

    async def connect(self, retry_s: float = 1.0) -> None:
        """Start the broker connection, retrying until it succeeds: the api accepts
        disclosures while Kafka is away, and the relay publishes them once it is back."""
        while True:
            try:
                await self._broker.start()
            except Exception as error:
                log.warning("kafka unreachable, retrying", extra={"error": repr(error)})
                await asyncio.sleep(retry_s)
                continue
            self._connected.set()
            return

    async def send(self, records: Sequence[OutboxRecord]) -> list[Outcome]:
        if not self._connected.is_set():
            # Just started, or Kafka was away at the start: worth a wait, not a failure yet.
            try:
                async with asyncio.timeout(self._timeout_s):
                    await self._connected.wait()
            except TimeoutError as error:
                return [error for _ in records]
        pending: list[asyncio.Future[Any] | Outcome] = []
        for record in records:
            try:
                # In the trace the record was stored with, however late it is sent.
                with tracing.resumed(record.trace):
                    pending.append(
                        await self._broker.publish(
                            record.value,
                            record.topic,
                            key=record.key.encode(),
                            headers=HEADERS,
                            correlation_id=record.disclosure_id,
                            no_confirm=True,
                        )
                    )
            except Exception as error:  # not connected, or the producer refused it at once
                pending.append(error)
        futures = [p for p in pending if isinstance(p, asyncio.Future)]
        if futures:
            await asyncio.wait(futures, timeout=self._timeout_s)
        return [_outcome(p) for p in pending]

    async def publish(self, topic: str, key: str, event: Envelope[Any]) -> None:
        """One event, raising when the broker did not acknowledge it."""
        [outcome] = await self.send([outbox_record(topic, key, event)])
        if outcome is not None:
            raise outcome

    async def ping(self) -> bool:
        if not self._connected.is_set():
            return False
        return await self._broker.ping(timeout=2.0)


def _outcome(sent: "asyncio.Future[Any] | Outcome") -> Outcome:
    if not isinstance(sent, asyncio.Future):
        return sent
    if not sent.done():
        # Still in the producer: whatever becomes of it is not this caller's answer.
        sent.add_done_callback(_retrieve)
        return TimeoutError("the broker did not acknowledge in time")
    return _retrieve(sent)


def _retrieve(future: "asyncio.Future[Any]") -> Outcome:
    if future.cancelled():
        return asyncio.CancelledError()
    return future.exception()
