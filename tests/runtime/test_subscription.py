"""The subscription over fetched batches, with fakes: partitions apart and in order, one commit,
the guard's state recovered before the first record of a partition, halting, rewinds."""

import asyncio
from typing import Any

import pytest
from aiokafka import TopicPartition
from aiokafka.errors import CommitFailedError, KafkaConnectionError
from prometheus_client import REGISTRY

from laboursight_runtime.pipeline import BatchSubscription
from laboursight_runtime.pipeline.guard import GuardLimits
from laboursight_runtime.pipeline.handler import of_events
from laboursight_schemas.envelope import SupplierDisclosureEvent
from tests.runtime.fakes import TOPIC, DeadLetters, Handler, History, Offsets, records

LIMITS = GuardLimits(max_consecutive=2, window=100, max_ratio=0.5)


def subscription(
    handler: Handler,
    dead: DeadLetters | None = None,
    retry_budget_s: float = 0.2,
    group_id: str = "g",
) -> tuple[BatchSubscription[Any], list[str]]:
    halts: list[str] = []
    made: BatchSubscription[Any] = BatchSubscription.build(
        topic=TOPIC,
        group_id=group_id,
        event_type=SupplierDisclosureEvent,
        handle=of_events(handler),
        dead_letters=dead or DeadLetters(),
        history=History(),
        limits=LIMITS,
        retry_budget_s=retry_budget_s,
    )
    made.on_halt = halts.append
    return made, halts


async def test_partitions_are_handled_apart_in_offset_order_and_committed_together() -> None:
    handler = Handler()
    made, _ = subscription(handler)
    left = records(["a1", "a2", "a3"], partition=0, first=10)
    right = records(["b1", "b2"], partition=1, first=70)
    offsets = Offsets()
    # Interleaved, as a fetch across partitions returns them.
    await made.process([left[0], right[0], left[1], right[1], left[2]], offsets, History())
    assert sorted(handler.batches) == [["a1", "a2", "a3"], ["b1", "b2"]]
    assert offsets.commits == [{0: 13, 1: 72}]
    assert offsets.rewinds == []


async def test_partitions_run_concurrently() -> None:
    started: list[str] = []
    both = asyncio.Event()

    class Waits(Handler):
        async def __call__(self, events: Any) -> None:
            started.append(events[0].id)
            if len(started) == 2:
                both.set()
            async with asyncio.timeout(5):
                await both.wait()  # returns only once the other partition's batch began too
            await super().__call__(events)

    made, _ = subscription(Waits())
    batch = records(["a"], partition=0) + records(["b"], partition=1)
    await made.process(batch, Offsets(), History())
    assert sorted(started) == ["a", "b"]


async def test_the_guard_state_is_recovered_before_a_partition_is_first_handled() -> None:
    handler, dead = Handler(), DeadLetters()
    made, halts = subscription(handler, dead)
    # Before a restart, the two records just behind offset 50 were dead-lettered: the limit.
    history = History({0: {48, 49}})
    offsets = Offsets()
    await made.process(records(["garbage", "a"], first=50), offsets, history)
    assert history.asked == [{0: 50 - LIMITS.window}]
    assert dead.sent == []  # nothing more dead-lettered, and nothing committed:
    assert offsets.rewinds == [(0, 50)]
    assert offsets.commits == [{}]
    assert made.halted is not None
    assert "more than 2 dead letters in a row" in made.halted
    assert halts == [made.halted]


async def test_a_halted_subscription_handles_nothing_more() -> None:
    handler = Handler()
    made, _ = subscription(handler)
    await made.process(records(["garbage"] * 3), Offsets(), History())
    offsets = Offsets()
    await made.process(records(["a"], first=2), offsets, History())
    assert handler.handled == []
    assert offsets.rewinds == [(0, 2)]


async def test_history_is_read_once_per_assignment() -> None:
    made, _ = subscription(Handler())
    history = History()
    await made.process(records(["a"], first=0), Offsets(), history)
    await made.process(records(["b"], first=1), Offsets(), history)
    made.forget()  # a rebalance
    await made.process(records(["c"], first=2), Offsets(), history)
    assert history.asked == [{0: -100}, {0: -98}]


async def test_one_read_of_the_history_recovers_every_assigned_partition() -> None:
    made, _ = subscription(Handler())
    history = History()
    offsets = Offsets(assigned={0: 11, 1: 500, 2: 7})
    await made.process(records(["a"], partition=0, first=10), offsets, history)
    await made.process(records(["b"], partition=2, first=7), offsets, history)
    # The batch's own first offset wins over the position asked before it was fetched.
    assert history.asked == [{0: 10 - 100, 1: 500 - 100, 2: 7 - 100}]


async def test_unreadable_history_rewinds_the_batch_unhandled() -> None:
    handler = Handler()
    made, _ = subscription(handler)
    offsets = Offsets()
    await made.process(records(["a"], first=3), offsets, History(fail=1000))
    assert handler.batches == []
    assert offsets.rewinds == [(0, 3)]
    assert f"{TOPIC} dead-letter history" in made.write_problems()
    assert made.halted is None


