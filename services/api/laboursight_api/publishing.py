"""Publishing outbox entries: send a batch, wait for it, mark what Kafka acknowledged.

The hand-off is the fast path: the request that accepted a disclosure gives its record to it
and answers at once. It is best effort by design; the relay (``relay``) is the guarantee.
"""

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import datetime

from .bus import EventBus
from .disclosure_store import DisclosureStore
from .metrics import OUTBOX_PUBLISHED
from .outbox import OutboxRecord, Timing

log = logging.getLogger(__name__)


async def publish_and_mark(
    bus: EventBus,
    store: DisclosureStore,
    records: Sequence[OutboxRecord],
    *,
    now: Callable[[], datetime],
    timing: Timing,
    path: str,
    token: str | None = None,
) -> list[str]:
    """Publish ``records``, mark the acknowledged ones published; returns the ids that were not.

    Marked only after the acknowledgement, so a crash in between publishes again, never loses.
    """
    outcomes = await bus.send(records)
    done = [r.disclosure_id for r, outcome in zip(records, outcomes, strict=True) if not outcome]
    failed = [r.disclosure_id for r, outcome in zip(records, outcomes, strict=True) if outcome]
    if failed:
        first = next(outcome for outcome in outcomes if outcome)
        log.warning(
            "kafka did not acknowledge; left to the relay",
            extra={"records": len(failed), "error": repr(first), "path": path},
        )
    moment = now()
    await store.mark_published(done, moment, moment + timing.screening_deadline, token)
    OUTBOX_PUBLISHED.labels(path).inc(len(done))
    return failed


class Handoff:
    """Publishes what was just accepted, in batches of whatever queued up meanwhile.

    Never blocks a request: a full queue, a broker fault, a failed mark or a crash leaves the
    entries unpublished in MongoDB, where the relay finds them after ``Timing.relay_delay``.
    """

    def __init__(
        self,
        bus: EventBus,
        store: DisclosureStore,
        timing: Timing,
        now: Callable[[], datetime],
        *,
        max_batch: int = 500,
        max_queued: int = 10_000,
    ) -> None:
        self._bus = bus
        self._store = store
        self._timing = timing
        self._now = now
        self._max_batch = max_batch
        self._queue: asyncio.Queue[OutboxRecord] = asyncio.Queue(max_queued)

    def offer(self, record: OutboxRecord) -> None:
        try:
            self._queue.put_nowait(record)
        except asyncio.QueueFull:
            # Once per request while Kafka is slow: the backlog gauge is the operator's signal.
            log.debug("hand-off queue full; left to the relay", extra={"id": record.disclosure_id})

    async def run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self._max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await publish_and_mark(
                    self._bus,
                    self._store,
                    batch,
                    now=self._now,
                    timing=self._timing,
                    path="handoff",
                )
            except Exception as error:
                log.warning("hand-off failed; left to the relay", extra={"error": repr(error)})
            finally:
                for _ in batch:
                    self._queue.task_done()

    async def idle(self) -> None:
        """Returns once every record offered so far has been dealt with."""
        await self._queue.join()
