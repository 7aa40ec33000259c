"""The pipeline on the real broker: offsets committed only after the effect, a poison event
isolated inside a batch, a transient failure retried then rewound (its records lag meanwhile),
the dead-letter guard halting with a state that survives a restart, each partition in order, and
readiness that fails with the writes."""

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import UnknownError
from faststream.kafka import KafkaBroker
from prometheus_client import REGISTRY

from laboursight_runtime.kafka import KafkaPublisher, encode, make_broker
from laboursight_runtime.pipeline import BatchSubscription, subscribe_batch
from laboursight_runtime.pipeline.guard import GuardLimits
from laboursight_runtime.pipeline.resets import Fingerprint, LogResets
from laboursight_runtime.service import consumer_app
from laboursight_runtime.settings import Settings
from laboursight_schemas.envelope import SupplierDisclosureEvent
from laboursight_schemas.topics import dead_letter_topic
from tests.own_broker import OwnBroker
from tests.runtime.fakes import event

pytestmark = pytest.mark.integration

WAIT_S = 60
T = TypeVar("T")


@pytest.fixture
def settings(infra: Any) -> Settings:
    return Settings(**{k.lower(): v for k, v in infra.environment().items()})


async def new_topic(settings: Settings, partitions: int, name: str | None = None) -> str:
    """A topic of its own for one test, with its dead-letter topic."""
    name = name or f"pipeline-{uuid.uuid4().hex[:10]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    await admin.start()
    try:
        await admin.create_topics(
            [NewTopic(name, partitions, 1), NewTopic(dead_letter_topic(name), 1, 1)]
        )
    finally:
        await admin.close()
    return name


async def produce(settings: Settings, topic: str, items: Sequence[tuple[str, bytes]]) -> None:
    """(key, value) records, acknowledged, in order."""
    broker = make_broker(settings, client_id="test-producer")
    async with broker:
        await broker.start()
        for key, value in items:
            await broker.publish(value, topic, key=key.encode())


@asynccontextmanager
async def consuming(
    settings: Settings,
    topic: str,
    group: str,
    handle: Callable[[Sequence[SupplierDisclosureEvent]], Awaitable[None]],
    **options: Any,
) -> AsyncIterator[tuple[BatchSubscription[SupplierDisclosureEvent], KafkaBroker]]:
    broker = make_broker(settings, client_id="test-pipeline")
    subscription = subscribe_batch(
        broker,
        settings,
        topic,
        group_id=group,
        event_type=SupplierDisclosureEvent,
        handle=handle,
        **options,
    )
    async with broker:
        await broker.start()
        yield subscription, broker


async def eventually(probe: Callable[[], Awaitable[T | None]]) -> T:
    deadline = asyncio.get_running_loop().time() + WAIT_S
    while (found := await probe()) is None:
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)
    return found


async def until(condition: Callable[[], bool]) -> None:
    async def probe() -> bool | None:
        return condition() or None

    await eventually(probe)


async def committed(settings: Settings, group: str, topic: str, partition: int) -> int | None:
    # A consumer of the group that never subscribes reads the group's offsets without joining.
    reader = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap_servers, group_id=group)
    await reader.start()
    try:
        offset: int | None = await reader.committed(TopicPartition(topic, partition))
        return offset
    finally:
        await reader.stop()


async def dead_letters(settings: Settings, topic: str) -> list["ConsumerRecord[bytes, bytes]"]:
    return await everything(settings, dead_letter_topic(topic))


async def everything(settings: Settings, topic: str) -> list["ConsumerRecord[bytes, bytes]"]:
    """Every record in ``topic`` now (read until a fetch finds nothing: tansu's end offset falls
    short of a multi-record batch)."""
    reader = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers, fetch_max_wait_ms=100
    )
    await reader.start()
    try:
        await reader.topics()
        parts = [TopicPartition(topic, p) for p in reader.partitions_for_topic(topic) or ()]
        reader.assign(parts)
        await reader.seek_to_beginning(*parts)
        found: list[ConsumerRecord[bytes, bytes]] = []
        async with asyncio.timeout(WAIT_S):
            while fetched := await reader.getmany(timeout_ms=1_000):
                found += [r for batch in fetched.values() for r in batch]
        return found
    finally:
        await reader.stop()


def group_name() -> str:
    return f"g-{uuid.uuid4().hex[:8]}"


class Recorder:
    """A batch handler whose effect is the ids it was given, in the order it returns them."""

    def __init__(self) -> None:
        self.handled: list[str] = []
        self.batch_sizes: list[int] = []

    async def __call__(self, events: Sequence[SupplierDisclosureEvent]) -> None:
        self.batch_sizes.append(len(events))
        self.handled += [e.id for e in events]


