"""Risk's MongoDB documents: what each collection holds, to and from the domain's objects."""

from datetime import UTC, date, datetime
from typing import Any

from laboursight_schemas.collections import entity_key
from laboursight_schemas.findings import AlertRaised

from .fold import Screening, screening_id
from .outbox import OutboxEntry
from .profile import Inheritance, Link, Own, Profile


def stored_now() -> datetime:
    """Now, to the millisecond MongoDB keeps: a time reads back exactly as it was written, so
    an outbox entry's event is the same before and after a round trip through the database."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def profile_document(p: Profile, now: datetime) -> dict[str, Any]:
    # The effective level, score and explanation are stored beside the parts they derive
    # from, so the document reads (and is indexed) without the code.
    return {
        "_id": entity_key(p.tenant_id, p.entity_kind, p.entity_id),
        "tenant_id": p.tenant_id,
        "entity_kind": p.entity_kind,
        "entity_id": p.entity_id,
        "risk_level": p.risk_level,
        "score": p.score,
        "explanation": p.explanation,
        # vars(), not dataclasses.asdict: the parts are flat but for one link, and asdict's
        # deep copy was the larger part of a batch's time.
        "own": None
        if p.own is None
        else {**vars(p.own), "period_end": p.own.period_end.isoformat()},
        "inherited": [{**vars(i), "link": vars(i.link)} for i in p.inherited],
        "links": [vars(k) for k in p.links],
        "version": p.version,
        "updated_at": now,
    }


def profile(doc: dict[str, Any]) -> Profile:
    own = doc["own"]
    return Profile(
        tenant_id=doc["tenant_id"],
        entity_kind=doc["entity_kind"],
        entity_id=doc["entity_id"],
        own=None
        if own is None
        else Own(
            **{
                **own,
                "period_end": date.fromisoformat(own["period_end"]),
                "indicators": tuple(own["indicators"]),
            }
        ),
        links=tuple(Link(**k) for k in doc["links"]),
        inherited=tuple(
            Inheritance(**{**i, "indicators": tuple(i["indicators"]), "link": Link(**i["link"])})
            for i in doc["inherited"]
        ),
        version=doc["version"],
    )


def findings_document(s: Screening, now: datetime) -> dict[str, Any]:
    """The screening as screening computed it, with the tenant and the event that carried it;
    the api reads a disclosure's findings (and so its status) by ``disclosure_id``."""
    return {
        **s.computed.model_dump(mode="json"),
        "_id": screening_id(s.computed),
        "tenant_id": s.tenant_id,
        "event_id": s.event_id,
        "computed_at": now,
    }


def outbox_document(e: OutboxEntry) -> dict[str, Any]:
    """An alert, unpublished; ``_id`` is the alert id, which derives from the dedupe key."""
    return {
        "_id": e.alert.alert_id,
        "tenant_id": e.tenant_id,
        "dedupe_key": e.alert.dedupe_key,
        "source_event_id": e.source_event_id,
        "correlation_id": e.correlation_id,
        "status": "open",
        "published": False,
        "raised_at": e.raised_at,
        "alert": e.alert.model_dump(mode="json"),
    }


def outbox_entry(doc: dict[str, Any]) -> OutboxEntry:
    raised_at: datetime = doc["raised_at"]
    return OutboxEntry(
        tenant_id=doc["tenant_id"],
        alert=AlertRaised.model_validate(doc["alert"]),
        source_event_id=doc["source_event_id"],
        correlation_id=doc["correlation_id"],
        # A client without tz_aware reads UTC times back naive.
        raised_at=raised_at.replace(tzinfo=UTC) if raised_at.tzinfo is None else raised_at,
    )
