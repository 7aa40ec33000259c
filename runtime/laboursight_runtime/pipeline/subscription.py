"""A batch subscription: FastStream's batch subscriber feeding the steps, one task per partition."""

import asyncio
import contextlib
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final, Generic

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, ConsumerRecord, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError
from faststream.kafka import KafkaBroker, KafkaMessage

from laboursight_runtime.dead_letters import DeadLetter, DeadLetterSink, KafkaDeadLetters
from laboursight_runtime.kafka import consumer_options
from laboursight_runtime.metrics import (
    BATCH_RECORDS,
    BATCH_SECONDS,
    CONSUMER_LAG,
    DEAD_LETTERS,
    HALTED,
    MESSAGES,
    TRANSIENT_FAILURES,
)
from laboursight_runtime.settings import Settings

from .decode import Reading
from .guard import GuardLimits, GuardState, recovered
from .handler import BatchHandler, EventT, RecordsHandler, of_events
from .health import WriteHealth
from .history import DeadLetterHistory, KafkaDeadLetterHistory, NoHistory
from .offsets import KafkaOffsets, NoOffsets, Offsets
from .pace import Pace, PaceLimits, Pacer
from .partition import PartitionOutcome, PartitionStep
from .resets import Fingerprint, LogResets
from .retry import Retry
from .traced import traced

log = logging.getLogger(__name__)

DEFAULT_LIMITS = GuardLimits()

Records = Sequence["ConsumerRecord[Any, Any]"]


