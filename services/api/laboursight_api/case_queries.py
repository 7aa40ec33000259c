"""``GET /v1/cases``: the tenant's cases, newest first, a page at a time; ``GET
/v1/cases/{case_id}``: one whole case, with its history, its plan and its alerts explained.

The cases are the api's own (``cases``), and so are the indexes behind these lists
(``CaseStore.create_indexes``): each sort behind the tenant alone, its status or its entity.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Final, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from laboursight_schemas import collections
from laboursight_schemas.cases import CaseStatus
from laboursight_schemas.disclosure import EntityKind
from laboursight_schemas.envelope import now

from . import keyset, queries
from .auth import require
from .case_store import STATE_ONLY, case_of
from .case_views import CaseSummary, CaseView, detail, summary
from .context import Context, context
from .cursors import Position
from .errors import ApiError
from .keys import Principal
from .keyset import Direction
from .openapi import AUTHENTICATED, problem
from .queries import Cursor, Limit, Time
from .rights import roles

router = APIRouter(prefix="/v1/cases", tags=["cases"])
Reader = Annotated[Principal, Depends(require(*roles("read cases")))]
Document = dict[str, Any]
Sort = Literal["newest", "oldest", "due", "updated"]
SORTS: Final[dict[str, tuple[str, Direction]]] = {
    "newest": ("opened_at", -1),
    "oldest": ("opened_at", 1),
    "due": ("due_at", 1),
    "updated": ("updated_at", -1),
}


class CasePage(BaseModel):
    items: list[CaseSummary]
    next: str | None = Field(description="The next page, or null at the end of the list")


@dataclass(frozen=True)
class CaseQuery:
    status: CaseStatus | None = None
    owner: str | None = None
    kind: EntityKind | None = None
    entity_id: str | None = None
    alert_id: str | None = None
    overdue: bool | None = None
    since: datetime | None = None
    until: datetime | None = None

    def where(self, tenant_id: str, at: datetime) -> Document:
        found: Document = {"tenant_id": tenant_id, "type": "case"}
        for field, value in (
            ("status", self.status),
            ("owner", self.owner),
            ("entity_kind", self.kind),
            ("entity_id", self.entity_id),
            ("alert_ids", self.alert_id),
        ):
            if value is not None:
                found[field] = value
        late: Document = {}
        if self.overdue is True:
            late = {"status": {"$ne": "closed"}, "due_at": {"$lte": at}}
        elif self.overdue is False:
            late = {"$or": [{"status": "closed"}, {"due_at": {"$gt": at}}]}
        return keyset.both(found, late, queries.period("opened_at", self.since, self.until))


@router.get(
    "",
    response_model=CasePage,
    responses=queries.LIST_RESPONSES,
    dependencies=[Depends(queries.only_known_parameters)],
)
async def list_cases(
    request: Request,
    caller: Reader,
    ctx: Annotated[Context, Depends(context)],
    status: Annotated[CaseStatus | None, Query()] = None,
    owner: Annotated[str | None, queries.text("The owner's name, exactly")] = None,
    kind: Annotated[EntityKind | None, Query(description="The entity's kind")] = None,
    entity_id: Annotated[str | None, queries.text("The supplier or recruiter id")] = None,
    alert_id: Annotated[str | None, queries.text("The case that holds this alert")] = None,
    overdue: Annotated[
        bool | None, Query(description="`true`: past their due date and not closed")
    ] = None,
    since: Annotated[Time, queries.since("Opened")] = None,
    until: Annotated[Time, queries.until("Opened")] = None,
    sort: Annotated[
        Sort,
        Query(
            description="`newest` opened first (the default), `oldest`, `due`: soonest due "
            "first, `updated`: latest changed first"
        ),
    ] = "newest",
    limit: Limit = queries.DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> CasePage:
    """The cases, with their status, owner, severity and due date."""
    asked = CaseQuery(status, owner, kind, entity_id, alert_id, overdue, since, until)
    query = {**vars(asked), "sort": sort}
    field, direction = SORTS[sort]
    at = now()
    scan = keyset.scan_of(
        ctx.db[collections.CASES], asked.where(caller.tenant_id, at), field, direction, STATE_ONLY
    )

    def position_of(document: Document) -> Position:
        return Position(document[field], document["_id"])

    async def summaries(
        documents: list[Document], _: Position | None
    ) -> list[tuple[Position, CaseSummary]]:
        return [(position_of(d), summary(case_of(d), at)) for d in documents]

    page = await keyset.collect(
        scan, summaries, position_of, start=queries.start(cursor, query, "time"), limit=limit
    )
    return CasePage(items=page.items, next=queries.next_link(request, page.next, query))


@router.get(
    "/{case_id}",
    response_model=CaseView,
    responses={**AUTHENTICATED, 404: problem("No such case, or another tenant's")},
)
async def read_case(
    case_id: str, caller: Reader, ctx: Annotated[Context, Depends(context)]
) -> CaseView:
    """The whole case: its state, plan, attachments and closure, every change of its history,
    and its alerts with their reasons, findings, evidence and recruitment chain."""
    view = await detail(ctx, caller.tenant_id, case_id, now())
    if view is None:
        raise ApiError(404, "not_found", f"no case {case_id!r}")
    return view