async def test_a_failed_commit_rewinds_nothing_and_makes_the_consumer_unready() -> None:
    handler = Handler()
    made, _ = subscription(handler)
    offsets = Offsets(fail=KafkaConnectionError("broker down"))
    await made.process(records(["a"]), offsets, History())
    assert handler.handled == ["a"]
    assert offsets.rewinds == []
    assert set(made.write_problems()) == {f"{TOPIC} commit"}


async def test_a_commit_refused_after_a_rebalance_is_not_a_problem() -> None:
    made, _ = subscription(Handler())
    await made.process(records(["a"]), Offsets(fail=CommitFailedError()), History())
    assert made.write_problems() == {}


async def test_transient_failures_make_the_consumer_unready_until_a_batch_succeeds() -> None:
    made, _ = subscription(Handler(transient=1000), retry_budget_s=0.0)
    await made.process(records(["a"]), Offsets(), History())
    assert set(made.write_problems()) == {f"{TOPIC} handle"}
    healthy, _ = subscription(Handler(transient=1))
    await healthy.process(records(["a"]), Offsets(), History())
    assert healthy.write_problems() == {}


async def test_a_cancelled_batch_is_rewound_before_the_cancellation_goes_on() -> None:
    class Hangs(Handler):
        async def __call__(self, events: Any) -> None:
            await asyncio.Event().wait()

    made, _ = subscription(Hangs())
    offsets = Offsets()
    batch = records(["a", "b"], partition=0, first=4) + records(["c"], partition=1, first=9)
    task = asyncio.create_task(made.process(batch, offsets, History()))
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert sorted(offsets.rewinds) == [(0, 4), (1, 9)]
    assert offsets.commits == []
    assert made.halted is None


async def test_a_bug_in_the_pipeline_rewinds_and_halts() -> None:
    made, halts = subscription(Handler())

    class Broken(History):
        async def dead_offsets(self, topic: str, since: Any) -> Any:
            return None  # not a mapping: the pipeline itself fails

    offsets = Offsets()
    await made.process(records(["a"], first=8), offsets, Broken())
    assert offsets.rewinds == [(0, 8)]
    assert made.halted is not None
    assert "pipeline failed" in made.halted
    assert halts == [made.halted]


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_batches_dead_letters_and_halts_are_in_the_metrics() -> None:
    group = {"topic": TOPIC, "group": "metrics"}
    before = (
        sample("laboursight_batch_records_sum", topic=TOPIC),
        sample("laboursight_dead_letters_total", **group, stage="decode"),
    )
    made, _ = subscription(Handler(), group_id="metrics")
    await made.process(records(["a", "garbage", "b"]), Offsets(), History())
    assert sample("laboursight_batch_records_sum", topic=TOPIC) - before[0] == 3
    assert sample("laboursight_dead_letters_total", **group, stage="decode") - before[1] == 1
    assert sample("laboursight_consumer_halted", **group) == 0
    await made.process(records(["garbage"] * 3, first=3), Offsets(), History())
    assert sample("laboursight_consumer_halted", **group) == 1


async def test_lag_is_what_remains_of_each_partition_until_it_moves() -> None:
    made, _ = subscription(Handler(), group_id="lag")

    def lag(partition: int) -> float | None:
        labels = {"group": "lag", "topic": TOPIC, "partition": str(partition)}
        return REGISTRY.get_sample_value("laboursight_consumer_lag", labels)

    batch = records(["a", "b"], first=10) + records(["c"], partition=1, first=4)
    await made.process(batch, Offsets(ends={0: 20, 1: 5}), History())
    assert (lag(0), lag(1)) == (8, 0)
    # Nothing of partition 0 committed (its handler is down): the group goes on from offset 12.
    stuck, _ = subscription(Handler(transient=1_000), retry_budget_s=0.05, group_id="lag")
    await stuck.process(records(["d"], first=12), Offsets(ends={0: 30}), History())
    assert lag(0) == 18
    # Its end unknown (no fetch saw it), a partition keeps its last reading.
    await made.process(records(["e"], first=12), Offsets(), History())
    assert lag(0) == 18
    made.revoked([TopicPartition(TOPIC, 0), TopicPartition("another-topic", 1)])
    assert (lag(0), lag(1)) == (None, 0)


async def test_a_batch_that_spans_a_rebalance_is_handled_but_not_committed() -> None:
    made: BatchSubscription[Any]

    class RebalancedMeanwhile(Handler):
        async def __call__(self, events: Any) -> None:
            if not self.handled:
                made.forget()  # the listener, while the first batch was being handled
            await super().__call__(events)

    handler = RebalancedMeanwhile()
    made, _ = subscription(handler)
    offsets = Offsets()
    await made.process(records(["a", "b"], first=16), offsets, History())
    assert handler.handled == ["a", "b"]
    assert offsets.commits == []
    await made.process(records(["c"], first=0), offsets, History())
    assert offsets.commits == [{0: 1}]
