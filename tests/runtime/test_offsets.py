"""Explicit commits on the subscriber's consumer: never past its position, never for a partition
it lost (with a hand-written consumer holding an assignment and positions); the high watermark
only of a partition it holds."""

from collections.abc import Mapping

from aiokafka import TopicPartition
from aiokafka.errors import IllegalStateError

from laboursight_runtime.pipeline.offsets import KafkaOffsets

TOPIC = "t"


class Consumer:
    def __init__(self, positions: Mapping[int, int]) -> None:
        self.positions = {TopicPartition(TOPIC, p): o for p, o in positions.items()}
        self.commits: list[dict[TopicPartition, int]] = []

    async def position(self, tp: TopicPartition) -> int:
        if tp not in self.positions:
            raise IllegalStateError(f"Partition {tp} is not assigned")
        return self.positions[tp]

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        self.commits.append(offsets)

    def assignment(self) -> set[TopicPartition]:
        return set(self.positions)

    def highwater(self, tp: TopicPartition) -> int | None:
        # As aiokafka's: an assertion, not an error to catch, for a partition not assigned.
        assert tp in self.positions, "Partition is not assigned"
        return self.positions[tp] + 10


async def test_commits_up_to_the_position_of_each_assigned_partition() -> None:
    consumer = Consumer({0: 40, 1: 7})
    await KafkaOffsets(consumer, TOPIC).commit({0: 40, 1: 5})
    assert consumer.commits == [{TopicPartition(TOPIC, 0): 40, TopicPartition(TOPIC, 1): 5}]


async def test_an_offset_past_the_position_is_from_an_earlier_assignment_and_not_committed() -> (
    None
):
    # The broker lost its log and the group: the new assignment reset partition 0 to the new
    # log's start, behind the batch fetched from the old one.
    consumer = Consumer({0: 0, 1: 9})
    await KafkaOffsets(consumer, TOPIC).commit({0: 20, 1: 9})
    assert consumer.commits == [{TopicPartition(TOPIC, 1): 9}]


async def test_a_revoked_partition_is_skipped_and_nothing_left_sends_no_commit() -> None:
    consumer = Consumer({})
    await KafkaOffsets(consumer, TOPIC).commit({0: 3})
    assert consumer.commits == []


def test_the_end_of_a_partition_no_longer_assigned_is_unknown() -> None:
    offsets = KafkaOffsets(Consumer({0: 40}), TOPIC)
    assert (offsets.highwater(0), offsets.highwater(1)) == (50, None)
