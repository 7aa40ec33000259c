"""One partition's batch through the steps: decode, handle, guard, dead letters; the outcome says
how far the partition's offset may move and where it must be fetched again."""

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic

from aiokafka import ConsumerRecord

from laboursight_runtime.dead_letters import DeadLetter, DeadLetterSink
from laboursight_runtime.failures import is_transient

from .decode import Reading, decode
from .guard import GuardState
from .handler import EventT, RecordsHandler
from .isolate import Isolated, handle_isolating
from .retry import Retry

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PartitionOutcome:
    """``commit``: the next offset to commit (everything before it is durable: handled or
    dead-lettered), ``None`` when nothing new is. ``rewind``: where to fetch again (``None``: go
    on). ``halted``: why the guard stopped the partition. ``guard``: its state after the
    committed records."""

    commit: int | None
    rewind: int | None
    halted: str | None
    guard: GuardState
    processed: int
    dead_letters: list[DeadLetter]
    rewound: int


@dataclass(frozen=True)
class _Walk:
    guard: GuardState
    admitted: list[DeadLetter]
    stop: int | None
    halted: str | None


class PartitionStep(Generic[EventT]):
    def __init__(
        self,
        *,
        event_type: Reading[EventT],
        handle: RecordsHandler[EventT],
        dead_letters: DeadLetterSink,
        retry: Retry,
    ) -> None:
        self._event_type = event_type
        self._handle = handle
        self._dead_letters = dead_letters
        self._retry = retry

    async def __call__(
        self, records: Sequence["ConsumerRecord[Any, Any]"], guard: GuardState
    ) -> PartitionOutcome:
        """``records``: one partition's, in offset order, not empty. ``guard`` is not changed.

        Guarantees: nothing at or after ``rewind`` has its dead letter published by this call;
        every dead letter before ``commit`` was acknowledged by the broker before this returns.
        """
        decoded, unreadable = decode(records, self._event_type)
        handled = await handle_isolating(decoded, self._handle, self._retry) if decoded else None
        isolated = handled or Isolated()
        failed = {letter.record.offset: letter for letter in unreadable + isolated.dead}
        walk = _walk(records, failed, isolated.rewind_at, guard)
        if walk.admitted:
            try:
                await self._retry(lambda: self._dead_letters.send_all(walk.admitted))
            except Exception as error:
                walk = self._unsent(records, walk, guard, error)
        stop = walk.stop
        return PartitionOutcome(
            commit=_commit_offset(records, stop),
            rewind=stop,
            halted=walk.halted,
            guard=walk.guard,
            processed=sum(1 for r in records if _before(r, stop) and r.offset not in failed),
            dead_letters=walk.admitted,
            rewound=sum(1 for r in records if not _before(r, stop)),
        )

    def _unsent(
        self,
        records: Sequence["ConsumerRecord[Any, Any]"],
        walk: _Walk,
        guard: GuardState,
        error: Exception,
    ) -> _Walk:
        """The dead letters could not be made durable: stop before the first of them. A broker
        that refuses them for good (not transiently) is our fault, so the partition halts."""
        first = walk.admitted[0].record.offset
        halted = walk.halted
        if not is_transient(error):
            halted = f"the dead-letter topic refused a record: {error!r}"
        log.error("dead letters not published, partition rewound", extra={"error": repr(error)})
        again = _walk(records, {}, first, guard)
        return _Walk(again.guard, [], first, halted)


def _before(record: "ConsumerRecord[Any, Any]", stop: int | None) -> bool:
    return stop is None or record.offset < stop


def _walk(
    records: Sequence["ConsumerRecord[Any, Any]"],
    failed: dict[int, DeadLetter],
    stop: int | None,
    guard: GuardState,
) -> _Walk:
    """The guard's verdict on each record in offset order, up to ``stop``."""
    state = guard.copy()
    admitted: list[DeadLetter] = []
    for record in records:
        if not _before(record, stop):
            break
        letter = failed.get(record.offset)
        if letter is None:
            state.passed(record.offset)
            continue
        reason = state.admit(record.offset)
        if reason is not None:
            return _Walk(state, admitted, record.offset, reason)
        admitted.append(letter)
    return _Walk(state, admitted, stop, None)


def _commit_offset(records: Sequence["ConsumerRecord[Any, Any]"], stop: int | None) -> int | None:
    upto = records[-1].offset + 1 if stop is None else stop
    return upto if upto > records[0].offset else None
