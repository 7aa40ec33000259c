"""Kafka wiring: one broker factory and one set of consumer options for every service."""

import asyncio
import logging
from collections.abc import Sequence
from typing import Any, Protocol

from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware
from pydantic import BaseModel

from laboursight_schemas.envelope import CLOUDEVENTS_JSON, Envelope

from . import tracing
from .settings import Settings

# publish_batch fails at ~120 records with the 16 KiB default (INFRA-NOTES.md).
MAX_BATCH_BYTES = 1024 * 1024


def make_broker(settings: Settings, *, client_id: str, **options: Any) -> KafkaBroker:
    """A broker whose publishes return only once every in-sync replica has the record; with
    tracing on, FastStream's telemetry spans every publish and fetched batch and carries the
    trace context in Kafka headers (``traceparent``)."""
    provider = tracing.provider()
    if provider is not None:
        # FastStream's own metrics stay off: Prometheus has ours (``metrics``).
        options["middlewares"] = (
            KafkaTelemetryMiddleware(tracer_provider=provider, include_messages_counters=False),
        )
    return KafkaBroker(
        settings.kafka_bootstrap_servers,
        client_id=client_id,
        acks="all",
        enable_idempotence=settings.kafka_idempotent_producer,
        max_batch_size=MAX_BATCH_BYTES,
        # FastStream logs every message at INFO otherwise; our consumers log what matters.
        logger=logging.getLogger(f"faststream.{client_id}"),
        log_level=logging.DEBUG,
        **options,
    )


def consumer_options(settings: Settings, *, group_id: str) -> dict[str, Any]:
    """Subscriber options: manual acknowledgement, so offsets move only after the effect is durable."""
    return {
        "group_id": group_id,
        "auto_offset_reset": "earliest",
        "ack_policy": AckPolicy.MANUAL,
        "fetch_max_wait_ms": settings.kafka_fetch_max_wait_ms,
        "session_timeout_ms": settings.kafka_session_timeout_ms,
        "heartbeat_interval_ms": settings.kafka_heartbeat_interval_ms,
    }


class Publisher(Protocol):
    """Where a handler sends its events; returns once the broker has acknowledged."""

    async def publish(self, topic: str, key: str, event: Envelope[Any]) -> None: ...


Outgoing = tuple[str, str, Envelope[Any]]
"""One record to publish: (topic, key, event)."""


class BatchPublisher(Publisher, Protocol):
    """A publisher that can also send many records and wait for them together."""

    async def publish_all(self, items: Sequence[Outgoing]) -> None:
        """Send every record without waiting for each acknowledgement, then wait for them all.

        Returns once the broker acknowledged every record; raises the first failure (in the
        order of ``items``) if any record failed, after every send has finished, so nothing is
        left in flight. Records of one key keep their order (same partition, one producer).
        """
        ...


class KafkaPublisher:
    """Each record is published within the trace its event carries (``tracing.resumed``)."""

    def __init__(self, broker: KafkaBroker) -> None:
        self._broker = broker

    async def publish(self, topic: str, key: str, event: Envelope[Any]) -> None:
        await self._send(topic, key, event, no_confirm=False)

    async def publish_all(self, items: Sequence[Outgoing]) -> None:
        await await_all([await self._send(t, k, e, no_confirm=True) for t, k, e in items])

    async def _send(self, topic: str, key: str, event: Envelope[Any], *, no_confirm: bool) -> Any:
        """What the broker returns for ``event``: with ``no_confirm`` its acknowledgement still
        pending (None from FastStream's test broker), else once it is acknowledged."""
        with tracing.resumed(tracing.of_event(event)):
            return await self._broker.publish(
                encode(event),
                topic,
                key=key.encode(),
                headers=event_headers(event),
                correlation_id=event.correlation_id,
                no_confirm=no_confirm,
            )


async def await_all(sends: Sequence["asyncio.Future[Any] | None"]) -> None:
    """Wait for every send; then raise the first failure, if any.

    ``None`` stands for a send that was already confirmed (FastStream's in-memory test broker
    delivers at once and returns nothing).
    """
    outcomes = await asyncio.gather(*(s for s in sends if s is not None), return_exceptions=True)
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome


def encode(event: BaseModel) -> bytes:
    return event.model_dump_json().encode()


def event_headers(event: Envelope[Any]) -> dict[str, str]:
    """The CloudEvents Kafka protocol binding, structured content mode: the whole event is the
    record value in the JSON event format, and ``content-type`` names that format. No ``ce_``
    headers: in structured mode they would be a second, unchecked copy of the attributes.
    """
    return {"content-type": CLOUDEVENTS_JSON}