async def test_offsets_move_only_after_the_effect_and_each_partition_keeps_its_order(
    settings: Settings,
) -> None:
    topic, group = await new_topic(settings, 3), group_name()
    sent = [(f"SUP-{n % 9}", event(f"e-{n:03}")) for n in range(300)]
    await produce(settings, topic, [(key, encode(e)) for key, e in sent])
    gate = asyncio.Event()
    blocked: list[str] = []
    effects = Recorder()

    async def handle(events: Sequence[SupplierDisclosureEvent]) -> None:
        if any(e.id == "gate" for e in events):
            blocked.append("gate")
            await gate.wait()
        await effects(events)

    async with consuming(settings, topic, group, handle):
        await until(lambda: len(effects.handled) == 300)
        # One more record, held inside the handler: its offset must not be committed yet.
        await produce(settings, topic, [("SUP-0", encode(event("gate")))])
        await until(lambda: blocked == ["gate"])
        partitions = {p: await committed(settings, group, topic, p) for p in range(3)}
        gate.set()
        await until(lambda: "gate" in effects.handled)
        await asyncio.sleep(0.5)
        after = {p: await committed(settings, group, topic, p) for p in range(3)}

    [moved] = [p for p in range(3) if after[p] != partitions[p]]
    assert after[moved] == (partitions[moved] or 0) + 1
    assert sum(offset or 0 for offset in after.values()) == 301
    for key in {key for key, _ in sent}:
        ids = [e.id for k, e in sent if k == key]
        assert [i for i in effects.handled if i in ids] == ids, key


async def test_a_poison_event_in_a_batch_is_the_only_dead_letter(settings: Settings) -> None:
    topic, group = await new_topic(settings, 1), group_name()
    events = [event(f"e-{n:02}") for n in range(30)]
    await produce(settings, topic, [("SUP-1", encode(e)) for e in events])
    effects = Recorder()

    async def handle(batch: Sequence[SupplierDisclosureEvent]) -> None:
        if any(e.id == "e-13" for e in batch):
            raise OverflowError("MongoDB can only handle up to 8-byte ints")
        await effects(batch)

    async with consuming(settings, topic, group, handle):
        await until(lambda: len(effects.handled) == 29)
        letters = await until_dead_letters(settings, topic, 1)
    assert effects.handled == [e.id for e in events if e.id != "e-13"]
    assert max(effects.batch_sizes) > 1  # handled in batches, not one at a time
    [letter] = letters
    headers = {name: value.decode() for name, value in letter.headers}
    assert json.loads(letter.value)["id"] == "e-13"
    assert headers["dlq.stage"] == "handle"
    assert headers["dlq.error.type"] == "OverflowError"
    assert (headers["dlq.source.offset"], headers["dlq.consumer_group"]) == ("13", group)
    await until_committed(settings, group, topic, 30)


async def until_dead_letters(
    settings: Settings, topic: str, count: int
) -> list["ConsumerRecord[bytes, bytes]"]:
    async def probe() -> list["ConsumerRecord[bytes, bytes]"] | None:
        letters = await dead_letters(settings, topic)
        return letters if len(letters) >= count else None

    return await eventually(probe)


async def until_committed(settings: Settings, group: str, topic: str, offset: int) -> None:
    async def probe() -> bool | None:
        return await committed(settings, group, topic, 0) == offset or None

    await eventually(probe)


async def test_a_transient_failure_is_retried_then_rewound_never_dead_lettered(
    settings: Settings,
) -> None:
    topic, group = await new_topic(settings, 1), group_name()
    events = [event(f"e-{n}") for n in range(5)]
    await produce(settings, topic, [("SUP-1", encode(e)) for e in events])
    effects, attempts, broker_back = Recorder(), [], asyncio.Event()

    async def handle(batch: Sequence[SupplierDisclosureEvent]) -> None:
        attempts.append(len(batch))
        if not broker_back.is_set():
            raise UnknownError()  # the broker's own fault, as during the broker stall
        await effects(batch)

    # No budget for retries in place: every failure rewinds to the broker and is fetched again.
    async with consuming(settings, topic, group, handle, retry_budget_s=0.0) as (sub, _):
        await until(lambda: len(attempts) >= 3)
        failing = sub.write_problems()
        stalled = lag(group, topic, 0)  # nothing handled: every record is still to go
        broker_back.set()
        await until(lambda: len(effects.handled) == 5)
        assert sub.halted is None
        assert sub.write_problems() == {}
        await until(lambda: lag(group, topic, 0) == 0)
    assert stalled == 5
    assert list(failing) == [f"{topic} handle"]
    assert effects.handled == [e.id for e in events]
    assert await dead_letters(settings, topic) == []
    await until_committed(settings, group, topic, 5)


