"""``/v1/subscriptions``: where notify delivers a tenant's alerts (Standard Webhooks)."""

import base64
import secrets
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, ConfigDict, HttpUrl

from laboursight_runtime import outbound
from laboursight_schemas import collections
from laboursight_schemas.envelope import now

from .auth import require
from .content_type import json_body
from .context import Context, context
from .errors import ApiError, invalid_fields
from .keys import Principal
from .openapi import AUTHENTICATED, JSON_BODY, problem

router = APIRouter(prefix="/v1/subscriptions", tags=["subscriptions"])
Manager = Annotated[Principal, Depends(require("analyst", "admin"))]
MinRiskLevel = Literal["high", "critical"]


class NewSubscription(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: HttpUrl
    min_risk_level: MinRiskLevel = "high"


class Subscription(BaseModel):
    subscription_id: str
    url: str
    min_risk_level: MinRiskLevel
    active: bool
    created_at: datetime


class CreatedSubscription(Subscription):
    secret: str


def webhook_secret() -> str:
    """A Standard Webhooks signing secret: ``whsec_`` and base64 of 24 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


async def resolver() -> outbound.Resolver:
    """How a webhook's host is resolved; a dependency so that tests can name their own."""
    return outbound.resolve


def _subscription(document: dict[str, Any]) -> Subscription:
    return Subscription(subscription_id=document["_id"], **document)


@router.post(
    "",
    status_code=201,
    response_model=CreatedSubscription,
    responses={**AUTHENTICATED, **JSON_BODY},
    dependencies=[Depends(json_body)],
)
async def create(
    body: NewSubscription,
    caller: Manager,
    ctx: Annotated[Context, Depends(context)],
    resolve: Annotated[outbound.Resolver, Depends(resolver)],
) -> CreatedSubscription:
    """Subscribe a webhook; the signing secret is in this answer and never again.

    A URL whose host does not resolve, or resolves to an address the outbound policy refuses
    (loopback, private, link-local, metadata…), is a 422 naming ``$.url``; notify checks again
    before every attempt, as the name may resolve elsewhere by then.
    """
    refused = await outbound.check(str(body.url), ctx.settings.outbound_policy(), resolve)
    if refused is not None:
        raise invalid_fields([{"field": "$.url", "message": f"the URL {refused}"}])
    document = {
        "_id": str(uuid.uuid4()),
        "tenant_id": caller.tenant_id,
        "url": str(body.url),
        "secret": webhook_secret(),
        "min_risk_level": body.min_risk_level,
        "active": True,
        "created_at": now(),
    }
    await ctx.db[collections.SUBSCRIPTIONS].insert_one(document)
    return CreatedSubscription(subscription_id=document["_id"], **document)


@router.get("", response_model=list[Subscription], responses=AUTHENTICATED)
async def list_all(
    caller: Manager, ctx: Annotated[Context, Depends(context)]
) -> list[Subscription]:
    cursor = ctx.db[collections.SUBSCRIPTIONS].find(
        {"tenant_id": caller.tenant_id}, projection={"secret": False}
    )
    return [_subscription(document) async for document in cursor.sort("created_at", 1)]


@router.delete(
    "/{subscription_id}",
    status_code=204,
    responses={**AUTHENTICATED, 404: problem("Unknown, or another tenant's")},
)
async def delete(
    subscription_id: str, caller: Manager, ctx: Annotated[Context, Depends(context)]
) -> Response:
    deleted = await ctx.db[collections.SUBSCRIPTIONS].delete_one(
        {"_id": subscription_id, "tenant_id": caller.tenant_id}
    )
    if not deleted.deleted_count:
        raise ApiError(404, "not_found", f"no subscription {subscription_id!r}")
    return Response(status_code=204)
