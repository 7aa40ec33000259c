"""Risk's MongoDB documents: what each collection holds, to and from the domain's objects."""

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from laboursight_runtime import tracing
from laboursight_schemas.collections import entity_key
from laboursight_schemas.entities import SourceContradiction
from laboursight_schemas.findings import AlertRaised, AlertUpdated

from .alerts import Alert
from .fold import Screening, screening_id
from .outbox import OutboxEntry
from .profile import Inheritance, Link, Own, Profile
from .reasons import Reason


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
        # What the api's entity search reads: the latest name and country disclosed.
        "name": p.name,
        "country": p.country,
        "risk_level": p.risk_level,
        "score": p.score,
        "explanation": p.explanation,
        # vars(), not dataclasses.asdict: the parts are flat but for one link and the reasons,
        # and asdict's deep copy was the larger part of a batch's time.
        "own": None
        if p.own is None
        else {
            **vars(p.own),
            "period_end": p.own.period_end.isoformat(),
            "reasons": [vars(r) for r in p.own.reasons],
            "watchlist": [vars(r) for r in p.own.watchlist],
        },
        "inherited": [
            {**vars(i), "link": vars(i.link), "reasons": [vars(r) for r in i.reasons]}
            for i in p.inherited
        ],
        "links": [vars(k) for k in p.links],
        "workforce": p.workforce,
        "source_contradictions": [c.model_dump() for c in p.source_contradictions],
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
                "reasons": _reasons(own["reasons"]),
                # Absent from profiles stored before watchlist screening.
                "watchlist": _reasons(own.get("watchlist", [])),
                "watchlist_lists": tuple(own.get("watchlist_lists", ())),
                # Absent from profiles stored before fees were compared: unknown.
                "fees_assessed": own.get("fees_assessed"),
            }
        ),
        links=tuple(Link(**k) for k in doc["links"]),
        inherited=tuple(
            Inheritance(
                **{
                    **i,
                    "indicators": tuple(i["indicators"]),
                    "link": Link(**i["link"]),
                    "reasons": _reasons(i["reasons"]),
                }
            )
            for i in doc["inherited"]
        ),
        version=doc["version"],
        name=doc["name"],
        country=doc["country"],
        # Profiles written before sources were compared have neither.
        workforce=doc.get("workforce"),
        source_contradictions=tuple(
            SourceContradiction.model_validate(c) for c in doc.get("source_contradictions", ())
        ),
    )


def _reasons(docs: list[dict[str, Any]]) -> tuple[Reason, ...]:
    return tuple(Reason(**{**r, "fields": tuple(r["fields"])}) for r in docs)


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


def alert(doc: dict[str, Any]) -> Alert:
    """The alert a document of ``alerts`` holds, as the policy reads it."""
    model = AlertUpdated if doc["revision"] else AlertRaised
    return Alert(
        tenant_id=doc["tenant_id"],
        data=model.model_validate(doc["alert"]),
        body=doc["body"],
        resolved_with=frozenset(doc["resolved_with"]),
        case_id=doc["case_id"],
        case_revision=doc["case_revision"],
        dismissal_id=doc["dismissal_id"],
    )


def alert_update(
    state: Alert, stored: dict[str, Any] | None, revisions: Sequence[OutboxEntry]
) -> dict[str, Any]:
    """The update that takes ``stored`` (None: no document yet) to ``state`` with its new
    ``revisions`` appended, outbox fields included.

    Top level, for the api's lists and the relay: ``status``, ``revision``, ``alert_type``,
    ``raised_at`` (revision 0's time, the inbox's order), ``updated_at`` (the latest revision's);
    ``alert`` is the latest revision's event data. Outbox: ``revisions`` holds every revision
    ever made (the events, in order), ``published_revision`` the highest published in order,
    ``published`` whether that is the latest, ``pending_at`` the time of the oldest revision
    still unpublished (the relay's grace) and ``published_at`` the last mark.
    """
    latest = state.data.model_dump(mode="json")
    fields: dict[str, Any] = {
        "status": state.status,
        "revision": state.revision,
        "alert": latest,
        "body": state.body,
        "resolved_with": sorted(state.resolved_with),
        "case_id": state.case_id,
        "case_revision": state.case_revision,
        "dismissal_id": state.dismissal_id,
    }
    update: dict[str, Any] = {"$set": fields}
    if revisions:
        last = revisions[-1]
        fields |= {
            "published": False,
            "updated_at": last.at,
            "correlation_id": last.correlation_id,
            "source_event_id": last.source_event_id,
        }
        if stored is None or stored["published"]:
            fields["pending_at"] = revisions[0].at
        update["$push"] = {
            "revisions": {
                "$each": [
                    _revision(e, latest if e.alert is state.data else None) for e in revisions
                ]
            }
        }
    if stored is None:
        update["$setOnInsert"] = {
            "dedupe_key": state.data.dedupe_key,
            "alert_type": state.data.alert_type,
            "raised_at": revisions[0].at,
            "published_revision": -1,
        }
    return update


def _revision(e: OutboxEntry, dumped: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "revision": e.revision,
        "at": e.at,
        "source_event_id": e.source_event_id,
        "correlation_id": e.correlation_id,
        "trace": dict(e.trace),
        "alert": e.alert.model_dump(mode="json") if dumped is None else dumped,
    }


def unpublished(doc: dict[str, Any]) -> list[OutboxEntry]:
    """The revisions of ``doc`` after its last published one, in order."""
    return [
        _entry(doc["tenant_id"], r)
        for r in doc["revisions"]
        if r["revision"] > doc["published_revision"]
    ]


def _entry(tenant_id: str, revision: dict[str, Any]) -> OutboxEntry:
    at: datetime = revision["at"]
    model = AlertUpdated if revision["revision"] else AlertRaised
    return OutboxEntry(
        tenant_id=tenant_id,
        alert=model.model_validate(revision["alert"]),
        source_event_id=revision["source_event_id"],
        correlation_id=revision["correlation_id"],
        # A client without tz_aware reads UTC times back naive.
        at=at.replace(tzinfo=UTC) if at.tzinfo is None else at,
        trace=tracing.carrier(revision.get("trace")),
    )
