"""Moving a partition's offsets: commit past what is durable, or seek back to redo.

Why not FastStream's ``message.ack()``/``nack()`` on a batch (0.7.8, ``KafkaAckableMessage``):
``ack()`` calls ``consumer.commit()`` with no offsets, which commits the consumer's *position* on
every assigned partition — everything fetched so far, including records of a partition whose
part of the batch was rewound, or records fetched while the batch was handled. ``nack()`` seeks
every partition of the batch back to its first record, so one partition's transient failure would
redo the others. The pipeline instead commits explicit offsets per partition, and seeks only the
partitions it must (the subscriber is ``AckPolicy.MANUAL``, so FastStream does neither itself).
"""

import contextlib
from collections.abc import Mapping
from typing import Protocol

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import IllegalStateError


class Offsets(Protocol):
    async def commit(self, next_offsets: Mapping[int, int]) -> dict[int, int]:
        """Commit, for each partition, the offset of the next record to read; return once the
        broker stored them, with those it stored. Raises when it did not.

        An offset past the consumer's position is not committed: its records were fetched
        under an earlier assignment, and the new one starts behind them (a broker that lost
        its log and its group reset the position to the new log's start; a commit from the
        old batch would skip what the new log holds below it). Those records come again.
        """
        ...

    def rewind(self, partition: int, offset: int) -> None:
        """Fetch ``partition`` again from ``offset``, dropping what was fetched beyond it."""
        ...

    async def positions(self) -> dict[int, int]:
        """Every partition of the topic assigned now, with the offset its next batch starts at."""
        ...

    def highwater(self, partition: int) -> int | None:
        """The offset the partition's next produced record will get, as the last fetch saw it;
        ``None`` before any fetch, or when the partition is not assigned (any longer)."""
        ...


class KafkaOffsets:
    """The subscriber's own consumer: only it may commit for the group's assignment."""

    def __init__(self, consumer: AIOKafkaConsumer, topic: str) -> None:
        self._consumer = consumer
        self._topic = topic

    async def commit(self, next_offsets: Mapping[int, int]) -> dict[int, int]:
        commits: dict[TopicPartition, int] = {}
        for partition, offset in next_offsets.items():
            tp = TopicPartition(self._topic, partition)
            try:
                position = await self._consumer.position(tp)
            except IllegalStateError:  # revoked: its new owner starts from the last commit
                continue
            # tansu checks no generation, so a stale commit is refused only here.
            if offset <= position:
                commits[tp] = offset
        if commits:
            await self._consumer.commit(commits)
        return {tp.partition: offset for tp, offset in commits.items()}

    def rewind(self, partition: int, offset: int) -> None:
        # Revoked meanwhile: its new owner starts from the last commit, which is not past it.
        with contextlib.suppress(IllegalStateError):
            self._consumer.seek(TopicPartition(self._topic, partition), offset)

    async def positions(self) -> dict[int, int]:
        assigned = [tp for tp in self._consumer.assignment() if tp.topic == self._topic]
        with contextlib.suppress(IllegalStateError):  # a rebalance began: ask again later
            return {tp.partition: await self._consumer.position(tp) for tp in assigned}
        return {}

    def highwater(self, partition: int) -> int | None:
        tp = TopicPartition(self._topic, partition)
        # aiokafka asserts the assignment; checked first, as nothing can revoke in between.
        if tp not in self._consumer.assignment():
            return None
        end: int | None = self._consumer.highwater(tp)
        return end


class NoOffsets:
    """FastStream's in-memory test broker keeps no offsets: nothing to commit or seek."""

    async def commit(self, next_offsets: Mapping[int, int]) -> dict[int, int]:
        return {}

    def rewind(self, partition: int, offset: int) -> None:
        return None

    async def positions(self) -> dict[int, int]:
        return {}

    def highwater(self, partition: int) -> int | None:
        return None