class BatchSubscription(Generic[EventT]):
    """The steps of ``pipeline`` over every batch of one topic, for one consumer group.

    ``halted`` is why it stopped (``None`` while it runs): its dead-letter guard, or a failure
    of the pipeline itself. ``write_problems()`` are the writes failing now (for ``/readyz``).

    Each batch is split by partition and the partitions run concurrently; a partition's records
    stay in offset order. The batch's offsets are committed together once every partition is
    done. Whatever escapes the steps rewinds every partition of the batch to its first record
    first, so no later commit can skip a record: a cancellation (shutdown) then propagates; any
    other error is a bug of the pipeline, and halts the subscription rather than loop on it.
    """

    def __init__(
        self,
        *,
        topic: str,
        group_id: str,
        step: PartitionStep[EventT],
        history: DeadLetterHistory,
        limits: GuardLimits,
        retry: Retry,
        health: WriteHealth,
    ) -> None:
        self.topic = topic
        self.group_id = group_id
        self.halted: str | None = None
        self.on_halt: Callable[[str], None] = lambda reason: None
        # Set by ``subscribe_batch`` for a real subscriber: its poll pace and its broker.
        self.pacer: Pacer | None = None
        self.bootstrap_servers = ""
        self._resets: LogResets | None = None
        # The last committed record of each partition, kept across rebalances (``resets``).
        self._committed: dict[int, Fingerprint] = {}
        self._step = step
        self._history = history
        self._limits = limits
        self._retry = retry
        self._health = health
        self._guards: dict[int, GuardState] = {}
        # Bumped at every rebalance: a batch that began before it must not store guard states.
        self._generation = 0

    @classmethod
    def build(
        cls,
        *,
        topic: str,
        group_id: str,
        event_type: Reading[EventT],
        handle: RecordsHandler[EventT],
        dead_letters: DeadLetterSink,
        history: DeadLetterHistory,
        limits: GuardLimits,
        retry_budget_s: float,
    ) -> "BatchSubscription[EventT]":
        """The steps assembled around ``handle`` (traced, ``traced``), sharing one retry policy
        whose transient failures are counted and make the consumer unready until the next
        success."""
        health = WriteHealth()

        def transient(error: BaseException) -> None:
            TRANSIENT_FAILURES.labels(topic, group_id).inc()
            health.failed("handle", error)

        retry = Retry(retry_budget_s, on_transient=transient)
        step = PartitionStep(
            event_type=event_type,
            handle=traced(handle, topic=topic, group_id=group_id),
            dead_letters=_Recorded(dead_letters, health),
            retry=retry,
        )
        return cls(
            topic=topic,
            group_id=group_id,
            step=step,
            history=history,
            limits=limits,
            retry=retry,
            health=health,
        )

    def write_problems(self) -> dict[str, str]:
        return {f"{self.topic} {kind}": error for kind, error in self._health.problems().items()}

    @property
    def listener(self) -> ConsumerRebalanceListener:
        """Forgets the guard state of partitions that move (their next owner recovers it), and
        checks the logs of the partitions assigned (``assigned``)."""
        return _Rebalanced(self)

    async def watch(self, interval_s: float = 0.5) -> None:
        """Until cancelled, every ``interval_s``: pace the polls (``pace``) and read a log the
        broker started again behind the consumer from its start (``resets``). Nothing to do
        without a subscriber (FastStream's in-memory test broker)."""
        if self.pacer is None:
            return
        while True:
            self.pacer.apply()
            if (resets := self._log_resets()) is not None:
                try:
                    await resets.check()
                except Exception as error:  # the broker is away: ask again next time
                    log.info("log-end check failed", extra={"error": repr(error)})
            await asyncio.sleep(interval_s)

    async def assigned(self, partitions: list[TopicPartition]) -> None:
        """A rebalance gave this member ``partitions``: their guards are recovered afresh, and
        a partition whose last committed record is gone from the broker is read from its start."""
        self.forget()
        if (resets := self._log_resets()) is None:
            return
        try:
            await resets.verify(
                [tp for tp in partitions if tp.topic == self.topic], self._committed
            )
        except Exception as error:  # the broker is away again: the running check remains
            log.warning("log check on assignment failed", extra={"error": repr(error)})

    def _log_resets(self) -> LogResets | None:
        consumer = None if self.pacer is None else self.pacer.consumer
        if self._resets is None and isinstance(consumer, AIOKafkaConsumer):
            self._resets = LogResets(consumer, self.bootstrap_servers)
        return self._resets

    def forget(self) -> None:
        self._generation += 1
        self._guards.clear()

    def revoked(self, partitions: list[TopicPartition]) -> None:
        """A rebalance took ``partitions`` away: their guards are forgotten, and their lag is
        no longer this member's to report (their next owner reports it)."""
        self.forget()
        for tp in partitions:
            if tp.topic == self.topic:
                with contextlib.suppress(KeyError):  # never measured here
                    CONSUMER_LAG.remove(self.group_id, self.topic, str(tp.partition))

    async def __call__(self, message: KafkaMessage) -> None:
        raw = message.raw_message
        # A tuple from the real subscriber; FastStream's in-memory test broker hands a list.
        records: Records = (raw,) if isinstance(raw, ConsumerRecord) else tuple(raw)
        consumer = message.consumer
        if isinstance(consumer, AIOKafkaConsumer):
            await self.process(records, KafkaOffsets(consumer, self.topic), self._history)
        else:
            await self.process(records, NoOffsets(), NoHistory())

    async def process(self, records: Records, offsets: Offsets, history: DeadLetterHistory) -> None:
        """Run the steps over one fetched batch (any partitions of this topic, not empty)."""
        if self.pacer is not None:
            self.pacer.seen()
        partitions = _by_partition(records)
        try:
            await self._batch(partitions, offsets, history)
        except BaseException as error:
            for partition, batch in partitions.items():
                offsets.rewind(partition, batch[0].offset)
            if not isinstance(error, Exception):
                raise
            log.exception("consumer pipeline failed, batch rewound")
            self._halt(f"the consumer pipeline failed: {error!r}")

    async def _batch(
        self, partitions: dict[int, Records], offsets: Offsets, history: DeadLetterHistory
    ) -> None:
        started = time.perf_counter()
        if self.halted or not await self._recover(partitions, offsets, history):
            for partition, batch in partitions.items():
                offsets.rewind(partition, batch[0].offset)
            return
        generation = self._generation
        async with asyncio.TaskGroup() as group:
            tasks = {
                partition: group.create_task(self._step(batch, self._guards[partition]))
                for partition, batch in partitions.items()
            }
        outcomes = {partition: task.result() for partition, task in tasks.items()}
        for partition, outcome in outcomes.items():
            if outcome.rewind is not None:
                offsets.rewind(partition, outcome.rewind)
            if generation == self._generation:
                self._guards[partition] = outcome.guard
        if generation == self._generation:
            await self._commit(offsets, partitions, outcomes)
            self._measure_lag(offsets, partitions, outcomes)
        else:
            # Fetched under the assignment before a rebalance: the new one starts from the
            # group's last commit, so these records come again (to this member or another).
            log.info("batch spanned a rebalance, not committed", extra={"topic": self.topic})
        self._report(partitions, outcomes, time.perf_counter() - started)

    async def _recover(
        self, partitions: dict[int, Records], offsets: Offsets, history: DeadLetterHistory
    ) -> bool:
        """Give each partition seen for the first time since (re)assignment its guard state, from
        the dead letters behind its position; every other assigned partition without one too, in
        the same read of the history. False if the history could not be read."""
        if all(p in self._guards for p in partitions):
            return True
        generation = self._generation
        assigned = await offsets.positions()
        fetched = {p: batch[0].offset for p, batch in partitions.items()}
        positions = {
            p: position for p, position in (assigned | fetched).items() if p not in self._guards
        }
        since = {p: position - self._limits.window for p, position in positions.items()}
        try:
            dead = await self._retry(lambda: history.dead_offsets(self.topic, since))
        except Exception as error:
            self._health.failed("dead-letter history", error)
            log.error("dead-letter history unreadable, batch rewound", extra={"error": repr(error)})
            return False
        self._health.succeeded("dead-letter history")
        if generation == self._generation:
            for p, position in positions.items():
                self._guards[p] = recovered(self._limits, position, dead.get(p, set()))
        return generation == self._generation

    async def _commit(
        self,
        offsets: Offsets,
        partitions: dict[int, Records],
        outcomes: dict[int, PartitionOutcome],
    ) -> None:
        """Effects and dead letters are durable by now, so a failed commit only means they may
        be redelivered: nothing is rewound, and the next commit covers these offsets too."""
        commits = {p: o.commit for p, o in outcomes.items() if o.commit is not None}
        try:
            committed = await offsets.commit(commits)
        except (CommitFailedError, IllegalStateError) as error:
            log.info("commit refused after a rebalance", extra={"error": repr(error)})
        except Exception as error:
            self._health.failed("commit", error)
            log.warning("offset commit failed", extra={"error": repr(error)})
        else:
            self._health.succeeded("commit")
            for partition, offset in committed.items():
                for record in partitions[partition]:
                    if record.offset == offset - 1:
                        self._committed[partition] = Fingerprint.of(record)

    def _measure_lag(
        self,
        offsets: Offsets,
        partitions: dict[int, Records],
        outcomes: dict[int, PartitionOutcome],
    ) -> None:
        """The group goes on from the batch's commit, or from its first record when nothing of
        it was committed; a partition whose end is unknown keeps its last reading."""
        for partition, batch in partitions.items():
            if (end := offsets.highwater(partition)) is None:
                continue
            commit = outcomes[partition].commit
            onwards = batch[0].offset if commit is None else commit
            # Never below zero: tansu's high watermark can fall short of a multi-record batch.
            lag = max(0, end - onwards)
            CONSUMER_LAG.labels(self.group_id, self.topic, str(partition)).set(lag)

    def _report(
        self, partitions: dict[int, Records], outcomes: dict[int, PartitionOutcome], took: float
    ) -> None:
        BATCH_SECONDS.labels(self.topic).observe(took)
        for partition, outcome in outcomes.items():
            BATCH_RECORDS.labels(self.topic).observe(len(partitions[partition]))
            MESSAGES.labels(self.topic, "processed").inc(outcome.processed)
            MESSAGES.labels(self.topic, "dead_lettered").inc(len(outcome.dead_letters))
            MESSAGES.labels(self.topic, "rewound").inc(outcome.rewound)
            for letter in outcome.dead_letters:
                DEAD_LETTERS.labels(self.topic, self.group_id, letter.stage).inc()
                log.error(
                    "message dead-lettered",
                    extra={
                        "topic": letter.record.topic,
                        "partition": letter.record.partition,
                        "offset": letter.record.offset,
                        "stage": letter.stage,
                        "error": repr(letter.error),
                    },
                )
            if outcome.rewind is None:
                self._health.succeeded("handle")
            if outcome.halted is not None:
                self._halt(f"partition {partition} of {self.topic}: {outcome.halted}")

    def _halt(self, reason: str) -> None:
        if self.halted is not None:
            return
        self.halted = reason
        HALTED.labels(self.topic, self.group_id).set(1)
        log.critical("consumer halted", extra={"reason": reason})
        self.on_halt(reason)


