"""Recording findings and raising alerts."""

from functools import partial

from laboursight_runtime.kafka import Publisher
from laboursight_schemas import topics
from laboursight_schemas.envelope import (
    ALERT_RAISED,
    DATA_VERSIONS,
    Envelope,
    derived_event_id,
    now,
)
from laboursight_schemas.findings import AlertRaised, FindingsComputed

from .propagation import settle
from .store import RiskStore

SOURCE = "/laboursight/risk"


class RecordFindings:
    """Persist, then publish what the outbox holds for this event: the entity's own alert and
    those of the suppliers its recruitment-chain links escalate.

    The outbox is drained on every delivery of the event, so a crash after the commit is
    repaired by the redelivery; the alert event id is derived from the alert id, so a publish
    repeated after a crash carries the same id and notify delivers it once.
    """

    def __init__(self, store: RiskStore, publisher: Publisher) -> None:
        self._store = store
        self._publisher = publisher

    async def __call__(self, event: Envelope[FindingsComputed]) -> None:
        await self._store.record(
            event.tenant_id,
            event.id,
            event.data,
            partial(settle, tenant_id=event.tenant_id, computed=event.data),
        )
        for alert in await self._store.unpublished_alerts(event.tenant_id, event.id):
            await self._publisher.publish(topics.ALERTS, alert.entity_id, alert_event(alert, event))
            await self._store.mark_published(event.tenant_id, alert.alert_id)


def alert_event(alert: AlertRaised, cause: Envelope[FindingsComputed]) -> Envelope[AlertRaised]:
    return Envelope[AlertRaised](
        id=derived_event_id("alert-raised", alert.alert_id),
        type=ALERT_RAISED,
        data_version=DATA_VERSIONS[ALERT_RAISED],
        source=SOURCE,
        time=now(),
        tenant_id=cause.tenant_id,
        correlation_id=cause.correlation_id,
        data=alert,
    )
