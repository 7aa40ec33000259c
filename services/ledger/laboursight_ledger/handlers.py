"""Appending a partition's batch of events to the tenants' chains."""

from collections.abc import Sequence

from pymongo.errors import DuplicateKeyError, PyMongoError
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_random

from laboursight_runtime.failures import Contended
from laboursight_runtime.pipeline import Decoded
from laboursight_schemas.envelope import now

from .metrics import APPENDED, CONFLICTS
from .reading import Recorded
from .store import Arrival, ChainMoved, Ledger

CONFLICT_ATTEMPTS = 8


class AppendEvents:
    """A records handler: one partition's events, in offset order.

    Guarantees:

    - Returns once the batch is in the ledger (one transaction for the batch, whatever tenants it
      holds), so the offsets committed after it never pass an event the ledger lacks.
    - Idempotent: a redelivered event appends nothing (the store dedupes on the event id).
    - Within a partition the chain keeps offset order; across partitions and topics, a tenant's
      chain holds events in the order the appends committed.
    - Another process appending to the same chain at once aborts one of the two transactions;
      the aborted batch runs again at once on the new head, up to ``CONFLICT_ATTEMPTS`` times,
      then the error goes to the pipeline as a transient one (``Contended``, or MongoDB's
      labelled write conflict): retried with backoff, rewound after its budget, never
      dead-lettered, so no event is left out of its chain for losing races.
    """

    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger

    async def __call__(self, items: Sequence[Decoded[Recorded]]) -> None:
        await self.append_all(
            [
                Arrival(
                    tenant_id=item.event.tenant_id,
                    event_id=item.event.id,
                    topic=item.record.topic,
                    partition=item.record.partition,
                    offset=item.record.offset,
                    event=item.record.value,
                )
                for item in items
            ]
        )

    async def append_all(self, arrivals: Sequence[Arrival]) -> None:
        try:
            async for attempt in AsyncRetrying(
                retry=retry_if_exception(_conflict),
                wait=wait_random(0, 0.05),
                stop=stop_after_attempt(CONFLICT_ATTEMPTS),
                before_sleep=lambda _: CONFLICTS.inc(),
                reraise=True,
            ):
                with attempt:
                    written = await self._ledger.append(arrivals, now())
        except (ChainMoved, DuplicateKeyError) as error:
            raise Contended(f"{CONFLICT_ATTEMPTS} appends in a row lost the race") from error
        APPENDED.inc(written)


def _conflict(error: BaseException) -> bool:
    """Another append won the race for a head: a write conflict, or a duplicate sequence
    number or head that the snapshot could not see yet."""
    if isinstance(error, (ChainMoved, DuplicateKeyError)):
        return True
    return isinstance(error, PyMongoError) and error.has_error_label("TransientTransactionError")
