"""The outbox relay: publishes alerts that nothing published, without waiting for anything to
be delivered again.

Guarantees, while the relay runs:

- Every alert revision committed to the outbox is published: an alert with a revision still
  unpublished ``grace_s`` after it was made (its handler crashed between commit and publish, or
  the broker failed it) has its unpublished revisions published in order and marked, and tried
  again every ``interval_s`` until that succeeds. It never depends on the source event being
  redelivered, which a broker that lost its memory would never do.
- The grace keeps the relay off the revisions a handler is publishing right after its commit.
  Several relays (one per risk instance), or a relay and a slow handler, may publish the same
  revision: its event is the same each time (outbox.py), so notify delivers it once.
- A broker that loses records it acknowledged (memory storage restarted, a log truncated) is
  noticed on the next run by an end offset of alerts.v1 going back (broker_log.py): every alert
  published in the ``redrive_s`` before is marked unpublished and published again, every
  revision in order. It may be one notify already delivered; notify delivers an event id once.
- The backlog (``laboursight_alert_outbox_backlog``) is counted on every run.
"""

import contextlib
import logging
from datetime import UTC, datetime, timedelta

from laboursight_runtime.kafka import BatchPublisher
from laboursight_runtime.periodic import Periodic

from .broker_log import BrokerLog
from .metrics import OUTBOX_BACKLOG, OUTBOX_REDRIVEN, OUTBOX_RELAYED
from .outbox import Unpublished, alerts_in, deliver

log = logging.getLogger(__name__)


class OutboxRelay:
    def __init__(
        self,
        outbox: Unpublished,
        publisher: BatchPublisher,
        log: BrokerLog,
        *,
        grace_s: float = 5.0,
        interval_s: float = 1.0,
        page: int = 500,
        redrive_s: float = 300.0,
    ) -> None:
        self._outbox = outbox
        self._publisher = publisher
        self._log = log
        self._ends: dict[int, int] = {}
        self._redrive = timedelta(seconds=redrive_s)
        self._grace = timedelta(seconds=grace_s)
        self._page = page
        self._periodic = Periodic("outbox relay", interval_s, self.relay_once)

    async def relay_once(self) -> int:
        """Publish every revision past its grace now, a page of alerts at a time; returns how
        many revisions."""
        try:
            await self._check_log()
        except Exception as error:
            # The offsets last read are kept, so a loss is still seen once the broker answers.
            log.warning("alert log unreadable", extra={"error": repr(error)})
        backlog = await self._outbox.backlog()
        OUTBOX_BACKLOG.set(backlog)
        relayed = 0
        while backlog:
            stale = await self._outbox.older_than(datetime.now(UTC) - self._grace, self._page)
            await deliver(stale, self._publisher, self._outbox)
            OUTBOX_RELAYED.inc(len(stale))
            relayed += len(stale)
            if alerts_in(stale) < self._page:
                break
        if relayed:
            log.warning(
                "outbox relay published alert revisions left unpublished",
                extra={"revisions": relayed},
            )
            # So that a loss of what this run published is seen on the next.
            with contextlib.suppress(Exception):
                self._ends = await self._log.end_offsets()
        return relayed

    async def _check_log(self) -> None:
        ends = await self._log.end_offsets()
        lost = {p: (end, ends.get(p, 0)) for p, end in self._ends.items() if ends.get(p, 0) < end}
        if lost:
            # Marked before the new offsets are kept: if marking fails, the next run sees the
            # same loss and marks again.
            again = await self._outbox.republish(datetime.now(UTC) - self._redrive)
            OUTBOX_REDRIVEN.inc(again)
            log.warning(
                "the broker lost acknowledged alerts; published ones re-driven",
                extra={"partitions": lost, "alerts": again},
            )
        self._ends = ends

    async def start(self) -> None:
        await self._periodic.start()

    async def stop(self) -> None:
        await self._periodic.stop()
        await self._log.close()
