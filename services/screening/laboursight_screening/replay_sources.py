"""Where a replay reads the disclosures it screens again: the ledger, or the Kafka topics.

Both give the raw bytes of each event as they were recorded, with where they were, a page at a
time, in the order the replay screens them:

- the ledger (``LedgerSource``): the tenant's entries of the two disclosure topics, in chain
  order (sequence number), read only;
- the topics (``KafkaSource``): both disclosure topics from the first record the broker stored
  at or after the period's start (``offsets_for_times``) to the end of each partition's log as
  the read began, in the order the broker stored them (timestamp, then topic, partition and
  offset). Read with no consumer group: nothing is committed, nothing published. A disclosure
  published late (an outbox relay after a broker outage) is stored after its event time, so
  the end is the log's end, not the period's.

``--offsets`` ranges (``topic:partition:first-last``, both inclusive) narrow either source to
those positions. Which disclosures belong to the period by event time, and to the tenant, is
decided once each event is read (replay_screen.py).
"""

import re
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import OffsetAndTimestamp
from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from laboursight_schemas import collections, topics

DISCLOSURE_TOPICS: Final = (topics.SUPPLIER_DISCLOSURES, topics.RECRUITER_DISCLOSURES)
PAGE: Final = 2_000
# How long one fetch waits for records before the logs count as read to their end.
QUIET_MS: Final = 500

_RANGE = re.compile(r"^(?P<topic>[^:]+):(?P<partition>\d+):(?P<first>\d+)-(?P<last>\d+)$")


@dataclass(frozen=True)
class Range:
    """Offsets ``first`` to ``last``, both included, of one partition."""

    topic: str
    partition: int
    first: int
    last: int

    def text(self) -> str:
        return f"{self.topic}:{self.partition}:{self.first}-{self.last}"


def parse_range(text: str) -> Range:
    """``topic:partition:first-last``; raises ``ValueError`` saying what is wrong."""
    match = _RANGE.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not topic:partition:first-last")
    found = Range(match["topic"], int(match["partition"]), int(match["first"]), int(match["last"]))
    if found.topic not in DISCLOSURE_TOPICS:
        raise ValueError(
            f"{found.topic!r} is not a disclosure topic ({', '.join(DISCLOSURE_TOPICS)})"
        )
    if found.first > found.last:
        raise ValueError(f"{text!r}: the first offset is after the last")
    return found


@dataclass(frozen=True)
class Arrival:
    """An event as recorded: its bytes and where they were. ``seq`` and ``entry_hash`` are the
    ledger entry's (None from the topics); ``timestamp`` the broker's (None from the ledger)."""

    raw: bytes
    topic: str
    partition: int
    offset: int
    seq: int | None = None
    entry_hash: str | None = None
    timestamp: int | None = None

    def place(self) -> dict[str, Any]:
        return {
            "topic": self.topic,
            "partition": self.partition,
            "offset": self.offset,
            "seq": self.seq,
        }


class LedgerSource:
    """The tenant's disclosure entries in the ledger, in chain order."""

    def __init__(
        self, db: AsyncDatabase[dict[str, Any]], tenant_id: str, ranges: Sequence[Range] = ()
    ) -> None:
        self._db = db
        self._tenant_id = tenant_id
        self._ranges = ranges
        self.done = 0
        self.total = 0

    async def pages(self) -> AsyncIterator[list[Arrival]]:
        head = await self._db[collections.LEDGER_HEADS].find_one({"_id": self._tenant_id})
        # The chain's length bounds what there is to read: progress is the sequence reached.
        self.total = 0 if head is None else int(head["seq"])
        query: dict[str, Any] = {
            "tenant_id": self._tenant_id,
            "topic": {"$in": list(DISCLOSURE_TOPICS)},
        }
        if self._ranges:
            query["$or"] = [
                {
                    "topic": r.topic,
                    "partition": r.partition,
                    "offset": {"$gte": r.first, "$lte": r.last},
                }
                for r in self._ranges
            ]
        fields = ("seq", "topic", "partition", "offset", "event", "entry_hash")
        cursor = self._db[collections.LEDGER].find(
            query, projection=dict.fromkeys(fields, True) | {"_id": False}, batch_size=PAGE
        )
        cursor = cursor.sort("seq", ASCENDING)
        while page := await cursor.to_list(PAGE):
            self.done = page[-1]["seq"]
            self.total = max(self.total, self.done)
            yield [
                Arrival(
                    raw=bytes(d["event"]),
                    topic=d["topic"],
                    partition=d["partition"],
                    offset=d["offset"],
                    seq=d["seq"],
                    entry_hash=d["entry_hash"],
                )
                for d in page
            ]
        self.done = self.total


def start_offset(found: OffsetAndTimestamp | None, since_ms: int) -> int | None:
    """Where a partition's records at or after ``since_ms`` begin, from ``offsets_for_times``;
    None when it has none.

    No record that late is ``None`` on Apache Kafka; tansu answers offset 0 with timestamp -1
    instead (INFRA-NOTES.md), which read naively would replay the whole partition.
    """
    if found is None or found.timestamp < since_ms:
        return None
    offset: int = found.offset
    return offset