def lag(group: str, topic: str, partition: int) -> float | None:
    labels = {"group": group, "topic": topic, "partition": str(partition)}
    return REGISTRY.get_sample_value("laboursight_consumer_lag", labels)


async def test_the_guard_halts_and_its_state_survives_a_restart(settings: Settings) -> None:
    topic, group = await new_topic(settings, 1), group_name()
    limits = GuardLimits(max_consecutive=3, window=100, max_ratio=0.5)
    await produce(settings, topic, [("SUP-1", f"garbage {n}".encode()) for n in range(6)])
    effects = Recorder()

    async with consuming(settings, topic, group, effects, limits=limits) as (first, _):
        await until(lambda: first.halted is not None)
    assert "more than 3 dead letters in a row" in (first.halted or "")
    assert len(await dead_letters(settings, topic)) == 3
    assert await committed(settings, group, topic, 0) == 3

    # Restarted (as an orchestrator would, seeing /healthz fail): the run of three is
    # recovered from the dead-letter topic, so the next bad record halts it at once.
    async with consuming(settings, topic, group, effects, limits=limits) as (second, _):
        await until(lambda: second.halted is not None)
    assert len(await dead_letters(settings, topic)) == 3
    assert await committed(settings, group, topic, 0) == 3
    assert effects.handled == []


async def test_readiness_fails_while_writes_fail_and_health_while_halted(
    settings: Settings,
) -> None:
    class Subscription:
        def __init__(self) -> None:
            self.halted: str | None = None
            self.problems: dict[str, str] = {}

        def write_problems(self) -> dict[str, str]:
            return self.problems

        async def watch(self) -> None:
            return None

    broker = make_broker(settings, client_id="test-health")
    subscription = Subscription()
    app = consumer_app(broker, consumers=[subscription])
    async with broker:
        await broker.start()
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
            ready = await client.get("/readyz")
            subscription.problems = {"commit": "KafkaConnectionError('broker down')"}
            unready = await client.get("/readyz")
            subscription.halted = "more than 100 dead letters in a row"
            halted = await client.get("/healthz")
    assert (ready.status_code, ready.json()["kafka"]) == (200, True)
    assert unready.status_code == 503
    assert unready.json()["failing"] == {"commit": "KafkaConnectionError('broker down')"}
    assert halted.status_code == 503
    assert halted.json()["halted"] == ["more than 100 dead letters in a row"]


async def test_screening_style_handler_publishes_all_before_the_commit(settings: Settings) -> None:
    """A handler that publishes with ``publish_all``: what it published is on the broker before
    the offset moved past its input."""
    topic, group = await new_topic(settings, 1), group_name()
    out = await new_topic(settings, 1)
    events = [event(f"e-{n}") for n in range(50)]
    await produce(settings, topic, [("SUP-1", encode(e)) for e in events])

    publishing = make_broker(settings, client_id="test-forward")
    publisher = KafkaPublisher(publishing)

    async def forward(batch: Sequence[SupplierDisclosureEvent]) -> None:
        await publisher.publish_all([(out, "SUP-1", e) for e in batch])

    async with publishing:
        await publishing.start()
        async with consuming(settings, topic, group, forward):
            await until_committed(settings, group, topic, 50)
    assert sorted(json.loads(r.value)["id"] for r in await everything(settings, out)) == sorted(
        e.id for e in events
    )


async def test_an_idle_subscription_polls_lazily_and_still_takes_the_next_record(
    settings: Settings,
) -> None:
    """The pace reaches the real subscriber's poll timeout and its aiokafka fetcher's wait."""
    lazy = settings.model_copy(
        update={"kafka_idle_after_s": 0.0, "kafka_idle_fetch_max_wait_ms": 300}
    )
    topic, group = await new_topic(settings, 1), group_name()
    effects = Recorder()
    async with consuming(lazy, topic, group, effects) as (subscription, broker):
        assert subscription.pacer is not None
        assert subscription.pacer.apply() == 300
        (found,) = broker.subscribers
        subscriber: Any = found  # FastStream's BatchSubscriber; its base class is what is typed
        assert isinstance(subscriber.consumer, AIOKafkaConsumer)
        assert subscriber.consumer._fetcher._fetch_max_wait_ms == 300
        assert subscriber.batch_timeout_ms == 300
        await produce(settings, topic, [("SUP-1", encode(event("after-a-quiet-spell")))])
        await until(lambda: effects.handled == ["after-a-quiet-spell"])


