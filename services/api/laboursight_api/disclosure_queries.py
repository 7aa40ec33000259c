"""``GET /v1/disclosures``: the disclosures a caller may see, newest first, a page at a time.

A status is derived as ``GET /v1/disclosures/{id}`` derives it: ``screened`` once risk stored
findings for the disclosure, whatever the api's own document says yet (it records ``screened``
only when the sweeper looks), otherwise the stored ``accepted`` or ``failed``. Withdrawn
disclosures and void writes (answered 503) are never listed. A submitter key sees the
disclosures of the suppliers and recruiters it is bound to; every other role its tenant's.
"""

from collections.abc import Collection
from datetime import datetime
from typing import Annotated, Any, Final, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field
from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from laboursight_schemas import collections
from laboursight_schemas.disclosure import EntityKind
from laboursight_schemas.findings import RiskLevel

from . import keyset, queries
from .auth import require
from .context import Context, context
from .cursors import Position
from .disclosures import FailureView
from .keys import Principal
from .outbox import Timing, is_shown
from .queries import Cursor, Limit, Order, Time
from .rights import roles

router = APIRouter(prefix="/v1/disclosures", tags=["disclosures"])

Status = Literal["accepted", "screened", "failed"]
SORT_FIELD: Final = "accepted_at"
# The stored statuses a shown status can come from: findings make any of them ``screened``.
STORED: Final[dict[Status | None, list[str]]] = {
    None: ["accepted", "screened", "failed"],
    "screened": ["accepted", "screened", "failed"],
    "accepted": ["accepted"],
    "failed": ["failed"],
}


class DisclosureSummary(BaseModel):
    disclosure_id: str
    kind: EntityKind
    entity_id: str
    status: Status
    accepted_at: datetime
    failure: FailureView | None = Field(default=None, description="With `failed`: why")
    risk_level: RiskLevel | None = Field(description="Once screened: the judgement's level")
    score: int | None = Field(description="Once screened: the judgement's score")
    status_url: str = Field(description="The disclosure with its findings and evidence")


class DisclosurePage(BaseModel):
    items: list[DisclosureSummary]
    next: str | None = Field(description="The next page, or null at the end of the list")


async def create_indexes(db: AsyncDatabase[dict[str, Any]]) -> None:
    """Every query below has an equality on ``status`` (a short ``$in``) or ``entity_id``, so
    one of these two serves its sort, for either order."""
    disclosures = db[collections.DISCLOSURES]
    for field in ("status", "entity_id"):
        await disclosures.create_index(
            [
                ("tenant_id", ASCENDING),
                (field, ASCENDING),
                (SORT_FIELD, ASCENDING),
                ("_id", ASCENDING),
            ],
            name=f"list_by_{field}",
        )


def stored_filter(
    caller: Principal,
    *,
    status: Status | None,
    kind: EntityKind | None,
    entity_id: str | None,
    since: datetime | None,
    until: datetime | None,
) -> dict[str, Any]:
    """The MongoDB filter for what the caller may see and asked for (status still to derive)."""
    found: dict[str, Any] = {"tenant_id": caller.tenant_id, "status": {"$in": STORED[status]}}
    if caller.role == "submitter":
        allowed = sorted(
            caller.entity_ids if entity_id is None else {entity_id} & caller.entity_ids
        )
        found["entity_id"] = {"$in": allowed}
    elif entity_id is not None:
        found["entity_id"] = entity_id
    if kind is not None:
        found["kind"] = kind
    return {**found, **queries.period(SORT_FIELD, since, until)}


def shown_status(document: dict[str, Any], screened: bool) -> Status:
    shown: Status = "screened" if screened else document["status"]
    return shown


def summary(document: dict[str, Any], judgement: dict[str, Any] | None) -> DisclosureSummary:
    status = shown_status(document, judgement is not None)
    return DisclosureSummary(
        disclosure_id=document["_id"],
        kind=document["kind"],
        entity_id=document["entity_id"],
        status=status,
        accepted_at=document["accepted_at"],
        failure=document.get("failure") if status == "failed" else None,
        risk_level=None if judgement is None else judgement["risk_level"],
        score=None if judgement is None else judgement["score"],
        status_url=f"/v1/disclosures/{document['_id']}",
    )


class _Listing:
    """Stored disclosures as shown: their status derived, what is not shown left out."""

    def __init__(self, ctx: Context, tenant_id: str, status: Status | None) -> None:
        self._findings = ctx.db[collections.FINDINGS]
        self._timing: Timing = ctx.timing
        self._tenant_id = tenant_id
        self._status = status

    async def expand(
        self, documents: list[dict[str, Any]], _: Position | None
    ) -> list[tuple[Position, DisclosureSummary]]:
        judgements = await self._judgements([d["_id"] for d in documents])
        items = []
        for document in documents:
            judgement = judgements.get(document["_id"])
            shown = shown_status(document, judgement is not None)
            if is_shown(document, self._timing) and self._status in (None, shown):
                items.append((position_of(document), summary(document, judgement)))
        return items

    async def _judgements(self, ids: Collection[str]) -> dict[str, dict[str, Any]]:
        """Each screened disclosure's latest judgement."""
        if not ids:
            return {}
        cursor = self._findings.find(
            {"tenant_id": self._tenant_id, "disclosure_id": {"$in": list(ids)}},
            {"disclosure_id": True, "judgement": True, "computed_at": True},
        ).sort("computed_at", ASCENDING)
        return {doc["disclosure_id"]: doc["judgement"] async for doc in cursor}


def position_of(document: dict[str, Any]) -> Position:
    return Position(document[SORT_FIELD], document["_id"])


@router.get(
    "",
    response_model=DisclosurePage,
    responses=queries.LIST_RESPONSES,
    dependencies=[Depends(queries.only_known_parameters)],
)
async def list_disclosures(
    request: Request,
    caller: Annotated[Principal, Depends(require(*roles("read disclosures")))],
    ctx: Annotated[Context, Depends(context)],
    status: Annotated[Status | None, Query(description="As the disclosure's own status")] = None,
    kind: Annotated[EntityKind | None, Query()] = None,
    entity_id: Annotated[str | None, queries.text("The supplier or recruiter id")] = None,
    since: Annotated[Time, queries.since("Accepted")] = None,
    until: Annotated[Time, queries.until("Accepted")] = None,
    order: Order = "newest",
    limit: Limit = queries.DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> DisclosurePage:
    """The disclosures the caller may see, by the time they were accepted (newest first by
    default); a submitter key sees those of the ids it is bound to."""
    query = {
        "status": status,
        "kind": kind,
        "entity_id": entity_id,
        "since": since,
        "until": until,
        "order": order,
    }
    where = stored_filter(
        caller, status=status, kind=kind, entity_id=entity_id, since=since, until=until
    )
    listing = _Listing(ctx, caller.tenant_id, status)
    scan = keyset.scan_of(
        ctx.db[collections.DISCLOSURES], where, SORT_FIELD, queries.direction(order), {"event": 0}
    )
    page = await keyset.collect(
        scan,
        listing.expand,
        position_of,
        start=queries.start(cursor, query, "time"),
        limit=limit,
    )
    return DisclosurePage(items=page.items, next=queries.next_link(request, page.next, query))
