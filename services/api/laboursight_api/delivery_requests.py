"""Asking notify to redeliver or test-send: ``POST /v1/deliveries/{id}:redeliver`` here, and
the events that ``/v1/subscriptions/{id}:redeliver`` and ``:test`` publish.

Notify is the only writer of the delivery log, so the api publishes a request to
``deliveries.requests.v1`` and notify carries it out. The answer is a 202 once the broker
acknowledged the request; a broker that does not is a 503 with ``Retry-After``, and nothing was
asked (a request that reached the broker all the same is carried out, and carrying it out
again changes nothing: its event id is the request id). The 202 says what was asked and how
many deliveries matched when it was asked; notify redelivers those that still match when it
reads the request (a delivery redelivered meanwhile is pending, so no longer matches).
"""

import uuid
from datetime import datetime
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from laboursight_runtime import tracing
from laboursight_schemas import collections, topics
from laboursight_schemas.delivery_requests import (
    RedeliverableStatus,
    RedeliveryRequested,
    SubscriptionTestRequested,
)
from laboursight_schemas.envelope import (
    DATA_VERSIONS,
    REDELIVERY_REQUESTED,
    SUBSCRIPTION_TEST_REQUESTED,
    Envelope,
    now,
)

from . import delivery_queries
from .auth import require
from .content_type import json_body
from .context import Context, context
from .errors import ApiError, unavailable
from .keys import Principal
from .openapi import AUTHENTICATED, JSON_BODY, problem
from .outbox import outbox_record
from .rights import roles

router = APIRouter(prefix="/v1/deliveries", tags=["deliveries"])

SOURCE: Final = "/laboursight/api"
Requester = Annotated[Principal, Depends(require(*roles("redeliver")))]


class Requested(BaseModel):
    """What was asked of notify."""

    request_id: str = Field(description="Also the id of the request's event")
    subscription_id: str
    delivery_id: str | None = Field(description="The one delivery asked for, if one was")
    status: list[RedeliverableStatus] | None = Field(
        description="A redelivery: the statuses of the deliveries it redelivers"
    )
    since: datetime | None = Field(description="A redelivery: recorded at or after this time")
    until: datetime | None = Field(description="A redelivery: recorded before this time")
    matching: int | None = Field(
        description="A redelivery: the deliveries that matched when it was asked"
    )
    requested_at: datetime
    delivery_url: str | None = Field(
        description="The delivery to follow: the one redelivered, or the test-send's"
    )
    deliveries_url: str = Field(description="The subscription's delivery log")


