"""Produce-all-then-await: every record is sent before any acknowledgement is awaited, and a
failure is raised only once nothing is in flight."""

import asyncio
import json
import uuid
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer
from faststream.kafka import KafkaBroker, TestKafkaBroker
from faststream.kafka.annotations import KafkaMessage

from laboursight_runtime.kafka import KafkaPublisher, await_all, make_broker
from laboursight_runtime.settings import Settings
from tests.runtime.fakes import event


async def test_await_all_waits_for_every_send_then_raises_the_first_failure() -> None:
    loop = asyncio.get_running_loop()
    first, failing, last = loop.create_future(), loop.create_future(), loop.create_future()
    waiting = asyncio.create_task(await_all([first, failing, None, last]))
    failing.set_exception(ConnectionError("broker down"))
    first.set_result("ok")
    await asyncio.sleep(0)
    assert not waiting.done()  # ``last`` is still in flight
    last.set_result("ok")
    with pytest.raises(ConnectionError, match="broker down"):
        await waiting


async def test_publish_all_sends_every_record_with_its_key() -> None:
    broker = make_broker(
        Settings(kafka_bootstrap_servers="in-memory", kafka_idempotent_producer=False),
        client_id="test-publish-all",
    )
    seen: list[tuple[bytes | None, str]] = []

    @broker.subscriber("out", group_id="check")
    async def collect(message: KafkaMessage) -> None:
        record = message.raw_message
        assert not isinstance(record, tuple)
        seen.append((record.key, message.body.decode()))

    events = [event(f"e-{n}") for n in range(5)]
    async with TestKafkaBroker(broker) as live:
        await KafkaPublisher(live).publish_all(
            [("out", f"K-{n % 2}", e) for n, e in enumerate(events)]
        )
    assert [key for key, _ in seen] == [b"K-0", b"K-1", b"K-0", b"K-1", b"K-0"]
    assert all(e.id in body for e, (_, body) in zip(events, seen, strict=True))


@pytest.mark.integration
async def test_publish_all_on_the_real_broker_keeps_each_keys_order(infra: Any) -> None:
    settings = Settings(**{k.lower(): v for k, v in infra.environment().items()})
    broker: KafkaBroker = make_broker(settings, client_id="test-publish-all")
    topic = f"publish-all-{uuid.uuid4().hex[:8]}"
    events = [event(f"e-{n}") for n in range(2_000)]
    async with broker:
        await broker.start()
        publisher = KafkaPublisher(broker)
        await publisher.publish_all([(topic, f"K-{n % 7}", e) for n, e in enumerate(events)])
    # Read back with a plain consumer: everything acknowledged is there, per key in order.
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=settings.kafka_bootstrap_servers,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    found: dict[bytes, list[str]] = {}
    try:
        async with asyncio.timeout(30):
            while sum(map(len, found.values())) < len(events):
                for batch in (await consumer.getmany(timeout_ms=500)).values():
                    for record in batch:
                        found.setdefault(record.key, []).append(json.loads(record.value)["id"])
    finally:
        await consumer.stop()
    for k in range(7):
        assert found[f"K-{k}".encode()] == [f"e-{n}" for n in range(k, 2_000, 7)]
