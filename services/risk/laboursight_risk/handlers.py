"""Recording a batch of findings and publishing the alert revisions it makes."""

from collections.abc import Sequence

from laboursight_runtime import tracing
from laboursight_runtime.kafka import BatchPublisher
from laboursight_schemas.envelope import Envelope
from laboursight_schemas.findings import FindingsComputed

from .documents import stored_now
from .fold import Screening, fold
from .outbox import OutboxEntry
from .store import RiskStore
from .unit_of_work import UnitOfWork
from .writing import Writer


class RecordFindings:
    """A batch handler: the findings events of one partition, in offset order.

    Guarantees (with those of ``writing.Writer``):

    - Atomic: the batch's findings, every profile it changes and every alert revision it makes
      (the alert, its status and its outbox) are written in one transaction, or nothing is.
    - Idempotent per event: a screening already recorded is skipped (checked for the whole
      batch in one query), so a redelivered batch, or one run again after a failure, changes
      nothing it already changed and publishes nothing new.
    - The alert revisions are those of the alert policy (alert_policy.py), published after the
      commit in order per alert, with any earlier revision of those alerts still unpublished.
    """

    def __init__(self, store: RiskStore, publisher: BatchPublisher) -> None:
        self._write = Writer(store, publisher)

    async def __call__(self, events: Sequence[Envelope[FindingsComputed]]) -> None:
        batch = [Screening(e.tenant_id, e.id, e.correlation_id, e.data) for e in events]

        async def record(uow: UnitOfWork) -> list[OutboxEntry]:
            now = stored_now()
            recorded = await uow.findings.recorded({s.key for s in batch})
            folded = await fold(batch, recorded, uow.entities.get, uow.alerts.get)
            await uow.findings.add(folded.recorded, now)
            await uow.entities.save(folded.profiles, now)
            left = await uow.alerts.save(
                folded.alert_states,
                [
                    OutboxEntry(
                        tenant_id=r.cause.tenant_id,
                        alert=r.alert.data,
                        source_event_id=r.cause.event_id,
                        correlation_id=r.cause.correlation_id,
                        at=now,
                        trace=tracing.for_event(r.cause.event_id),
                    )
                    for r in folded.alerts
                ],
            )
            await uow.commit()
            return left

        await self._write(record)
