"""The two sides a replay report compares, read from the replay's database and the ledger.

- The replay: the findings the screening replay computed, the alert events and entity levels
  of the replayed history (laboursight_risk.replay).
- The record: from the tenant's ledger, never from live collections, so the comparison is with
  what was published — each replayed disclosure's first recorded ``findings.computed`` (the
  screening risk met first) and every recorded alert event caused by a replayed disclosure —
  and the entity levels of the recorded history folded again (entities are no events).
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from laboursight_schemas import collections, topics
from laboursight_schemas.envelope import AlertEvent, AlertUpdatedEvent, FindingsEvent
from laboursight_schemas.findings import AlertRaised, AlertUpdated, FindingsComputed
from laboursight_schemas.replay import (
    META_ID,
    REPLAY,
    REPLAY_ALERT_EVENTS,
    REPLAY_ENTITIES,
    REPLAY_FAILURES,
)
from laboursight_schemas.upcasting import read_event

PAGE = 2_000
ALERT_EVENTS = (AlertEvent, AlertUpdatedEvent)

Document = dict[str, Any]
AlertRevision = AlertRaised | AlertUpdated
EntityKey = tuple[str, str]
"""entity kind, entity id."""


class NotFolded(Exception):
    """The replay is missing, or its risk replay has not finished."""


@dataclass(frozen=True)
class EntityState:
    risk_level: str | None
    score: int | None
    disclosure_id: str | None
    inherited_from: tuple[str, ...]


@dataclass
class Sides:
    meta: Document
    replayed: list[FindingsComputed] = field(default_factory=list)
    recorded: dict[str, FindingsComputed] = field(default_factory=dict)
    """The first recorded findings of each replayed disclosure, by disclosure id."""
    recorded_alerts: list[AlertRevision] = field(default_factory=list)
    replay_alerts: list[AlertRevision] = field(default_factory=list)
    refolded_alerts: list[AlertRevision] = field(default_factory=list)
    """The alert events of the recorded history folded again."""
    replay_entities: dict[EntityKey, EntityState] = field(default_factory=dict)
    recorded_entities: dict[EntityKey, EntityState] = field(default_factory=dict)
    failures: list[Document] = field(default_factory=list)

    @property
    def period(self) -> set[str]:
        return {f.disclosure_id for f in self.replayed}


async def read_sides(replay_db: AsyncDatabase[Document], ledger: AsyncDatabase[Document]) -> Sides:
    meta = await replay_db[REPLAY].find_one({"_id": META_ID})
    if meta is None:
        raise NotFolded(f"no replay in database {replay_db.name}")
    if meta.get("status") != "folded":
        raise NotFolded(
            f"replay {meta.get('replay_id')!r} is {meta.get('status')!r}: run "
            "laboursight-risk-replay on it first (laboursight-replay run does both)"
        )
    sides = Sides(meta=meta)
    async for d in replay_db["replay_findings"].find({}).sort("_id", ASCENDING):
        sides.replayed.append(read_event(bytes(d["event"]), FindingsEvent).data)
    sides.replay_alerts = await _alert_events(replay_db, "replay")
    sides.refolded_alerts = await _alert_events(replay_db, "recorded")
    sides.replay_entities = await _entities(replay_db, "replay")
    sides.recorded_entities = await _entities(replay_db, "recorded")
    sides.failures = [d async for d in replay_db[REPLAY_FAILURES].find({}).sort("_id", ASCENDING)]
    await _read_record(ledger, meta["tenant_id"], sides)
    return sides


async def _alert_events(db: AsyncDatabase[Document], fold: str) -> list[AlertRevision]:
    cursor = db[REPLAY_ALERT_EVENTS].find({"fold": fold}).sort("ordinal", ASCENDING)
    return [read_event(bytes(d["event"]), ALERT_EVENTS).data async for d in cursor]


async def _entities(db: AsyncDatabase[Document], fold: str) -> dict[EntityKey, EntityState]:
    return {
        (d["entity_kind"], d["entity_id"]): EntityState(
            risk_level=d["risk_level"],
            score=d["score"],
            disclosure_id=d["disclosure_id"],
            inherited_from=tuple(i["recruiter_id"] for i in d["inherited"]),
        )
        async for d in db[REPLAY_ENTITIES].find({"fold": fold})
    }


async def _read_record(ledger: AsyncDatabase[Document], tenant_id: str, sides: Sides) -> None:
    period = sides.period
    cursor = (
        ledger[collections.LEDGER]
        .find(
            {"tenant_id": tenant_id, "topic": {"$in": [topics.FINDINGS, topics.ALERTS]}},
            projection={"_id": False, "seq": True, "topic": True, "event": True},
            batch_size=PAGE,
        )
        .sort("seq", ASCENDING)
    )
    while page := await cursor.to_list(PAGE):
        for document in page:
            _take(sides, period, document)


def _take(sides: Sides, period: set[str], document: Mapping[str, Any]) -> None:
    raw = bytes(document["event"])
    if document["topic"] == topics.FINDINGS:
        try:
            computed = read_event(raw, FindingsEvent).data
        except ValueError:
            # The risk replay read the same entry and recorded it in replay_failures.
            return
        if computed.disclosure_id in period:
            sides.recorded.setdefault(computed.disclosure_id, computed)
        return
    try:
        alert = read_event(raw, ALERT_EVENTS).data
    except ValueError as error:
        # Notify would have dead-lettered it; the report names it.
        sides.failures.append(
            {
                "stage": "ledger",
                "seq": document["seq"],
                "reason": f"{type(error).__name__}: {error}",
            }
        )
        return
    if alert.disclosure_id in period:
        sides.recorded_alerts.append(alert)
