"""Where the risk service keeps findings, profiles and alerts: the port and its MongoDB adapter.

``record`` is atomic and idempotent on the event id: findings, the disclosure's status, every
profile the event changes (the entity's own and, through the recruitment chain, those linked to
it) and any new alerts are written in one transaction together with the processed-event mark,
so a redelivery changes nothing. Alerts are written with ``published: false`` (an outbox) and
published after the commit, so an alert survives a crash between commit and publish.
"""

from collections.abc import Collection
from dataclasses import asdict
from datetime import UTC, date, datetime
from typing import Any, Protocol

from pymongo import ASCENDING, AsyncMongoClient
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from laboursight_schemas import collections
from laboursight_schemas.collections import entity_key
from laboursight_schemas.disclosure import EntityKind
from laboursight_schemas.findings import AlertRaised, FindingsComputed

from .profile import Inheritance, Link, Own, Profile
from .propagation import Decide

CONSUMER = "risk"


class RiskStore(Protocol):
    async def record(
        self, tenant_id: str, event_id: str, computed: FindingsComputed, decide: Decide
    ) -> None: ...

    async def unpublished_alerts(
        self, tenant_id: str, source_event_id: str
    ) -> list[AlertRaised]: ...

    async def mark_published(self, tenant_id: str, alert_id: str) -> None: ...

    async def profile(self, tenant_id: str, entity_kind: str, entity_id: str) -> Profile | None: ...


def _profile_doc(p: Profile) -> dict[str, Any]:
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
        "own": None
        if p.own is None
        else {**asdict(p.own), "period_end": p.own.period_end.isoformat()},
        "inherited": [asdict(i) for i in p.inherited],
        "links": [asdict(k) for k in p.links],
        "version": p.version,
        "updated_at": datetime.now(UTC),
    }


def _profile(doc: dict[str, Any]) -> Profile:
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


def screening_id(computed: FindingsComputed) -> str:
    """One findings document per screening: a disclosure screened again under another rule set
    or reference edition (a replay) keeps both results side by side."""
    return ":".join(
        (computed.disclosure_id, computed.rule_set_version, computed.reference_data_edition)
    )


class MongoRiskStore:
    def __init__(self, client: AsyncMongoClient[dict[str, Any]], database: str) -> None:
        self._client = client
        self._db: AsyncDatabase[dict[str, Any]] = client[database]

    async def create_indexes(self) -> None:
        for field in ("entity_id", "disclosure_id"):
            await self._db[collections.FINDINGS].create_index(
                [("tenant_id", ASCENDING), (field, ASCENDING)]
            )
        await self._db[collections.ENTITIES].create_index(
            [("tenant_id", ASCENDING), ("risk_level", ASCENDING)]
        )
        await self._db[collections.ALERTS].create_index(
            [("tenant_id", ASCENDING), ("dedupe_key", ASCENDING)], unique=True
        )
        await self._db[collections.ALERTS].create_index(
            [("tenant_id", ASCENDING), ("source_event_id", ASCENDING), ("published", ASCENDING)]
        )

    async def record(
        self, tenant_id: str, event_id: str, computed: FindingsComputed, decide: Decide
    ) -> None:
        async def write(session: AsyncClientSession) -> None:
            await self._record(session, tenant_id, event_id, computed, decide)

        async with self._client.start_session() as session:
            await session.with_transaction(write)

    async def _record(
        self,
        session: AsyncClientSession,
        tenant_id: str,
        event_id: str,
        computed: FindingsComputed,
        decide: Decide,
    ) -> None:
        db = self._db
        now = datetime.now(UTC)
        mark = {"_id": f"{CONSUMER}:{event_id}", "tenant_id": tenant_id}
        # Checked before writing: a duplicate-key error would abort the whole transaction.
        if await db[collections.PROCESSED_EVENTS].find_one(mark, session=session):
            return
        await db[collections.PROCESSED_EVENTS].insert_one({**mark, "at": now}, session=session)
        findings_id = screening_id(computed)
        await db[collections.FINDINGS].update_one(
            {"_id": findings_id, "tenant_id": tenant_id},
            {
                "$setOnInsert": {
                    **computed.model_dump(mode="json"),
                    "tenant_id": tenant_id,
                    "event_id": event_id,
                    "computed_at": now,
                }
            },
            upsert=True,
            session=session,
        )
        await db[collections.DISCLOSURES].update_one(
            {"_id": computed.disclosure_id, "tenant_id": tenant_id},
            {
                "$set": {
                    "status": "screened",
                    "screened_at": now,
                    "findings_id": findings_id,
                    "risk_level": computed.judgement.risk_level,
                },
                "$setOnInsert": {"kind": computed.entity_kind, "entity_id": computed.entity_id},
            },
            upsert=True,
            session=session,
        )

        async def load(kind: EntityKind, ids: Collection[str]) -> dict[str, Profile]:
            keys = [entity_key(tenant_id, kind, i) for i in ids]
            cursor = db[collections.ENTITIES].find(
                {"_id": {"$in": keys}, "tenant_id": tenant_id}, session=session
            )
            return {doc["entity_id"]: _profile(doc) async for doc in cursor}

        outcome = await decide(load)
        for profile in outcome.profiles:
            await db[collections.ENTITIES].replace_one(
                {
                    "_id": entity_key(tenant_id, profile.entity_kind, profile.entity_id),
                    "tenant_id": tenant_id,
                },
                _profile_doc(profile),
                upsert=True,
                session=session,
            )
        for alert in outcome.alerts:
            # The alert id derives from the dedupe key: an alert raised again is the same one.
            await db[collections.ALERTS].update_one(
                {"_id": alert.alert_id, "tenant_id": tenant_id},
                {
                    "$setOnInsert": {
                        "dedupe_key": alert.dedupe_key,
                        "source_event_id": event_id,
                        "status": "open",
                        "published": False,
                        "raised_at": now,
                        "alert": alert.model_dump(mode="json"),
                    }
                },
                upsert=True,
                session=session,
            )

    async def unpublished_alerts(self, tenant_id: str, source_event_id: str) -> list[AlertRaised]:
        cursor = self._db[collections.ALERTS].find(
            {"tenant_id": tenant_id, "source_event_id": source_event_id, "published": False}
        )
        return [AlertRaised.model_validate(doc["alert"]) async for doc in cursor]

    async def mark_published(self, tenant_id: str, alert_id: str) -> None:
        await self._db[collections.ALERTS].update_one(
            {"_id": alert_id, "tenant_id": tenant_id}, {"$set": {"published": True}}
        )

    async def profile(self, tenant_id: str, entity_kind: str, entity_id: str) -> Profile | None:
        doc = await self._db[collections.ENTITIES].find_one(
            {"_id": entity_key(tenant_id, entity_kind, entity_id), "tenant_id": tenant_id}
        )
        return None if doc is None else _profile(doc)
