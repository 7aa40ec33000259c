"""Applying the analysts' case work (cases.v1) to the alerts risk owns: their status."""

from collections.abc import Sequence

from laboursight_runtime import tracing
from laboursight_runtime.kafka import BatchPublisher
from laboursight_schemas.cases import (
    AlertDismissed,
    AlertDismissedEvent,
    CaseChanged,
    CaseChangedEvent,
)
from laboursight_schemas.upcasting import Readable

from .alert_cases import CaseStep, Dismissal, covered, on_case, on_dismissed
from .alerts import Alert
from .documents import stored_now
from .fold import AlertKey, EntityRef
from .outbox import OutboxEntry
from .store import RiskStore
from .unit_of_work import UnitOfWork
from .writing import Writer

CaseEvent = CaseChangedEvent | AlertDismissedEvent
CASE_EVENTS: Readable[CaseEvent] = (CaseChangedEvent, AlertDismissedEvent)


class UnknownAlert(ValueError):
    """A case event names an alert risk does not hold in the event's tenant: no retry will find
    it, so the event is dead-lettered (visibly) rather than applied to part of its alerts."""


class RecordCaseEvents:
    """A batch handler: the ``CaseChanged`` and ``AlertDismissed`` events of one partition, in
    offset order, applied to the alerts they name (alert_cases.py).

    Guarantees (with those of ``writing.Writer``):

    - Atomic: every alert the batch changes, and its revisions (the outbox), are written in one
      transaction, or nothing is; the revisions are published after the commit, in order.
    - Idempotent and order-tolerant per alert: a case change not newer than the last one applied
      from its case, or a dismissal already applied, changes nothing, so a redelivered batch
      publishes nothing new.
    - An event naming an alert the tenant does not have fails with ``UnknownAlert``; the
      pipeline dead-letters that event alone and applies the others.
    """

    def __init__(self, store: RiskStore, publisher: BatchPublisher) -> None:
        self._write = Writer(store, publisher)

    async def __call__(self, events: Sequence[CaseEvent]) -> None:
        async def record(uow: UnitOfWork) -> list[OutboxEntry]:
            now = stored_now()
            named = [(e, (e.tenant_id, alert_id)) for e in events for alert_id in _named(e)]
            alerts = await uow.alerts.get({key for _, key in named})
            missing = sorted(
                {alert_id for _, (t, alert_id) in named if (t, alert_id) not in alerts}
            )
            if missing:
                raise UnknownAlert(f"no such alert in the event's tenant: {', '.join(missing)}")
            profiles = await uow.entities.get(
                {_entity(alerts[key]) for e, key in named if _closing(e)}
            )
            touched: dict[AlertKey, Alert] = {}
            revisions: list[OutboxEntry] = []
            for event, key in named:
                current = touched.get(key) or alerts[key]
                if isinstance(event.data, CaseChanged):
                    covering = covered(current.data.alert_type, profiles.get(_entity(current)))
                    new = on_case(current, _step(event.data), covering)
                else:
                    new = on_dismissed(current, _dismissal(event.id, event.data))
                if new is None:
                    continue
                touched[key] = new
                if new.revision > current.revision:
                    revisions.append(
                        OutboxEntry(
                            event.tenant_id,
                            new.data,
                            event.id,
                            event.correlation_id,
                            now,
                            tracing.for_event(event.id),
                        )
                    )
            left = await uow.alerts.save(list(touched.values()), revisions)
            await uow.commit()
            return left

        await self._write(record)


def _named(event: CaseEvent) -> list[str]:
    data = event.data
    return list(dict.fromkeys(data.alert_ids)) if isinstance(data, CaseChanged) else [data.alert_id]


def _closing(event: CaseEvent) -> bool:
    return isinstance(event.data, CaseChanged) and event.data.status == "closed"


def _entity(alert: Alert) -> EntityRef:
    return (alert.tenant_id, alert.data.entity_kind, alert.data.entity_id)


def _step(case: CaseChanged) -> CaseStep:
    return CaseStep(
        case_id=case.case_id,
        revision=case.revision,
        action=case.action,
        closed=case.status == "closed",
        actor=case.actor,
    )


def _dismissal(event_id: str, dismissed: AlertDismissed) -> Dismissal:
    return Dismissal(event_id=event_id, actor=dismissed.actor, reason=dismissed.reason)
