"""A partition whose log the broker started again is read again from its start.

A broker that keeps its log in memory (tansu here) forgets every record and every committed
offset when it restarts, and Kafka's safeguards do not fire: tansu answers a fetch past the end
of the new log with no records and no error (Apache Kafka answers OFFSET_OUT_OF_RANGE, which
``auto_offset_reset`` handles), and it takes a commit sent by a member of the old group before
that member noticed the restart. The group's next member then starts at an offset of the old
log, inside or past the new one, and skips what the new log holds below it. Two checks catch it:

- **On assignment**, each partition whose last committed record this subscription remembers
  (offset and timestamp: a :class:`Fingerprint`) is asked for that record again. A different
  record there, or none, means a new log.
- **While running**, a position past the log's end (the high watermark every fetch response
  carries) is a suspicion: tansu may answer an end short of a multi-record batch it holds, so
  the record just before the position is asked for, and the log is new if it is gone. A
  suspicion the probe cleared is not probed again until the position or the end moves.

A new log is read from its start: its records come again at most, never less, and every
handler is idempotent. What the old log held and no consumer had handled is re-driven from
MongoDB by whoever produced it (the api's relay and sweeper, risk's relay). Not covered: a
member that remembers nothing (another process) assigned a partition whose stale commit sits
inside the new log; the sweepers re-drive what it skips.
"""

import contextlib
import logging
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import IllegalStateError

from laboursight_runtime.metrics import LOG_RESETS

log = logging.getLogger(__name__)

PROBE_WAIT_MS = 2_000


@dataclass(frozen=True)
class Fingerprint:
    """The last record of a committed batch: where it was, and when the broker took it."""

    offset: int
    timestamp: int

    @classmethod
    def of(cls, record: "ConsumerRecord[object, object]") -> "Fingerprint":
        return cls(record.offset, record.timestamp)


class LogResets:
    """Both checks for one consumer; each seeks the partitions of a new log to its start."""

    def __init__(self, consumer: AIOKafkaConsumer, bootstrap_servers: str) -> None:
        self._consumer = consumer
        self._bootstrap_servers = bootstrap_servers
        self._cleared: dict[TopicPartition, tuple[int, int]] = {}

    async def verify(
        self, assigned: Collection[TopicPartition], remembered: Mapping[int, Fingerprint]
    ) -> list[TopicPartition]:
        """Just assigned: is each remembered last record still where it was? (One that
        retention deleted, below the log's start, says nothing.)"""
        known = {tp: remembered[tp.partition] for tp in assigned if tp.partition in remembered}
        found, starts = await self._records_at({tp: p.offset for tp, p in known.items()})
        return await self._restart(
            [
                tp
                for tp, print_ in known.items()
                if (tp in found and Fingerprint.of(found[tp]) != print_)
                or (tp not in found and print_.offset >= starts.get(tp, 0))
            ]
        )

    async def check(self) -> list[TopicPartition]:
        """Running: is any position past its log's end, with the record before it gone?"""
        suspects: dict[TopicPartition, tuple[int, int]] = {}
        for tp in self._consumer.assignment():
            end = self._consumer.highwater(tp)
            if end is None:  # no fetch answered since the assignment
                continue
            with contextlib.suppress(IllegalStateError):  # revoked meanwhile
                position = await self._consumer.position(tp)
                if position > end and self._cleared.get(tp) != (position, end):
                    suspects[tp] = (position, end)
        if not suspects:
            return []
        before = {tp: position - 1 for tp, (position, _end) in suspects.items()}
        found, _starts = await self._records_at(before)
        # Only a probe that answered clears a suspicion; one that failed is asked again.
        self._cleared.update({tp: suspects[tp] for tp in found})
        return await self._restart([tp for tp in suspects if tp not in found])

    async def _restart(self, restarted: list[TopicPartition]) -> list[TopicPartition]:
        if restarted:
            await self._consumer.seek_to_beginning(*restarted)
        for tp in restarted:
            LOG_RESETS.labels(tp.topic).inc()
            log.warning(
                "the broker's log of this partition is new; reading it from its start",
                extra={"topic": tp.topic, "partition": tp.partition},
            )
        return restarted

    async def _records_at(
        self, offsets: Mapping[TopicPartition, int]
    ) -> tuple[dict[TopicPartition, "ConsumerRecord[object, object]"], dict[TopicPartition, int]]:
        """The record at each offset that the broker still has, and where each log starts
        (read by a consumer of no group, so the group is not disturbed)."""
        if not offsets:
            return {}, {}
        probe = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap_servers,
            enable_auto_commit=False,
            fetch_max_wait_ms=100,
        )
        await probe.start()
        try:
            probe.assign(list(offsets))
            starts: dict[TopicPartition, int] = await probe.beginning_offsets(list(offsets))
            for tp, offset in offsets.items():
                probe.seek(tp, offset)
            found: dict[TopicPartition, ConsumerRecord[object, object]] = {}
            while len(found) < len(offsets):
                fetched = await probe.getmany(*offsets, timeout_ms=PROBE_WAIT_MS)
                if not fetched:
                    break
                for tp, records in fetched.items():
                    probe.pause(tp)  # the first batch from the offset is all it needs
                    for record in records:
                        if record.offset == offsets[tp]:
                            found[tp] = record
            return found, starts
        finally:
            await probe.stop()