async def test_a_log_the_broker_restarted_behind_the_consumer_is_read_from_its_start(
    settings: Settings, own_broker: OwnBroker
) -> None:
    """tansu restarted empty, and a commit from before the restart landed on the new broker:
    the group's next member starts past the end of the new log, which tansu answers with
    nothing. The watch sees the position past the log's end and reads the new log again."""
    settings = settings.model_copy(update={"kafka_bootstrap_servers": own_broker.bootstrap_servers})
    topic, group = await new_topic(settings, 1), group_name()
    await produce(settings, topic, [("SUP-1", encode(event(f"old-{n}"))) for n in range(30)])
    async with consuming(settings, topic, group, Recorder()):
        await until_committed(settings, group, topic, 30)

    own_broker.kill()
    own_broker.start()
    await new_topic(settings, 1, name=topic)
    await commit_as_group(settings, group, topic, 30)  # the stale commit, as it landed
    await produce(settings, topic, [("SUP-1", encode(event(f"new-{n}"))) for n in range(5)])
    effects = Recorder()
    async with consuming(settings, topic, group, effects) as (subscription, _):
        watching = asyncio.create_task(subscription.watch(interval_s=0.1))
        try:
            await until(lambda: effects.handled == [f"new-{n}" for n in range(5)])
        finally:
            watching.cancel()
    assert await committed(settings, group, topic, 0) == 5


async def commit_as_group(settings: Settings, group: str, topic: str, offset: int) -> None:
    committer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap_servers, group_id=group)
    await committer.start()
    try:
        tp = TopicPartition(topic, 0)
        committer.assign([tp])
        await committer.commit({tp: offset})
    finally:
        await committer.stop()


async def test_a_log_that_did_not_restart_is_never_read_again(settings: Settings) -> None:
    """tansu may answer a log end short of a multi-record batch it holds: the probe finds the
    record before the position, so nothing is sought back."""
    topic, group = await new_topic(settings, 1), group_name()
    publishing = make_broker(settings, client_id="test-one-batch")
    async with publishing:
        await publishing.start()
        await KafkaPublisher(publishing).publish_all(
            [(topic, "SUP-1", event(f"e-{n}")) for n in range(20)]
        )
    effects = Recorder()
    async with consuming(settings, topic, group, effects) as (_, broker):
        await until(lambda: len(effects.handled) == 20)
        (found,) = broker.subscribers
        consumer: Any = getattr(found, "consumer", None)
        assert isinstance(consumer, AIOKafkaConsumer)
        resets = LogResets(UnderReporting(consumer), settings.kafka_bootstrap_servers)
        assert await resets.check() == []
        assert await resets.check() == []
        assert await consumer.position(TopicPartition(topic, 0)) == 20
    assert effects.handled == [f"e-{n}" for n in range(20)]


class UnderReporting:
    """The real consumer, but with the log end tansu may answer: the base offset of the last
    record batch plus one (here a batch of 20 at offset 0)."""

    def __init__(self, consumer: AIOKafkaConsumer) -> None:
        self._consumer = consumer

    def assignment(self) -> set[TopicPartition]:
        return set(self._consumer.assignment())

    def highwater(self, tp: TopicPartition) -> int:
        return 1

    async def position(self, tp: TopicPartition) -> int:
        return int(await self._consumer.position(tp))

    async def seek_to_beginning(self, *tps: TopicPartition) -> None:
        await self._consumer.seek_to_beginning(*tps)


async def test_on_assignment_a_partition_whose_last_committed_record_changed_is_read_again(
    settings: Settings, own_broker: OwnBroker
) -> None:
    """The new log already reaches past the stale position, so only the record itself tells:
    the one remembered at offset 29 is not the one the new log has there."""
    settings = settings.model_copy(update={"kafka_bootstrap_servers": own_broker.bootstrap_servers})
    topic = await new_topic(settings, 1)
    tp = TopicPartition(topic, 0)
    await produce(settings, topic, [("SUP-1", encode(event(f"old-{n}"))) for n in range(30)])
    (last,) = [r for r in await everything(settings, topic) if r.offset == 29]
    remembered = {0: Fingerprint.of(last)}
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap_servers)
    await consumer.start()
    try:
        consumer.assign([tp])
        resets = LogResets(consumer, settings.kafka_bootstrap_servers)
        consumer.seek(tp, 30)
        assert await resets.verify([tp], remembered) == []
        assert await consumer.position(tp) == 30

        own_broker.kill()
        own_broker.start()
        await new_topic(settings, 1, name=topic)
        await produce(settings, topic, [("SUP-1", encode(event(f"new-{n}"))) for n in range(40)])
        consumer.seek(tp, 30)
        assert await resets.verify([tp], remembered) == [tp]
        assert await consumer.position(tp) == 0
    finally:
        await consumer.stop()
