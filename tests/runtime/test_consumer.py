"""The consumer pipeline's guarantees: ack after the effect, dead letters for poison, retries for
transient failures, and a halt when everything fails."""

import asyncio
import uuid
from typing import Any, cast

import pytest
from aiokafka import ConsumerRecord
from faststream.kafka import KafkaMessage
from pymongo.errors import AutoReconnect

from laboursight_runtime.consumer import EventConsumer
from laboursight_runtime.kafka import encode, make_broker
from laboursight_runtime.service import subscribe
from laboursight_runtime.settings import Settings
from laboursight_schemas import topics
from laboursight_schemas.envelope import SupplierDisclosureEvent
from tests.factories import CLEAN_SUPPLIER, supplier_event


class FakeMessage:
    def __init__(self, body: bytes) -> None:
        self.body = body
        self.raw_message = ConsumerRecord(
            topic="t",
            partition=0,
            offset=7,
            timestamp=0,
            timestamp_type=0,
            key=b"k",
            value=body,
            checksum=None,
            serialized_key_size=1,
            serialized_value_size=len(body),
            headers=(),
        )
        self.outcome: str | None = None

    async def ack(self) -> None:
        self.outcome = "ack"

    async def nack(self) -> None:
        self.outcome = "nack"


class FakeDeadLetters:
    def __init__(self) -> None:
        self.sent: list[tuple[bytes, str, str]] = []

    async def send(
        self, record: "ConsumerRecord[Any, Any]", error: BaseException, stage: str
    ) -> None:
        self.sent.append((record.value, type(error).__name__, stage))


class Handler:
    """Fails ``transient`` times with a connection error, or always with ``error``."""

    def __init__(self, transient: int = 0, error: Exception | None = None) -> None:
        self.transient = transient
        self.error = error
        self.handled: list[str] = []

    async def __call__(self, event: Any) -> None:
        if self.transient:
            self.transient -= 1
            raise AutoReconnect("mongod unreachable")
        if self.error:
            raise self.error
        self.handled.append(event.id)


def consumer(handler: Handler, dead: FakeDeadLetters, **options: Any) -> EventConsumer[Any]:
    halts: list[str] = []
    return EventConsumer(
        event_type=SupplierDisclosureEvent,
        handle=handler,
        dead_letters=dead,
        on_halt=halts.append,
        **options,
    )


async def deliver(pipeline: EventConsumer[Any], body: bytes) -> FakeMessage:
    message = FakeMessage(body)
    await pipeline(cast(KafkaMessage, message))
    return message


GOOD = encode(supplier_event(CLEAN_SUPPLIER))


async def test_acknowledged_only_after_the_handler_succeeded() -> None:
    handler, dead = Handler(), FakeDeadLetters()
    message = await deliver(consumer(handler, dead), GOOD)
    assert message.outcome == "ack"
    assert len(handler.handled) == 1
    assert dead.sent == []


async def test_undecodable_message_is_dead_lettered_then_acknowledged() -> None:
    handler, dead = Handler(), FakeDeadLetters()
    message = await deliver(consumer(handler, dead), b'{"not": "an event"}')
    assert message.outcome == "ack"
    assert dead.sent == [(b'{"not": "an event"}', "UnreadableEvent", "decode")]
    assert handler.handled == []


async def test_a_bug_in_the_handler_dead_letters_the_message() -> None:
    dead = FakeDeadLetters()
    message = await deliver(consumer(Handler(error=KeyError("boom")), dead), GOOD)
    assert message.outcome == "ack"
    assert dead.sent == [(GOOD, "KeyError", "handle")]


async def test_transient_failure_is_retried_in_place() -> None:
    handler, dead = Handler(transient=2), FakeDeadLetters()
    message = await deliver(consumer(handler, dead), GOOD)
    assert message.outcome == "ack"
    assert len(handler.handled) == 1
    assert dead.sent == []


async def test_transient_failure_past_the_budget_rewinds_never_drops() -> None:
    handler, dead = Handler(transient=1000), FakeDeadLetters()
    message = await deliver(consumer(handler, dead, retry_budget_s=0.3), GOOD)
    assert message.outcome == "nack"
    assert dead.sent == []


async def test_failed_dead_letter_publish_rewinds_the_message() -> None:
    class BrokenDeadLetters(FakeDeadLetters):
        async def send(self, record: Any, error: BaseException, stage: str) -> None:
            raise ConnectionError("broker down")

    message = FakeMessage(b"garbage")
    with pytest.raises(ConnectionError):
        await consumer(Handler(), BrokenDeadLetters())(cast(KafkaMessage, message))
    assert message.outcome == "nack"


async def test_a_run_of_dead_letters_halts_the_consumer() -> None:
    dead = FakeDeadLetters()
    pipeline = consumer(Handler(), dead, max_consecutive_dead_letters=3)
    outcomes = [(await deliver(pipeline, b"garbage")).outcome for _ in range(5)]
    assert outcomes == ["ack", "ack", "ack", "nack", "nack"]
    assert len(dead.sent) == 3
    assert pipeline.halted is not None


async def test_a_success_resets_the_run() -> None:
    dead = FakeDeadLetters()
    pipeline = consumer(Handler(), dead, max_consecutive_dead_letters=2)
    for body in (b"x", b"x", GOOD, b"x", b"x"):
        await deliver(pipeline, body)
    assert pipeline.halted is None


@pytest.mark.integration
async def test_real_broker_redelivers_a_rewound_message(infra: Any) -> None:
    """Past its retry budget the message is rewound and fetched again, then processed once."""
    settings = Settings(**{k.lower(): v for k, v in infra.environment().items()})
    broker = make_broker(settings, client_id="test-rewind")
    attempts: list[str] = []
    handled = asyncio.Event()
    event = supplier_event(CLEAN_SUPPLIER)

    async def flaky(received: Any) -> None:
        if received.id != event.id:
            return
        attempts.append(received.id)
        if len(attempts) < 3:
            raise AutoReconnect("mongod unreachable")
        handled.set()

    subscribe(
        broker,
        settings,
        topics.SUPPLIER_DISCLOSURES,
        group_id=f"rewind-{uuid.uuid4().hex[:8]}",
        event_type=SupplierDisclosureEvent,
        handle=flaky,
        retry_budget_s=0.0,  # no in-place retry: every failure rewinds to the broker
    )
    async with broker:
        await broker.start()
        await broker.publish(encode(event), topics.SUPPLIER_DISCLOSURES, key=b"SUP-001")
        async with asyncio.timeout(30):
            await handled.wait()
    assert attempts == [event.id] * 3
