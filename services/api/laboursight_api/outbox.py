"""An accepted disclosure as the api stores it: its status and its outbox entry in one document.

Accepting a disclosure is one journaled majority write of this document, holding the serialised
event and ``published: false``; Kafka hears of it afterwards (``handoff``, then ``relay``), so a
202 never depends on the broker. Plain data and decisions, no I/O.

``status`` moves ``accepted`` → ``screened`` (risk stored findings for it) or ``failed`` (its
event ended in a dead-letter topic). ``withdrawn`` is a tombstone with the same ``_id``: the
request that wrote it was answered 503, and the tombstone keeps a late copy of that write from
ever being stored or published.

A write is *void* when MongoDB stored it after its request's deadline (``stored_at``, MongoDB's
own clock, later than ``accepted_at`` + write timeout + clock skew): that request was answered 503
before the write landed, so the relay never publishes it and the status view never shows it.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final, Literal

from bson.timestamp import Timestamp

from laboursight_runtime import tracing
from laboursight_runtime.kafka import encode
from laboursight_schemas.envelope import Envelope

Status = Literal["accepted", "screened", "failed", "withdrawn"]

# An empty BSON timestamp in a top-level field of an insert is replaced by MongoDB with its
# current time: the moment the write was stored, on the server's clock.
SERVER_TIME: Final = Timestamp(0, 0)
# Re-drives back off exponentially from the screening deadline, up to this.
MAX_CHECK_INTERVAL: Final = timedelta(days=1)


@dataclass(frozen=True)
class OutboxRecord:
    """One event as it goes to Kafka: the bytes serialised once, when it was accepted.

    ``disclosure_id`` is also the event's correlation id (the FastStream ``correlation_id``
    header of the record). ``trace``: the event's trace context, stored beside it so that
    whoever publishes it, however late, publishes it in that trace.
    """

    disclosure_id: str
    topic: str
    key: str
    value: bytes
    trace: tracing.Carrier = field(default_factory=tracing.Carrier)


@dataclass(frozen=True)
class Timing:
    write_timeout: timedelta
    clock_skew: timedelta
    relay_delay: timedelta
    screening_deadline: timedelta

    def deadline(self, accepted_at: datetime) -> datetime:
        """When the request that accepted at ``accepted_at`` stops waiting for MongoDB."""
        return accepted_at + self.write_timeout


def outbox_record(topic: str, key: str, event: Envelope[Any]) -> OutboxRecord:
    return OutboxRecord(event.correlation_id, topic, key, encode(event), tracing.of_event(event))


def accepted_document(
    record: OutboxRecord,
    *,
    tenant_id: str,
    kind: str,
    entity_id: str,
    submitted_by: str,
    event_id: str,
    accepted_at: datetime,
    timing: Timing,
) -> dict[str, Any]:
    """The one document whose write accepts a disclosure."""
    return {
        "_id": record.disclosure_id,
        "tenant_id": tenant_id,
        "kind": kind,
        "entity_id": entity_id,
        "submitted_by": submitted_by,
        "event_id": event_id,
        "status": "accepted",
        "accepted_at": accepted_at,
        "stored_at": SERVER_TIME,
        "event": {
            "topic": record.topic,
            "key": record.key,
            "value": record.value.decode(),
            "trace": dict(record.trace),
        },
        "published": False,
        # Until then the request itself publishes it (hand-off); the relay waits.
        "lease_until": timing.deadline(accepted_at) + timing.relay_delay,
        "check_at": accepted_at + timing.screening_deadline,
        "redrives": 0,
    }


def record_of(document: Mapping[str, Any]) -> OutboxRecord:
    event = document["event"]
    return OutboxRecord(
        document["_id"],
        event["topic"],
        event["key"],
        event["value"].encode(),
        tracing.carrier(event.get("trace")),
    )


def tombstone(tenant_id: str, now: datetime) -> dict[str, Any]:
    """What a withdrawn disclosure's document becomes: no event, nothing to publish or show."""
    return {"tenant_id": tenant_id, "status": "withdrawn", "withdrawn_at": now}


def is_void(document: Mapping[str, Any], timing: Timing) -> bool:
    """True when MongoDB stored the document after its request had already answered 503."""
    stored = document.get("stored_at")
    if not isinstance(stored, Timestamp):  # written before the api kept the outbox
        return False
    deadline: datetime = timing.deadline(document["accepted_at"])
    return stored.as_datetime() > deadline + timing.clock_skew


def is_shown(document: Mapping[str, Any] | None, timing: Timing) -> bool:
    """True for a disclosure the api accepted: neither withdrawn nor void."""
    return (
        document is not None
        and document.get("status") != "withdrawn"
        and not is_void(document, timing)
    )


def next_check(now: datetime, deadline: timedelta, redrives: int) -> datetime:
    """When a disclosure re-driven now is looked at again: the screening deadline, doubled for
    each of its ``redrives`` before this one, and never more than a day (or the deadline)."""
    interval = deadline * (1 << min(redrives, 16))
    return now + min(interval, max(MAX_CHECK_INTERVAL, deadline))
