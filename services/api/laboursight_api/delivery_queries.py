"""``GET /v1/deliveries`` and ``GET /v1/deliveries/{id}``: the webhook delivery log, newest
first, each delivery with its attempts.

Notify writes the log (``deliveries``, its work queue as well); the api only reads it, and asks
for redeliveries through Kafka (``delivery_requests``). The indexes behind these queries are
notify's (its ``create_indexes``): one per filter, each in the order of the list.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Final, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from laboursight_schemas import collections

from . import keyset, queries
from .auth import require
from .context import Context, context
from .cursors import Position
from .errors import ApiError
from .keys import Principal
from .openapi import AUTHENTICATED, problem
from .queries import Cursor, Limit, Order, Time
from .rights import roles

router = APIRouter(prefix="/v1/deliveries", tags=["deliveries"])

SORT_FIELD: Final = "recorded_at"
DeliveryStatus = Literal["pending", "delivered", "dead"]
Reader = Annotated[Principal, Depends(require(*roles("read deliveries")))]
# Of what notify keeps of a delivery, all but the body it posts (the event, which the alert
# routes show) and the claim's bookkeeping.
PROJECTION: Final = {"body": False, "lease": False, "settled_lease": False}


class AttemptView(BaseModel):
    at: datetime = Field(description="When the attempt ended")
    url: str | None = Field(description="Where it was sent")
    status_code: int | None = Field(description="The receiver's answer; null when none came")
    error: str | None = Field(description="Why it failed, when it did")
    latency_ms: float = Field(description="How long the POST took")


class RedeliveryView(BaseModel):
    request_id: str
    at: datetime = Field(description="When notify carried the request out")
    requested_by: str = Field(description="The API key id that asked")


class DeliveryView(BaseModel):
    delivery_id: str = Field(description="Also the `webhook-id` of every attempt")
    subscription_id: str
    alert_id: str | None = Field(description="The alert; null for a test-send")
    event_id: str
    event_type: str = Field(
        description="`org.laboursight.alert.raised`, `org.laboursight.alert.updated`, or "
        "`org.laboursight.webhook.test` for a test-send"
    )
    url: str = Field(description="Where the latest attempt went (or the first will go)")
    status: DeliveryStatus
    recorded_at: datetime
    expires_at: datetime = Field(description="The end of its retry horizon")
    due_at: datetime | None = Field(
        description="While pending: when it is attempted next, at the latest"
    )
    delivered_at: datetime | None
    redelivered_at: datetime | None
    attempt_count: int
    last_status_code: int | None
    last_error: str | None
    attempts: list[AttemptView] = Field(description="The latest attempts, oldest first")
    redeliveries: list[RedeliveryView] = Field(
        description="The redelivery requests carried out on it, oldest first"
    )
    delivery_url: str


class DeliveryPage(BaseModel):
    items: list[DeliveryView]
    next: str | None = Field(description="The next page, or null at the end of the list")


def view(document: dict[str, Any]) -> DeliveryView:
    status = document["status"]
    return DeliveryView(
        delivery_id=document["_id"],
        subscription_id=document["subscription_id"],
        alert_id=document.get("alert_id"),
        event_id=document.get("event_id", document.get("alert_event_id", "")),
        event_type=document.get("event_type", "org.laboursight.alert.raised"),
        url=document["url"],
        status=status,
        recorded_at=document["recorded_at"],
        expires_at=document["expires_at"],
        due_at=document.get("due_at") if status == "pending" else None,
        delivered_at=document.get("delivered_at"),
        redelivered_at=document.get("redelivered_at"),
        attempt_count=document.get("attempts", 0),
        last_status_code=document.get("last_status_code"),
        last_error=document.get("last_error"),
        attempts=[
            AttemptView(
                at=a["at"],
                url=a.get("url"),
                status_code=a.get("status_code"),
                error=a.get("error"),
                latency_ms=a.get("latency_ms", 0.0),
            )
            for a in document.get("attempt_log", [])
        ],
        redeliveries=[RedeliveryView(**r) for r in document.get("redeliveries", [])],
        delivery_url=f"/v1/deliveries/{document['_id']}",
    )


@dataclass(frozen=True)
class DeliveryQuery:
    subscription_id: str | None = None
    alert_id: str | None = None
    status: DeliveryStatus | None = None
    since: datetime | None = None
    until: datetime | None = None

    def where(self, tenant_id: str) -> dict[str, Any]:
        found: dict[str, Any] = {"tenant_id": tenant_id}
        for field, value in (
            ("subscription_id", self.subscription_id),
            ("alert_id", self.alert_id),
            ("status", self.status),
        ):
            if value is not None:
                found[field] = value
        return {**found, **queries.period(SORT_FIELD, self.since, self.until)}


def position_of(document: dict[str, Any]) -> Position:
    return Position(document[SORT_FIELD], document["_id"])


async def _views(
    documents: list[dict[str, Any]], _: Position | None
) -> list[tuple[Position, DeliveryView]]:
    return [(position_of(document), view(document)) for document in documents]


@router.get(
    "",
    response_model=DeliveryPage,
    responses=queries.LIST_RESPONSES,
    dependencies=[Depends(queries.only_known_parameters)],
)
async def list_deliveries(
    request: Request,
    caller: Reader,
    ctx: Annotated[Context, Depends(context)],
    subscription_id: Annotated[str | None, queries.text("The subscription")] = None,
    alert_id: Annotated[str | None, queries.text("The alert")] = None,
    status: Annotated[
        DeliveryStatus | None,
        Query(description="`pending` (still retried), `delivered` or `dead` (given up on)"),
    ] = None,
    since: Annotated[Time, queries.since("Recorded")] = None,
    until: Annotated[Time, queries.until("Recorded")] = None,
    order: Order = "newest",
    limit: Limit = queries.DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> DeliveryPage:
    """The tenant's webhook deliveries with their attempts (time, URL, status code, error,
    latency); `status=dead` is the dead list. Newest recorded first by default."""
    asked = DeliveryQuery(subscription_id, alert_id, status, since, until)
    query = {**vars(asked), "order": order}
    where, direction = asked.where(caller.tenant_id), queries.direction(order)
    scan = keyset.scan_of(ctx.db[collections.DELIVERIES], where, SORT_FIELD, direction, PROJECTION)
    page = await keyset.collect(
        scan, _views, position_of, start=queries.start(cursor, query, "time"), limit=limit
    )
    return DeliveryPage(items=page.items, next=queries.next_link(request, page.next, query))


async def find(ctx: Context, tenant_id: str, delivery_id: str) -> dict[str, Any]:
    """The tenant's delivery, without its body; 404 when there is none."""
    document = await ctx.db[collections.DELIVERIES].find_one(
        {"_id": delivery_id, "tenant_id": tenant_id}, PROJECTION
    )
    if document is None:
        raise ApiError(404, "not_found", f"no delivery {delivery_id!r}")
    return document


@router.get(
    "/{delivery_id}",
    response_model=DeliveryView,
    responses={**AUTHENTICATED, 404: problem("Unknown, or another tenant's")},
)
async def one_delivery(
    delivery_id: str, caller: Reader, ctx: Annotated[Context, Depends(context)]
) -> DeliveryView:
    """One delivery with its attempts."""
    return view(await find(ctx, caller.tenant_id, delivery_id))