class _Rebalanced(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, subscription: BatchSubscription[Any]) -> None:
        self._subscription = subscription

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        self._subscription.revoked(revoked)

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        await self._subscription.assigned(assigned)


def _by_partition(records: Records) -> dict[int, Records]:
    split: dict[int, list[ConsumerRecord[Any, Any]]] = defaultdict(list)
    for record in records:
        split[record.partition].append(record)
    return {p: sorted(batch, key=lambda r: r.offset) for p, batch in split.items()}


@dataclass(frozen=True)
class FetchBytes:
    """How many bytes one fetch may bring in, in all and from one partition (by default
    aiokafka's own limits)."""

    total: int = 50 * 1024 * 1024
    per_partition: int = 1024 * 1024


BACKLOG_FETCH: Final = FetchBytes(total=2 * 1024 * 1024, per_partition=512 * 1024)
"""For a consumer whose prefetch would otherwise hold most of its memory while it lags a
backlog: aiokafka prefetches up to a fetch's limit for every partition, and a decoded event is
several times its bytes (issue 8: <= 150 MB resident). 2 MiB is still about a full batch (500)
of findings or disclosures."""


def subscribe_batch(
    broker: KafkaBroker,
    settings: Settings,
    topic: str,
    *,
    group_id: str,
    event_type: Reading[EventT],
    handle: BatchHandler[EventT],
    max_records: int = 500,
    retry_budget_s: float = 60.0,
    limits: GuardLimits = DEFAULT_LIMITS,
    fetch_bytes: FetchBytes = FetchBytes(),
) -> BatchSubscription[EventT]:
    """Consume ``topic`` as group ``group_id`` through the pipeline's steps with ``handle``.

    ``max_records``: the most records one fetch hands on (a partition's batch is at most that).
    How long a poll waits for a first record follows the subscription's pace (``pace``):
    ``KAFKA_FETCH_MAX_WAIT_MS`` while records flow, ``KAFKA_IDLE_FETCH_MAX_WAIT_MS`` once none
    came for ``KAFKA_IDLE_AFTER_S``; ``consumer_app`` runs :meth:`BatchSubscription.watch`.
    ``retry_budget_s``: how long a transient failure is retried in place before a rewind.
    ``limits``: the dead-letter guard's. Dead letters go to ``<topic>.dlq`` through ``broker``.
    ``fetch_bytes``: caps on what one fetch brings in: a consumer of many partitions holds up
    to that much prefetched.

    When the subscription halts, its subscriber stops fetching (the group rebalances its
    partitions to the other members, whose guards recover the same state and halt as well).
    """
    return subscribe_records(
        broker,
        settings,
        topic,
        group_id=group_id,
        event_type=event_type,
        handle=of_events(handle),
        max_records=max_records,
        retry_budget_s=retry_budget_s,
        limits=limits,
        fetch_bytes=fetch_bytes,
    )


