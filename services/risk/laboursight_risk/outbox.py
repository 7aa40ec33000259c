"""The alert outbox: alerts recorded in the transaction that raised them, published after it.

An entry holds everything its event is made of, so the event published for it is the same
every time, whoever publishes it (the handler right after the commit, or the relay later): its
id derives from the alert id and its time is the time the alert was raised. A repeated publish
therefore carries the same event id, and notify delivers it once.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from laboursight_runtime.kafka import BatchPublisher
from laboursight_schemas import topics
from laboursight_schemas.envelope import ALERT_RAISED, DATA_VERSIONS, Envelope, derived_event_id
from laboursight_schemas.findings import AlertRaised

SOURCE = "/laboursight/risk"


@dataclass(frozen=True)
class OutboxEntry:
    tenant_id: str
    alert: AlertRaised
    source_event_id: str
    correlation_id: str
    raised_at: datetime

    def event(self) -> Envelope[AlertRaised]:
        return Envelope[AlertRaised](
            id=derived_event_id("alert-raised", self.alert.alert_id),
            type=ALERT_RAISED,
            data_version=DATA_VERSIONS[ALERT_RAISED],
            source=SOURCE,
            time=self.raised_at,
            tenant_id=self.tenant_id,
            correlation_id=self.correlation_id,
            data=self.alert,
        )


class Unpublished(Protocol):
    """The outbox outside a unit of work: what is still to publish, and the marks once it is."""

    async def older_than(self, cutoff: datetime, limit: int) -> list[OutboxEntry]:
        """Unpublished entries raised before ``cutoff``, oldest first, across every tenant."""
        ...

    async def mark_published(self, entries: Sequence[OutboxEntry]) -> None: ...

    async def republish(self, published_since: datetime) -> int:
        """Marks the entries published since then unpublished again (the broker lost them);
        returns how many."""
        ...

    async def backlog(self) -> int:
        """How many entries are unpublished."""
        ...


async def deliver(
    entries: Sequence[OutboxEntry], publisher: BatchPublisher, outbox: Unpublished
) -> None:
    """Publish ``entries``, all sent before any is awaited, then mark them published at once.

    Raises what publishing or marking raised; the entries then stay unpublished (or are marked
    later), for the relay to publish again.
    """
    if not entries:
        return
    await publisher.publish_all([(topics.ALERTS, e.alert.entity_id, e.event()) for e in entries])
    await outbox.mark_published(entries)
