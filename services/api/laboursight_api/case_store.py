"""The ``cases`` collection, whose only writer is the api: cases, dismissals and their outbox.

A case is one document: its state, its history (one ``CaseChanged`` per revision, only ever
appended, as the event's JSON, so that it reads back exactly as published) and the events Kafka
has not acknowledged yet (``pending``). Each change is one journaled majority write of all
three, conditional on the revision it was decided on, so of two changes made at once one applies
and the other is decided again on the new state. A dismissal is
a document of its own. Every case and dismissal lists its alerts in ``alert_ids``, unique per
tenant across the collection: an alert is in one case, or dismissed, never both, and never twice.

``lease_until`` is set while events are pending: until then the request that wrote them
publishes them; after it the relay may (``claim``). The outbox and overdue queries span tenants:
they are the api's own background work, and never answer a caller.
"""

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError, WriteError

from laboursight_schemas import collections
from laboursight_schemas.cases import AlertDismissed, CaseChanged

from .case_events import Pending
from .cases_domain import Case, Triaged, alarm_at
from .disclosure_store import JOURNALED

Document = dict[str, Any]

# MongoDB's refusals of a document over 16 MiB: on insert, and as the result of an update.
_TOO_LARGE: Final = frozenset({10334, 17419})
STATE_ONLY: Final = {"history": False, "pending": False}
# The lists' sorts (``case_queries``), each behind the tenant and the document kind.
LIST_FIELDS: Final = ("opened_at", "due_at", "updated_at")


class AlreadyDecided(Exception):
    """An alert of the write is in a case, or dismissed, already."""


class CaseFull(Exception):
    """The case's document cannot grow any more (MongoDB's 16 MiB)."""


@dataclass(frozen=True)
class Decision:
    """What became of an alert: the case it is in, or (None) its dismissal."""

    case_id: str | None


def stored_time(moment: datetime) -> datetime:
    """``moment`` to the millisecond MongoDB keeps, so that what is written reads back the
    same: a case's times, and those of the events made with them."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def dismissal_id(tenant_id: str, alert_id: str) -> str:
    return f"{tenant_id}/{alert_id}/dismissal"


def case_of(document: Mapping[str, Any]) -> Case:
    return Case.model_validate({**document, "case_id": document["_id"]}, extra="ignore")


def history_of(document: Mapping[str, Any]) -> list[CaseChanged]:
    return [
        CaseChanged.model_validate(entry, extra="ignore") for entry in document.get("history", [])
    ]


def _state(case: Case) -> tuple[Document, Document]:
    """($set, $unset) of the case's own fields."""
    fields = case.model_dump(exclude={"case_id"})
    alarm = alarm_at(case)
    if alarm is None:
        return fields, {"alarm_at": ""}
    return {**fields, "alarm_at": alarm}, {}


class CaseStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._cases = db.get_collection(collections.CASES, write_concern=JOURNALED)
        self._alerts = db[collections.ALERTS]

    async def create_indexes(self) -> None:
        await self._cases.create_index(
            [("tenant_id", ASCENDING), ("alert_ids", ASCENDING)],
            unique=True,
            name="one_decision_per_alert",
        )
        for field in LIST_FIELDS:
            for prefix in ((), ("status",), ("entity_id",)):
                fields = ["tenant_id", "type", *prefix, field, "_id"]
                await self._cases.create_index(
                    [(name, ASCENDING) for name in fields], name="list_" + "_".join(fields[2:-1])
                )
        await self._cases.create_index("lease_until", name="outbox", sparse=True)
        await self._cases.create_index("alarm_at", name="overdue", sparse=True)

    # --- reading -----------------------------------------------------------------------------

    async def alert(self, tenant_id: str, alert_id: str) -> Triaged | None:
        """The alert as risk stores it (``alerts``), or None: unknown, or another tenant's."""
        document = await self._alerts.find_one(
            {"_id": alert_id, "tenant_id": tenant_id}, {"alert": True, "correlation_id": True}
        )
        if document is None:
            return None
        alert = document["alert"]
        return Triaged(
            alert_id=alert_id,
            entity_kind=alert["entity_kind"],
            entity_id=alert["entity_id"],
            risk_level=alert["risk_level"],
            correlation_id=document["correlation_id"],
        )

    async def decision(self, tenant_id: str, alert_id: str) -> Decision | None:
        return (await self.decisions_of(tenant_id, [alert_id])).get(alert_id)

    async def decisions_of(self, tenant_id: str, alert_ids: Collection[str]) -> dict[str, Decision]:
        """What became of each of ``alert_ids`` that is decided: its case, or its dismissal.
        Known here the moment the write returns, before risk records it on the alert."""
        if not alert_ids:
            return {}
        cursor = self._cases.find(
            {"tenant_id": tenant_id, "alert_ids": {"$in": list(alert_ids)}},
            {"alert_ids": True, "type": True},
        )
        wanted = set(alert_ids)
        return {
            alert_id: Decision(document["_id"] if document["type"] == "case" else None)
            async for document in cursor
            for alert_id in document["alert_ids"]
            if alert_id in wanted
        }

    async def load(self, tenant_id: str, case_id: str, *, history: bool = False) -> Document | None:
        """The case's document (``history`` with its history), or None: unknown, another
        tenant's, or not a case."""
        return await self._cases.find_one(
            {"_id": case_id, "tenant_id": tenant_id, "type": "case"},
            {"pending": False} if history else STATE_ONLY,
        )

    # --- writing: each one journaled majority write --------------------------------------------

    async def open(
        self, case: Case, change: CaseChanged, entry: Pending, lease_until: datetime
    ) -> None:
        """Raises AlreadyDecided when the alert is in a case or dismissed already."""
        fields, _ = _state(case)
        document = {
            "_id": case.case_id,
            "type": "case",
            **fields,
            "history": [change.model_dump(mode="json")],
            "pending": [entry],
            "lease_until": lease_until,
        }
        try:
            await self._cases.insert_one(document)
        except DuplicateKeyError:
            raise AlreadyDecided from None

    async def save(
        self, case: Case, change: CaseChanged, entry: Pending, lease_until: datetime
    ) -> bool:
        """Store ``case`` after ``change`` if it is still at the revision before: False when
        another change came first. Raises AlreadyDecided (a new alert is in a case already) and
        CaseFull."""
        fields, unset = _state(case)
        update: Document = {
            "$set": fields,
            "$push": {"history": change.model_dump(mode="json"), "pending": entry},
            "$max": {"lease_until": lease_until},
        }
        if unset:
            update["$unset"] = unset
        try:
            result = await self._cases.update_one(
                {
                    "_id": case.case_id,
                    "tenant_id": case.tenant_id,
                    "type": "case",
                    "revision": case.revision - 1,
                },
                update,
            )
        except DuplicateKeyError:
            raise AlreadyDecided from None
        except WriteError as error:
            if error.code in _TOO_LARGE:
                raise CaseFull from None
            raise
        return result.matched_count == 1

    async def dismiss(
        self, tenant_id: str, dismissed: AlertDismissed, entry: Pending, lease_until: datetime
    ) -> None:
        """Raises AlreadyDecided when the alert is in a case or dismissed already."""
        try:
            await self._cases.insert_one(
                {
                    "_id": dismissal_id(tenant_id, dismissed.alert_id),
                    "tenant_id": tenant_id,
                    "type": "dismissal",
                    "alert_ids": [dismissed.alert_id],
                    "dismissal": dismissed.model_dump(mode="json"),
                    "pending": [entry],
                    "lease_until": lease_until,
                }
            )
        except DuplicateKeyError:
            raise AlreadyDecided from None

    # --- the clock -------------------------------------------------------------------------

    async def past_due(self, now: datetime, limit: int) -> list[Case]:
        """Cases past a due date not reported yet, most overdue first, across every tenant."""
        cursor = self._cases.find({"alarm_at": {"$lte": now}}, STATE_ONLY)
        return [case_of(d) async for d in cursor.sort("alarm_at", ASCENDING).limit(limit)]

    # --- the outbox --------------------------------------------------------------------------

    async def mark_published(self, document_id: str, event_ids: Collection[str]) -> None:
        """Drop the acknowledged events; with none left, the lease goes too (one write, so an
        event pending meanwhile keeps it)."""
        if not event_ids:
            return
        acknowledged = list(event_ids)
        await self._cases.update_one(
            {"_id": document_id},
            [
                {
                    "$set": {
                        "pending": {
                            "$filter": {
                                "input": "$pending",
                                "cond": {"$not": [{"$in": ["$$this.id", acknowledged]}]},
                            }
                        }
                    }
                },
                {
                    "$set": {
                        "lease_until": {
                            "$cond": [
                                {"$eq": [{"$size": "$pending"}, 0]},
                                "$$REMOVE",
                                "$lease_until",
                            ]
                        }
                    }
                },
            ],
        )

    async def claim(self, now: datetime, lease: timedelta) -> Document | None:
        """One document whose events are pending past its lease, claimed by this call alone
        until ``now + lease`` (its ``lease_until`` then says so)."""
        return await self._cases.find_one_and_update(
            {"lease_until": {"$lte": now}},
            {"$set": {"lease_until": now + lease}},
            projection={"pending": True, "lease_until": True},
            sort=[("lease_until", ASCENDING)],
            return_document=ReturnDocument.AFTER,
        )

    async def release(self, document: Mapping[str, Any], now: datetime) -> None:
        """Give a claimed document back to the next relay run (its publish failed)."""
        await self._cases.update_one(
            {"_id": document["_id"], "lease_until": document["lease_until"]},
            {"$set": {"lease_until": now}},
        )

    async def backlog(self) -> int:
        return await self._cases.count_documents({"lease_until": {"$exists": True}})