class KafkaSource:
    """Both disclosure topics, read without a consumer group, from the period's start (or the
    ranges given) to the end of each partition's log as the read began (or of the range).

    That end is where fetching gives nothing more, or a record stored after the read began, not
    the end offset the broker lists: tansu lists, for a partition whose last write was a batch
    of several records, the batch's first offset plus one, short of the records after it.
    """

    def __init__(
        self, bootstrap_servers: str, since_ms: int | None, ranges: Sequence[Range] = ()
    ) -> None:
        self._bootstrap_servers = bootstrap_servers
        self._since_ms = since_ms
        self._ranges = ranges
        self.done = 0
        self.total = 0
        self.read: list[dict[str, Any]] = []
        """Per partition read: topic, partition, first and last offset (what the report says)."""

    async def pages(self) -> AsyncIterator[list[Arrival]]:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap_servers,
            group_id=None,
            enable_auto_commit=False,
            request_timeout_ms=10_000,
        )
        await consumer.start()
        try:
            records = await self._read_all(consumer)
        finally:
            await consumer.stop()
        records.sort(key=lambda a: (a.timestamp, a.topic, a.partition, a.offset))
        offsets: dict[tuple[str, int], list[int]] = {}
        for a in records:
            offsets.setdefault((a.topic, a.partition), []).append(a.offset)
        self.read = [
            {"topic": topic, "partition": partition, "first": min(read), "last": max(read)}
            for (topic, partition), read in sorted(offsets.items())
        ]
        for start in range(0, len(records), PAGE):
            yield records[start : start + PAGE]

    async def _bounds(
        self, consumer: AIOKafkaConsumer
    ) -> dict[TopicPartition, tuple[int, int | None]]:
        """Each partition to read: its first offset, and the offset to stop before (None: the
        log's end)."""
        partitions = [
            TopicPartition(topic, p)
            for topic in DISCLOSURE_TOPICS
            for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        if self._ranges:
            ranged = {(r.topic, r.partition) for r in self._ranges}
            partitions = [tp for tp in partitions if (tp.topic, tp.partition) in ranged]
        if not partitions:
            return {}
        firsts: dict[TopicPartition, int] = await consumer.beginning_offsets(partitions)
        starts: dict[TopicPartition, int | None] = dict(firsts)
        if self._since_ms is not None:
            since_ms = self._since_ms
            found = await consumer.offsets_for_times(dict.fromkeys(partitions, since_ms))
            starts = {}
            for tp, first in firsts.items():
                late = start_offset(found.get(tp), since_ms)
                starts[tp] = None if late is None else max(first, late)
        bounds: dict[TopicPartition, tuple[int, int | None]] = {}
        for tp, begin in starts.items():
            if begin is None:
                continue
            start, stop = begin, None
            for r in self._ranges:
                if (r.topic, r.partition) == (tp.topic, tp.partition):
                    start, stop = max(begin, r.first), r.last + 1
            if stop is None or stop > start:
                bounds[tp] = (start, stop)
        return bounds

    async def _read_all(self, consumer: AIOKafkaConsumer) -> list[Arrival]:
        # Fetches every topic's metadata, so that partitions_for_topic knows them.
        known = await consumer.topics()
        for topic in DISCLOSURE_TOPICS:
            if topic not in known:
                raise LookupError(f"topic {topic} does not exist on {self._bootstrap_servers}")
        bounds = await self._bounds(consumer)
        if not bounds:
            return []
        listed = await consumer.end_offsets(list(bounds))
        # An estimate, for the progress bar only (see the class).
        self.total = sum(
            max(0, (listed[tp] if stop is None else stop) - start)
            for tp, (start, stop) in bounds.items()
        )
        waiting = set(bounds)
        consumer.assign(sorted(waiting))
        for tp in waiting:
            consumer.seek(tp, bounds[tp][0])
        records: list[Arrival] = []
        began_ms = int(time.time() * 1000)
        quiet = 0
        # Two fetches in a row with nothing for any partition: every log is read to its end.
        while waiting and quiet < 2:
            batch = await consumer.getmany(*waiting, timeout_ms=QUIET_MS, max_records=PAGE)
            quiet = 0 if any(batch.values()) else quiet + 1
            for tp, got in batch.items():
                stop = bounds[tp][1]
                kept = [
                    r for r in got if (stop is None or r.offset < stop) and r.timestamp < began_ms
                ]
                records += _arrivals(kept)
                if len(kept) < len(got):
                    self._finish(consumer, waiting, tp)
            for tp in list(waiting):
                stop = bounds[tp][1]
                position: int = await consumer.position(tp)
                if stop is not None and position >= stop:
                    self._finish(consumer, waiting, tp)
            self.done = len(records)
        self.total = max(self.total, self.done)
        return records

    @staticmethod
    def _finish(
        consumer: AIOKafkaConsumer, waiting: set[TopicPartition], tp: TopicPartition
    ) -> None:
        waiting.discard(tp)
        consumer.pause(tp)


def _arrivals(records: Iterable[Any]) -> list[Arrival]:
    return [
        Arrival(
            raw=bytes(r.value or b""),
            topic=r.topic,
            partition=r.partition,
            offset=r.offset,
            timestamp=r.timestamp,
        )
        for r in records
    ]