def subscribe_records(
    broker: KafkaBroker,
    settings: Settings,
    topic: str,
    *,
    group_id: str,
    event_type: Reading[EventT],
    handle: RecordsHandler[EventT],
    max_records: int = 500,
    retry_budget_s: float = 60.0,
    limits: GuardLimits = DEFAULT_LIMITS,
    fetch_bytes: FetchBytes = FetchBytes(),
) -> BatchSubscription[EventT]:
    """:func:`subscribe_batch` for a handler that also reads each event's record."""
    subscription = BatchSubscription.build(
        topic=topic,
        group_id=group_id,
        event_type=event_type,
        handle=handle,
        dead_letters=KafkaDeadLetters(broker, group_id),
        history=KafkaDeadLetterHistory(settings.kafka_bootstrap_servers, group_id),
        limits=limits,
        retry_budget_s=retry_budget_s,
    )
    subscriber = broker.subscriber(
        topic,
        batch=True,
        max_records=max_records,
        batch_timeout_ms=settings.kafka_fetch_max_wait_ms,
        listener=subscription.listener,
        **consumer_options(settings, group_id=group_id),
        fetch_max_bytes=fetch_bytes.total,
        max_partition_fetch_bytes=fetch_bytes.per_partition,
    )
    stopping: set[asyncio.Task[None]] = set()

    def stop(_reason: str) -> None:
        task = asyncio.get_running_loop().create_task(subscriber.stop())
        stopping.add(task)
        task.add_done_callback(stopping.discard)

    subscription.on_halt = stop
    subscription.pacer = Pacer(Pace(PaceLimits.of(settings)), subscriber)
    subscription.bootstrap_servers = settings.kafka_bootstrap_servers
    subscriber(_handler(subscription))
    return subscription


def _handler(subscription: BatchSubscription[Any]) -> Callable[[KafkaMessage], Any]:
    # FastStream injects the message by this annotation (faststream.kafka.KafkaMessage).
    async def on_batch(message: KafkaMessage) -> None:
        await subscription(message)

    return on_batch


class _Recorded:
    """Dead letters whose publishing outcome reaches readiness."""

    def __init__(self, sink: DeadLetterSink, health: WriteHealth) -> None:
        self._sink = sink
        self._health = health

    async def send_all(self, letters: Sequence[DeadLetter]) -> None:
        try:
            await self._sink.send_all(letters)
        except Exception as error:
            self._health.failed("dead letters", error)
            raise
        self._health.succeeded("dead letters")
