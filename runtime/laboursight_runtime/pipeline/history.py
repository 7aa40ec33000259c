"""Where the dead-letter guard's state survives a restart: in the dead letters themselves.

Every dead letter in ``<topic>.dlq`` names the consumer group, source partition and source
offset it came from (``dead_letters.error_headers``). The guard's state of a partition is a
function of which of the offsets just behind its position were dead-lettered
(``guard.recovered``), so reading the tail of the dead-letter topic rebuilds it exactly. Why this
store and not another:

- it is written anyway, by the same step, before the offsets that follow are committed: the
  state can never be older than the position it is recovered for;
- it needs nothing the service does not have (screening has no database) and no second write;
- a dead letter published twice (a crash between publishing and committing) names the same
  offset, and offsets are counted once.

The tail is read backwards in chunks until, for every partition asked about, a dead letter of this
group older than the window was passed (dead letters of one group and partition are appended in
offset order), or the beginning is reached, or ``max_scan`` records were read. So the bound is
explicit: a window's dead letters are found as long as fewer than ``max_scan`` records were
dead-lettered into the same topic (by every group and partition) since.
"""

from collections.abc import Mapping
from typing import Any, Protocol

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaTimeoutError

from laboursight_runtime.dead_letters import CONSUMER_GROUP, SOURCE_OFFSET, SOURCE_PARTITION
from laboursight_schemas.topics import dead_letter_topic

CHUNK = 1_000
FETCH_TIMEOUT_MS = 1_000
MAX_EMPTY_FETCHES = 5


class DeadLetterHistory(Protocol):
    async def dead_offsets(self, topic: str, since: Mapping[int, int]) -> dict[int, set[int]]:
        """The offsets of ``topic`` this group dead-lettered, for each partition in ``since``,
        at least all those at or after ``since[partition]``."""
        ...


class NoHistory:
    """For a broker that keeps nothing (FastStream's in-memory test broker)."""

    async def dead_offsets(self, topic: str, since: Mapping[int, int]) -> dict[int, set[int]]:
        return {partition: set() for partition in since}


class KafkaDeadLetterHistory:
    """Reads the tail of ``<topic>.dlq`` with its own short-lived consumer (no group, no commits)."""

    def __init__(self, bootstrap_servers: str, group_id: str, *, max_scan: int = 20_000) -> None:
        self._bootstrap_servers = bootstrap_servers
        self._group_id = group_id
        self._max_scan = max_scan

    async def dead_offsets(self, topic: str, since: Mapping[int, int]) -> dict[int, set[int]]:
        found: dict[int, set[int]] = {partition: set() for partition in since}
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap_servers,
            enable_auto_commit=False,
            client_id=f"{self._group_id}-dead-letter-history",
            # The last fetch of a scan finds nothing; it should not wait long for that.
            fetch_max_wait_ms=50,
        )
        await consumer.start()
        try:
            dlq = dead_letter_topic(topic)
            if dlq not in await consumer.topics():
                return found
            parts = [TopicPartition(dlq, p) for p in sorted(consumer.partitions_for_topic(dlq))]
            consumer.assign(parts)
            begins = await consumer.beginning_offsets(parts)
            ends = await consumer.end_offsets(parts)
            for part in parts:
                await self._scan(consumer, part, begins[part], ends[part], since, found)
        finally:
            await consumer.stop()
        return found

    async def _scan(
        self,
        consumer: "AIOKafkaConsumer",
        part: TopicPartition,
        begin: int,
        end: int,
        since: Mapping[int, int],
        found: dict[int, set[int]],
    ) -> None:
        waiting = set(since)
        high: int | None = None  # the first chunk is read to the true end (see ``_read``)
        low = end
        while low > begin and waiting and end - low < self._max_scan:
            low = max(begin, (end if high is None else high) - CHUNK)
            for record in await _read(consumer, part, low, high, end):
                source = self._source(record)
                if source is None or source[0] not in since:
                    continue
                partition, offset = source
                found[partition].add(offset)
                if offset < since[partition]:
                    waiting.discard(partition)
            high = low

    def _source(self, record: "ConsumerRecord[Any, Any]") -> tuple[int, int] | None:
        headers = dict(record.headers or ())
        if headers.get(CONSUMER_GROUP) != self._group_id.encode():
            return None
        try:
            return int(headers[SOURCE_PARTITION]), int(headers[SOURCE_OFFSET])
        except (KeyError, ValueError):
            return None


async def _read(
    consumer: "AIOKafkaConsumer", part: TopicPartition, low: int, high: int | None, end: int
) -> list["ConsumerRecord[Any, Any]"]:
    """The records of ``part`` from offset ``low`` up to (not including) ``high``, or when
    ``high`` is ``None`` to the end: past ``end`` and until a fetch finds nothing more. The end
    offset a broker reports is only a lower bound here: tansu answers the base offset of the
    last record batch plus one, short of the records that batch holds after its first.

    Raises ``KafkaTimeoutError`` (transient) if the broker stops answering with records.
    """
    consumer.seek(part, low)
    records: list[ConsumerRecord[Any, Any]] = []
    stop = end if high is None else high
    empty = 0
    while True:
        batch = (await consumer.getmany(part, timeout_ms=FETCH_TIMEOUT_MS)).get(part, [])
        records += [r for r in batch if high is None or r.offset < high]
        position = await consumer.position(part)
        if batch:
            empty = 0
            if high is not None and position >= high:
                return records
            continue
        if position >= stop:
            return records
        empty += 1
        if empty == MAX_EMPTY_FETCHES:
            raise KafkaTimeoutError(f"no records from {part.topic} below offset {stop}")
