"""Publishing case events: the request's own attempt right after its write, and the relay for
whatever that attempt did not publish.

The request's attempt (``offer``) is best effort and never delays its answer; the write left
the events pending in MongoDB with a lease (``hold``), and past it the relay publishes what is
still pending: a broker fault, an api killed after its write. Several api processes may relay:
each document is claimed by one at a time (``CaseStore.claim``). An event published twice (a
relay that outlived its lease, a crash between the acknowledgement and the mark) is the same
event, with the same id, which consumers drop; and risk applies a case's revisions in order of
their number whatever order they arrive in. Nothing pending is ever lost.
"""

import asyncio
import contextvars
import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from .bus import EventBus
from .case_events import Pending, record_of
from .case_store import CaseStore

log = logging.getLogger(__name__)


async def publish(
    bus: EventBus, store: CaseStore, document_id: str, entries: Sequence[Pending]
) -> bool:
    """Publish ``entries`` and drop those Kafka acknowledged from the document's outbox; True
    when it acknowledged every one."""
    outcomes = await bus.send([record_of(entry) for entry in entries])
    done = [entry["id"] for entry, outcome in zip(entries, outcomes, strict=True) if not outcome]
    await store.mark_published(document_id, done)
    if len(done) < len(entries):
        first = next(outcome for outcome in outcomes if outcome)
        log.warning(
            "kafka did not acknowledge case events; left to the relay",
            extra={"document": document_id, "error": repr(first)},
        )
    return len(done) == len(entries)


class CasePublisher:
    def __init__(
        self,
        bus: EventBus,
        store: CaseStore,
        now: Callable[[], datetime],
        *,
        hold: timedelta,
        lease: timedelta,
    ) -> None:
        self._bus = bus
        self._store = store
        self._now = now
        self._hold = hold
        self._lease = lease
        self._pending: set[asyncio.Task[None]] = set()

    def lease_until(self, written_at: datetime) -> datetime:
        """Until when the request that writes at ``written_at`` publishes its own events."""
        return written_at + self._hold

    def offer(self, document_id: str, entries: Sequence[Pending]) -> None:
        """Publish the events just written, without waiting."""
        # In a context of its own: the request's ends with its answer.
        task = asyncio.create_task(
            self._publish(document_id, entries), context=contextvars.Context()
        )
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def settled(self) -> None:
        """Returns once every publication offered so far has finished."""
        await asyncio.gather(*self._pending, return_exceptions=True)

    async def relay_once(self) -> int:
        """Publish every document's events pending past its lease, until a publish fails or none
        is left; returns how many events Kafka acknowledged."""
        published = 0
        while (document := await self._store.claim(self._now(), self._lease)) is not None:
            entries = document["pending"]
            if not await publish(self._bus, self._store, document["_id"], entries):
                await self._store.release(document, self._now())
                return published
            published += len(entries)
        if published:
            log.warning("case events left unpublished were relayed", extra={"events": published})
        return published

    async def _publish(self, document_id: str, entries: Sequence[Pending]) -> None:
        try:
            await publish(self._bus, self._store, document_id, entries)
        except Exception as error:
            log.warning("case events left to the relay", extra={"error": repr(error)})
