"""The relay: publishes every accepted disclosure that is still unpublished past its lease.

That covers whatever the hand-off did not publish (broker down, queue full, api killed) and
what the sweeper puts back. Several api replicas may run it: each batch is claimed with a lease
(``DisclosureStore.claim``), so an entry is published by one relay at a time. A relay that
outlives its lease, or dies between the acknowledgement and the mark, lets the entry be published
again: that is a duplicate event id, which every consumer drops. Nothing is ever lost.
"""

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from .bus import EventBus
from .disclosure_store import DisclosureStore
from .metrics import OUTBOX_BACKLOG, OUTBOX_VOIDED
from .outbox import Timing, is_void, record_of
from .publishing import publish_and_mark

log = logging.getLogger(__name__)


class Relay:
    def __init__(
        self,
        bus: EventBus,
        store: DisclosureStore,
        timing: Timing,
        now: Callable[[], datetime],
        *,
        lease: timedelta,
        batch: int,
    ) -> None:
        self._bus = bus
        self._store = store
        self._timing = timing
        self._now = now
        self._lease = lease
        self._batch = batch

    async def run_once(self) -> int:
        """Publish what is due, a batch at a time, until a batch fails or nothing is left;
        returns how many entries Kafka acknowledged."""
        published = 0
        while True:
            token, claimed = await self._store.claim(self._now(), self._lease, self._batch)
            void = [document for document in claimed if is_void(document, self._timing)]
            if void:
                await self._store.void(void, self._now())
                OUTBOX_VOIDED.inc(len(void))
                log.warning("late writes voided", extra={"ids": [d["_id"] for d in void]})
            records = [record_of(d) for d in claimed if not is_void(d, self._timing)]
            failed = await publish_and_mark(
                self._bus,
                self._store,
                records,
                now=self._now,
                timing=self._timing,
                path="relay",
                token=token,
            )
            await self._store.release(token, failed, self._now())
            published += len(records) - len(failed)
            if failed or len(claimed) < self._batch:
                OUTBOX_BACKLOG.set(await self._store.backlog())
                return published
