"""The sweeper: a disclosure published but not screened by the deadline is published again.

Screened means risk stored findings for it (``findings_view``); the sweeper then records
``screened`` so that it looks no further. Otherwise the same event goes back into the outbox for
the relay: every consumer is idempotent on the event id, so a re-drive of an event that was
only slow changes nothing downstream. Each disclosure is re-driven by one sweeper at a time (the
write is conditional on the check time it read), and less often each time (``next_check``).
A disclosure marked ``failed`` (dead-lettered) is not re-driven.
"""

import logging
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta

from .disclosure_store import DisclosureStore, Redrive
from .findings_view import FindingsView
from .metrics import AWAITING_SCREENING, REDRIVEN
from .outbox import next_check

log = logging.getLogger(__name__)


class Sweeper:
    def __init__(
        self,
        store: DisclosureStore,
        findings: FindingsView,
        now: Callable[[], datetime],
        *,
        deadline: timedelta,
        batch: int,
    ) -> None:
        self._store = store
        self._findings = findings
        self._now = now
        self._deadline = deadline
        self._batch = batch

    async def run_once(self) -> int:
        """Look at every disclosure past its check time; returns how many were re-driven."""
        redriven = 0
        while True:
            now = self._now()
            due = await self._store.due_for_check(now, self._batch)
            by_tenant: dict[str, list[str]] = defaultdict(list)
            for document in due:
                by_tenant[document["tenant_id"]].append(document["_id"])
            screened: set[str] = set()
            for tenant_id, ids in by_tenant.items():
                screened |= await self._findings.screened(tenant_id, ids)
            await self._store.mark_screened(screened, now)
            count = await self._store.redrive(
                [
                    Redrive(d["_id"], d["check_at"], next_check(now, self._deadline, d["redrives"]))
                    for d in due
                    if d["_id"] not in screened
                ],
                now,
            )
            if count:
                log.warning("disclosures not screened in time, re-driven", extra={"count": count})
            REDRIVEN.inc(count)
            redriven += count
            if len(due) < self._batch:
                within, late = await self._store.awaiting_screening()
                AWAITING_SCREENING.labels("within_deadline").set(within)
                AWAITING_SCREENING.labels("redriven").set(late)
                return redriven