class RedeliverOne(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RedeliverMany(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: list[RedeliverableStatus] = Field(
        default=["dead"],
        min_length=1,
        max_length=2,
        description="Which final deliveries: `dead` (the default), `delivered`, or both",
    )
    since: AwareDatetime | None = Field(
        default=None, description="Only those recorded at or after this time"
    )
    until: AwareDatetime | None = Field(
        default=None, description="Only those recorded before this time"
    )


async def publish(ctx: Context, event: Envelope[Any], subscription_id: str) -> None:
    """``event`` on the requests topic, acknowledged; a 503 otherwise."""
    [outcome] = await ctx.bus.send(
        [outbox_record(topics.DELIVERY_REQUESTS, subscription_id, event)]
    )
    if outcome is not None:
        raise unavailable(
            "the request could not be handed to the broker; retry later",
            ctx.settings.api_retry_after_s,
        )


def redelivery_event(
    caller: Principal,
    subscription_id: str,
    *,
    delivery_id: str | None,
    statuses: list[RedeliverableStatus],
    since: datetime | None = None,
    until: datetime | None = None,
) -> Envelope[RedeliveryRequested]:
    request_id = str(uuid.uuid4())
    return Envelope[RedeliveryRequested](
        **_attributes(caller, request_id, REDELIVERY_REQUESTED),
        data=RedeliveryRequested(
            request_id=request_id,
            subscription_id=subscription_id,
            delivery_id=delivery_id,
            statuses=statuses,
            recorded_since=since,
            recorded_until=until,
            requested_by=caller.key_id,
        ),
    )


def requested_test_event(
    caller: Principal, subscription_id: str, url: str
) -> Envelope[SubscriptionTestRequested]:
    request_id = str(uuid.uuid4())
    return Envelope[SubscriptionTestRequested](
        **_attributes(caller, request_id, SUBSCRIPTION_TEST_REQUESTED),
        data=SubscriptionTestRequested(
            request_id=request_id,
            subscription_id=subscription_id,
            url=url,
            requested_by=caller.key_id,
        ),
    )


def _attributes(caller: Principal, request_id: str, event_type: str) -> dict[str, Any]:
    return {
        "id": request_id,
        "type": event_type,
        "source": SOURCE,
        "time": now(),
        "tenant_id": caller.tenant_id,
        # No disclosure is behind a request: it is its own correlation.
        "correlation_id": request_id,
        "data_version": DATA_VERSIONS[event_type],
        # In the request's trace, through notify to the webhook it makes.
        **tracing.current(),
    }


async def active_subscription(ctx: Context, tenant_id: str, subscription_id: str) -> dict[str, Any]:
    """The tenant's subscription; 404 when there is none, 409 when it is deactivated."""
    document = await ctx.db[collections.SUBSCRIPTIONS].find_one(
        {"_id": subscription_id, "tenant_id": tenant_id}, {"url": True, "active": True}
    )
    if document is None:
        raise ApiError(404, "not_found", f"no subscription {subscription_id!r}")
    if not document.get("active", True):
        raise ApiError(
            409,
            "subscription_inactive",
            "the subscription is deactivated: activate it first (PATCH active: true)",
        )
    return document


def requested(
    event: Envelope[RedeliveryRequested] | Envelope[SubscriptionTestRequested],
    matching: int | None,
    delivery_id: str | None,
) -> Requested:
    data = event.data
    redelivery = data if isinstance(data, RedeliveryRequested) else None
    return Requested(
        request_id=data.request_id,
        subscription_id=data.subscription_id,
        delivery_id=delivery_id,
        status=None if redelivery is None else redelivery.statuses,
        since=None if redelivery is None else redelivery.recorded_since,
        until=None if redelivery is None else redelivery.recorded_until,
        matching=matching,
        requested_at=event.time,
        delivery_url=None if delivery_id is None else f"/v1/deliveries/{delivery_id}",
        deliveries_url=f"/v1/deliveries?subscription_id={data.subscription_id}",
    )


INACTIVE: Final = problem("The subscription is deactivated")
PENDING_OR_INACTIVE: Final = problem(
    "The delivery is still pending (it is being retried), or its subscription is deactivated"
)


@router.post(
    "/{delivery_id}:redeliver",
    status_code=202,
    response_model=Requested,
    responses={
        **AUTHENTICATED,
        **JSON_BODY,
        404: problem("Unknown, or another tenant's"),
        409: PENDING_OR_INACTIVE,
    },
    dependencies=[Depends(json_body)],
)
async def redeliver(
    delivery_id: str,
    caller: Requester,
    ctx: Annotated[Context, Depends(context)],
    body: RedeliverOne | None = None,
) -> Requested:
    """Send a dead (or delivered) delivery again: it becomes pending with a new retry horizon,
    the same webhook-id (receivers dedupe on it) and its earlier attempts kept in its log."""
    document = await delivery_queries.find(ctx, caller.tenant_id, delivery_id)
    if document["status"] == "pending":
        raise ApiError(
            409,
            "delivery_pending",
            "the delivery is pending: it is retried until its horizon "
            f"({document['expires_at'].isoformat()}); redeliver it once it is dead",
        )
    subscription_id = document["subscription_id"]
    await active_subscription(ctx, caller.tenant_id, subscription_id)
    event = redelivery_event(
        caller, subscription_id, delivery_id=delivery_id, statuses=["dead", "delivered"]
    )
    await publish(ctx, event, subscription_id)
    return requested(event, 1, delivery_id)
