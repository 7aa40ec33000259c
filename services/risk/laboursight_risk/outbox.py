"""The alert outbox: every revision of an alert, recorded in the transaction that made it and
published after it.

An entry is one revision and holds everything its event is made of, so the event published for
it is the same every time, whoever publishes it (a handler right after its commit, or the relay
later): its id derives from the alert id and the revision (revision 0, ``AlertRaised``:
``derived_event_id("alert-raised", alert_id)``; revision n, ``AlertUpdated``:
``derived_event_id("alert-updated", alert_id, "n")``) and its time is the revision's. A repeated
publish therefore carries the same event id, and notify delivers it once.

Order per alert: whoever publishes a revision publishes every unpublished revision before it
first, in order, in one batch under the alert's key (one partition). Two publishers racing on
one alert (two handlers, or a handler and the relay) may repeat a revision after a later one,
but a revision's first copy always comes after the first copies of those before it, and a
repeated copy has the event id a consumer already saw.

An entry also keeps the trace context of the findings (or case event) that made it (``trace``),
so its event continues that trace whoever publishes it, and however late.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from laboursight_runtime import tracing
from laboursight_runtime.kafka import BatchPublisher
from laboursight_schemas import topics
from laboursight_schemas.envelope import (
    ALERT_RAISED,
    ALERT_UPDATED,
    DATA_VERSIONS,
    Envelope,
    derived_event_id,
)
from laboursight_schemas.findings import AlertRaised, AlertUpdated

SOURCE = "/laboursight/risk"


@dataclass(frozen=True)
class OutboxEntry:
    tenant_id: str
    alert: AlertRaised | AlertUpdated
    source_event_id: str
    correlation_id: str
    at: datetime
    trace: tracing.Carrier = field(default_factory=tracing.Carrier)

    @property
    def revision(self) -> int:
        return self.alert.revision if isinstance(self.alert, AlertUpdated) else 0

    @property
    def event_id(self) -> str:
        if isinstance(self.alert, AlertUpdated):
            return derived_event_id("alert-updated", self.alert.alert_id, str(self.revision))
        return derived_event_id("alert-raised", self.alert.alert_id)

    def event(self) -> Envelope[Any]:
        kind = ALERT_UPDATED if isinstance(self.alert, AlertUpdated) else ALERT_RAISED
        fields = {
            "id": self.event_id,
            "type": kind,
            "data_version": DATA_VERSIONS[kind],
            "source": SOURCE,
            "time": self.at,
            "tenant_id": self.tenant_id,
            "correlation_id": self.correlation_id,
            **self.trace,
        }
        if isinstance(self.alert, AlertUpdated):
            return Envelope[AlertUpdated](**fields, data=self.alert)
        return Envelope[AlertRaised](**fields, data=self.alert)


class Unpublished(Protocol):
    """The outbox outside a unit of work: what is still to publish, and the marks once it is."""

    async def older_than(self, cutoff: datetime, limit: int) -> list[OutboxEntry]:
        """The unpublished revisions of up to ``limit`` alerts whose oldest unpublished revision
        is older than ``cutoff``, across every tenant: oldest alert first, each alert's
        revisions in order."""
        ...

    async def mark_published(self, entries: Sequence[OutboxEntry]) -> None:
        """Each alert of ``entries`` published up to its highest revision among them."""
        ...

    async def republish(self, published_since: datetime) -> int:
        """Marks the alerts published since then unpublished again, from their first revision
        (the broker lost them); returns how many."""
        ...

    async def backlog(self) -> int:
        """How many alerts have a revision unpublished."""
        ...


async def deliver(
    entries: Sequence[OutboxEntry], publisher: BatchPublisher, outbox: Unpublished
) -> None:
    """Publish ``entries`` (each alert's in revision order), all sent before any is awaited,
    then mark them published at once.

    Raises what publishing or marking raised; the entries then stay unpublished (or are marked
    later), for the relay to publish again.
    """
    if entries:
        await publish(entries, publisher)
        await outbox.mark_published(entries)


async def publish(entries: Sequence[OutboxEntry], publisher: BatchPublisher) -> None:
    """Publish ``entries`` under their entity's key, each alert's in revision order."""
    await publisher.publish_all([(topics.ALERTS, e.alert.entity_id, e.event()) for e in entries])


def alerts_in(entries: Sequence[OutboxEntry]) -> int:
    return len({(e.tenant_id, e.alert.alert_id) for e in entries})
