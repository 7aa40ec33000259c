"""Recording a batch of findings and raising its alerts."""

import asyncio
import logging
from collections.abc import Sequence

from pymongo.errors import PyMongoError
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_random

from laboursight_runtime.kafka import BatchPublisher
from laboursight_schemas.envelope import Envelope
from laboursight_schemas.findings import FindingsComputed

from .documents import stored_now
from .fold import Screening, fold
from .metrics import BATCH_CONFLICTS
from .outbox import OutboxEntry, deliver
from .store import RiskStore

CONFLICT_ATTEMPTS = 5

log = logging.getLogger(__name__)


class RecordFindings:
    """A batch handler: the findings events of one partition, in offset order.

    Guarantees:

    - Atomic: the batch's findings, every profile it changes and its alerts (the outbox) are
      written in one transaction, or nothing is.
    - Idempotent per event: a screening already recorded is skipped (checked for the whole
      batch in one query), so a redelivered batch, or one run again after a failure, changes
      nothing it already changed.
    - Returns once the transaction committed: every effect is durable then. A write conflict
      with another batch (of another risk instance) leaves nothing written; the whole batch is
      run again on the other's result, at once, up to ``CONFLICT_ATTEMPTS`` times, and then the
      transient error is raised for the pipeline to retry with its backoff.
    - Within one process, one batch at a time is in its transaction, whatever partition it
      comes from. The fold is CPU-bound, so concurrent transactions would overlap little more
      than their round trips, while meeting each other's writes on the recruiters their
      suppliers share: measured with six partitions, 7 batches in 25 ran again and the stage
      went at about 60 % of its serialised rate. Publishing still overlaps the next batch.
    - Alerts new in this batch are published right after the commit and marked published. If
      that fails, or the process dies first, they stay in the outbox and the relay publishes
      them; the event id derives from the alert id, so a publish repeated after a crash is
      delivered once.
    """

    def __init__(self, store: RiskStore, publisher: BatchPublisher) -> None:
        self._store = store
        self._publisher = publisher
        self._writing = asyncio.Lock()

    async def __call__(self, events: Sequence[Envelope[FindingsComputed]]) -> None:
        batch = [Screening(e.tenant_id, e.id, e.correlation_id, e.data) for e in events]
        fresh: list[OutboxEntry] = []
        async for attempt in AsyncRetrying(
            retry=retry_if_exception(_aborted),
            # Other instances share entities: a conflict is expected, and clears as soon as the
            # other batch commits, long before the pipeline's backoff would.
            wait=wait_random(0, 0.05),
            stop=stop_after_attempt(CONFLICT_ATTEMPTS),
            before_sleep=lambda _: BATCH_CONFLICTS.inc(),
            reraise=True,
        ):
            with attempt:
                async with self._writing:
                    fresh = await self._record(batch)
        try:
            await deliver(fresh, self._publisher, self._store.outbox)
        except Exception as error:
            # Committed is durable: what is left unpublished is the relay's to publish.
            log.warning(
                "alerts left to the outbox relay",
                extra={"alerts": len(fresh), "error": repr(error)},
            )

    async def _record(self, batch: Sequence[Screening]) -> list[OutboxEntry]:
        """The batch in one transaction; returns the alerts new in the outbox."""
        now = stored_now()
        async with self._store.unit_of_work() as uow:
            recorded = await uow.findings.recorded({s.key for s in batch})
            folded = await fold(batch, recorded, uow.entities.get)
            await uow.findings.add(folded.recorded, now)
            await uow.entities.save(folded.profiles, now)
            fresh = await uow.outbox.add(
                [
                    OutboxEntry(
                        tenant_id=r.cause.tenant_id,
                        alert=r.alert,
                        source_event_id=r.cause.event_id,
                        correlation_id=r.cause.correlation_id,
                        raised_at=now,
                    )
                    for r in folded.alerts
                ]
            )
            await uow.commit()
        return fresh


def _aborted(error: BaseException) -> bool:
    """A transaction the database aborted (a write conflict): worth running again at once."""
    return isinstance(error, PyMongoError) and error.has_error_label("TransientTransactionError")
