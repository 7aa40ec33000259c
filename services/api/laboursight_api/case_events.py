"""The events of cases on ``cases.v1``, and how an unpublished one is kept in its case's document.

An event is serialised once, when its change is decided, and kept as those bytes until Kafka
acknowledged them, so every publication of it (the request's, or the relay's later) is the same
event. Its id derives from the case id and the revision (a dismissal's from the alert id), so a
consumer that sees it twice drops the second. Plain data, no I/O.
"""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from laboursight_schemas import topics
from laboursight_schemas.cases import ALERT_DISMISSED, CASE_CHANGED, AlertDismissed, CaseChanged
from laboursight_schemas.envelope import DATA_VERSIONS, Envelope, derived_event_id

from .events import SOURCE
from .outbox import OutboxRecord, outbox_record

Pending = dict[str, Any]
"""An event not yet acknowledged, as its document holds it: ``{id, key, correlation_id, value}``."""


def case_changed(
    tenant_id: str, correlation_id: str, change: CaseChanged
) -> tuple[str, OutboxRecord]:
    """(event id, record); the key is the case id."""
    event_id = derived_event_id("case-changed", change.case_id, str(change.revision))
    attributes = _attributes(CASE_CHANGED, event_id, tenant_id, correlation_id, change.at)
    event = Envelope[CaseChanged](**attributes, data=change)
    return event_id, outbox_record(topics.CASES, change.case_id, event)


def alert_dismissed(
    tenant_id: str, correlation_id: str, dismissed: AlertDismissed
) -> tuple[str, OutboxRecord]:
    """(event id, record); the key is the alert id."""
    event_id = derived_event_id("alert-dismissed", tenant_id, dismissed.alert_id)
    attributes = _attributes(ALERT_DISMISSED, event_id, tenant_id, correlation_id, dismissed.at)
    event = Envelope[AlertDismissed](**attributes, data=dismissed)
    return event_id, outbox_record(topics.CASES, dismissed.alert_id, event)


def _attributes(
    event_type: str, event_id: str, tenant_id: str, correlation_id: str, time: datetime
) -> dict[str, Any]:
    return {
        "id": event_id,
        "type": event_type,
        "data_version": DATA_VERSIONS[event_type],
        "source": SOURCE,
        "time": time,
        "tenant_id": tenant_id,
        "correlation_id": correlation_id,
    }


def pending(event_id: str, record: OutboxRecord) -> Pending:
    return {
        "id": event_id,
        "key": record.key,
        "correlation_id": record.disclosure_id,
        "value": record.value.decode(),
    }


def record_of(entry: Mapping[str, Any]) -> OutboxRecord:
    return OutboxRecord(
        entry["correlation_id"], topics.CASES, entry["key"], entry["value"].encode()
    )
