"""Each step of the pipeline alone, with fakes: decode, handle (retry, bisect), the partition step
(guard, dead letters, how far the offset may move)."""

import json
from typing import Any

from aiokafka.errors import MessageSizeTooLargeError

from laboursight_runtime.kafka import encode
from laboursight_runtime.pipeline.decode import decode
from laboursight_runtime.pipeline.guard import GuardLimits, GuardState
from laboursight_runtime.pipeline.handler import Decoded, of_events
from laboursight_runtime.pipeline.isolate import handle_isolating
from laboursight_runtime.pipeline.partition import PartitionStep
from laboursight_runtime.pipeline.retry import Retry
from laboursight_schemas.envelope import FindingsEvent, SupplierDisclosureEvent
from tests.runtime.fakes import DeadLetters, Handler, event, record, records, where

QUICK = Retry(budget_s=1.0)
NO_RETRY = Retry(budget_s=0.0)


# --- decode ------------------------------------------------------------------------------------


def test_decode_reads_events_tolerantly_and_keeps_the_rest_as_dead_letters() -> None:
    newer = json.loads(encode(event("e-newer")))
    newer["someday"] = "a field of a later minor version"
    newer["data"]["also"] = 1
    batch = [
        record(0, encode(event("e-0"))),
        record(1, b"garbage"),
        record(2, json.dumps(newer).encode()),
    ]
    decoded, unreadable = decode(batch, SupplierDisclosureEvent)
    assert [(d.record.offset, d.event.id) for d in decoded] == [(0, "e-0"), (2, "e-newer")]
    assert where(unreadable) == [(1, "decode")]
    assert type(unreadable[0].error).__name__ == "UnreadableEvent"


# --- handle ------------------------------------------------------------------------------------


def items(*names: str) -> list[Decoded[SupplierDisclosureEvent]]:
    decoded, _ = decode(records(names), SupplierDisclosureEvent)
    return decoded


async def test_a_batch_that_succeeds_is_handled_in_one_call() -> None:
    handler = Handler()
    outcome = await handle_isolating(items("a", "b", "c"), of_events(handler), QUICK)
    assert handler.batches == [["a", "b", "c"]]
    assert (outcome.dead, outcome.rewind_at) == ([], None)


async def test_only_the_event_that_fails_alone_is_a_dead_letter() -> None:
    handler = Handler(poison=["f"])
    outcome = await handle_isolating(items(*"abcdefgh"), of_events(handler), QUICK)
    assert where(outcome.dead) == [(5, "handle")]
    assert handler.handled == list("abcdegh")  # offset order kept
    assert len(handler.batches) < 8 + 1  # bisected, not one at a time


async def test_several_poison_events_in_one_batch() -> None:
    handler = Handler(poison=["a", "d", "e"])
    outcome = await handle_isolating(items(*"abcdef"), of_events(handler), QUICK)
    assert where(outcome.dead) == [(0, "handle"), (3, "handle"), (4, "handle")]
    assert handler.handled == ["b", "c", "f"]


async def test_a_transient_failure_retries_the_whole_batch() -> None:
    handler = Handler(transient=2)
    outcome = await handle_isolating(items("a", "b"), of_events(handler), QUICK)
    assert handler.batches == [["a", "b"]] * 3
    assert handler.handled == ["a", "b"]
    assert (outcome.dead, outcome.rewind_at) == ([], None)


async def test_a_transient_failure_past_the_budget_rewinds_never_drops() -> None:
    handler = Handler(transient=1000)
    outcome = await handle_isolating(items("a", "b"), of_events(handler), Retry(budget_s=0.3))
    assert (outcome.dead, outcome.rewind_at) == ([], 0)
    assert handler.handled == []


async def test_a_transient_failure_while_isolating_rewinds_from_there() -> None:
    class FailsLater(Handler):
        async def __call__(self, events: Any) -> None:
            if len(self.batches) == 2:  # the whole, then the left half; then the broker goes
                self.transient = 1000
            await super().__call__(events)

    handler = FailsLater(poison=["d"])
    outcome = await handle_isolating(items(*"abcd"), of_events(handler), NO_RETRY)
    assert handler.handled == ["a", "b"]
    assert (outcome.dead, outcome.rewind_at) == ([], 2)


# --- one partition's batch ---------------------------------------------------------------------


def step(handler: Handler, dead: DeadLetters, retry: Retry = QUICK) -> PartitionStep[Any]:
    return PartitionStep(
        event_type=SupplierDisclosureEvent,
        handle=of_events(handler),
        dead_letters=dead,
        retry=retry,
    )


async def test_everything_durable_moves_the_offset_past_the_batch() -> None:
    handler, dead = Handler(poison=["b"]), DeadLetters()
    outcome = await step(handler, dead)(
        records(["a", "b", "garbage", "c"], first=40), GuardState(GuardLimits())
    )
    assert handler.handled == ["a", "c"]
    assert dead.offsets == [41, 42]  # acknowledged before the step returned
    assert (outcome.commit, outcome.rewind, outcome.halted) == (44, None, None)
    assert (outcome.processed, outcome.rewound) == (2, 0)


async def test_the_guard_stops_at_the_record_that_would_cross_its_limit() -> None:
    handler, dead = Handler(), DeadLetters()
    limits = GuardLimits(max_consecutive=2)
    guard = GuardState(limits)
    outcome = await step(handler, dead)(
        records(["a", "garbage1", "garbage2", "garbage3", "b"]), guard
    )
    assert dead.offsets == [1, 2]
    assert (outcome.commit, outcome.rewind) == (3, 3)
    assert outcome.halted == "more than 2 dead letters in a row"
    assert outcome.rewound == 2
    assert guard.run == 0  # the caller's state is not changed; the outcome carries the new one
    assert outcome.guard.run == 2


async def test_dead_letters_that_cannot_be_sent_rewind_to_the_first_of_them() -> None:
    handler, dead = Handler(), DeadLetters(fail=1000)
    outcome = await step(handler, dead, Retry(budget_s=0.2))(
        records(["a", "garbage", "b", "garbage"], first=10), GuardState(GuardLimits())
    )
    assert handler.handled == ["a", "b"]
    assert dead.sent == []
    assert (outcome.commit, outcome.rewind, outcome.halted) == (11, 11, None)
    assert outcome.dead_letters == []


async def test_a_dead_letter_topic_that_refuses_for_good_halts() -> None:
    dead = DeadLetters(fail=1, error=MessageSizeTooLargeError())
    outcome = await step(Handler(), dead)(records(["garbage"]), GuardState(GuardLimits()))
    assert (outcome.commit, outcome.rewind) == (None, 0)
    assert outcome.halted is not None
    assert "refused" in outcome.halted


async def test_a_handler_down_past_its_budget_commits_nothing_of_the_batch() -> None:
    handler, dead = Handler(transient=1000), DeadLetters()
    outcome = await step(handler, dead, NO_RETRY)(
        records(["garbage", "a"], first=5), GuardState(GuardLimits())
    )
    # The undecodable record before the rewind point is durable as a dead letter.
    assert dead.offsets == [5]
    assert (outcome.commit, outcome.rewind) == (6, 6)


def test_an_upcaster_tripping_over_odd_bytes_is_the_records_fault() -> None:
    legacy = json.loads(encode(event("e-old")))
    legacy["dataversion"] = "1.0"
    legacy["type"] = "org.laboursight.findings.computed"
    legacy["data"] = {"findings": ["not an object"]}
    decoded, unreadable = decode([record(0, json.dumps(legacy).encode())], FindingsEvent)
    assert decoded == []
    assert where(unreadable) == [(0, "decode")]
    assert isinstance(unreadable[0].error, TypeError)
