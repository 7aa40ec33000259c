"""``/v1/subscriptions``: where notify delivers a tenant's alerts (Standard Webhooks), which
alerts, and the requests about their deliveries (redeliver, test-send).

- **Filters** (all must admit an alert; an empty list filters nothing): ``min_risk_level``
  (default ``low``: every alert the policy raises, since a strong indicator can be raised at
  ``medium``), ``countries`` (the entity's ISO 3166-1 alpha-2 country; an alert without a
  country passes no country filter), ``entity_ids``, ``indicators`` (any of them among the
  alert's), ``alert_types`` (``risk_level``, ``strong_indicator``, ``forced_labour``,
  ``watchlist_review``, ``source_contradiction``), and
  ``updates`` (default true): whether the later revisions (``AlertUpdated``) of an alert the
  subscription was sent come too. Either way, a revision that makes an alert match for the
  first time is sent, so an alert that escalates into a subscription's filters is not missed.
  Notify applies them (its ``model.Filters``); the api validates them.
- **Secrets** are made here and shown once: at creation, and by ``:rotate-secret``, after which
  the previous secret still signs every delivery beside the new one for ``overlap_s`` (24 h by
  default; 0 ends it at once, as after a leak), so receivers can switch without losing one.
  A second rotation ends the first one's overlap.
- A URL, at creation or changed by ``PATCH``, must pass the outbound policy (422 naming
  ``$.url``); notify checks again before every attempt, and sends pending deliveries to the URL
  as it is then.
"""

import base64
import secrets
import uuid
from datetime import datetime, timedelta
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Response
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    field_validator,
)
from pydantic_core import PydanticCustomError
from pymongo import ReturnDocument

from laboursight_runtime import outbound
from laboursight_schemas import collections
from laboursight_schemas.codes import CountryCode, Identifier
from laboursight_schemas.envelope import now
from laboursight_schemas.findings import (
    ALL_INDICATORS,
    CONTEXT_INDICATORS,
    AlertType,
    Indicator,
    RiskLevel,
)

from . import delivery_requests
from .auth import require
from .content_type import json_body
from .context import Context, context
from .delivery_requests import INACTIVE, RedeliverMany, Requested, Requester
from .errors import ApiError, invalid_fields
from .keys import Principal
from .openapi import AUTHENTICATED, JSON_BODY, problem
from .rights import roles

router = APIRouter(prefix="/v1/subscriptions", tags=["subscriptions"])
Reader = Annotated[Principal, Depends(require(*roles("read subscriptions")))]
Manager = Annotated[Principal, Depends(require(*roles("manage subscriptions")))]

DEFAULT_OVERLAP_S: Final = 24 * 3600
MAX_OVERLAP_S: Final = 7 * 24 * 3600
# Never shown again after it was made: only the answers that make a secret carry it.
SECRETS: Final = {"secret": False, "previous_secret": False}
NOT_FOUND: Final = problem("Unknown, or another tenant's")
FILTERS: Final = ("min_risk_level", "countries", "entity_ids", "indicators", "alert_types")


def _one_error(value: object, handler: ValidatorFunctionWrapHandler) -> object:
    # Otherwise each Literal of the union reports, under a name the caller never wrote.
    try:
        return handler(value)
    except ValidationError:
        raise PydanticCustomError(
            "indicator",
            "{value!r} is not an indicator: one of {slugs}",
            {"value": value, "slugs": SLUGS},
        ) from None


SLUGS: Final = ", ".join(ALL_INDICATORS)
Slug = Annotated[Indicator, WrapValidator(_one_error)]


def _alerting(indicators: list[Indicator] | None) -> list[Indicator] | None:
    context = sorted(set(indicators or ()) & CONTEXT_INDICATORS)
    if context:
        raise ValueError(f"{', '.join(context)} is context, never the cause of an alert")
    return indicators


class FilterFields(BaseModel):
    min_risk_level: RiskLevel = Field(
        default="low", description="The least risk level an alert must carry (`low`: any)"
    )
    countries: list[CountryCode] = Field(
        default_factory=list, max_length=250, description="The entity's country, one of these"
    )
    entity_ids: list[Identifier] = Field(
        default_factory=list, max_length=1000, description="The supplier or recruiter, one of these"
    )
    indicators: list[Slug] = Field(
        default_factory=list, max_length=20, description="Any of these among the alert's"
    )
    alert_types: list[AlertType] = Field(
        default_factory=list, max_length=5, description="Why the alert was raised, one of these"
    )
    updates: bool = Field(
        default=True, description="Whether later revisions of an alert sent come too"
    )

    _alerting = field_validator("indicators")(_alerting)


class NewSubscription(FilterFields):
    model_config = ConfigDict(extra="forbid")

    url: HttpUrl


def _not_null(value: object) -> object:
    if value is None:
        raise ValueError("must not be null: leave it out to keep it ([] removes a list filter)")
    return value


def _never_null(schema: dict[str, Any]) -> None:
    # Each field may be left out, never sent as null (``_not_null``): say so in the schema.
    for field in schema["properties"].values():
        kept = [s for s in field.pop("anyOf", []) if s != {"type": "null"}]
        if kept:
            field.update(kept[0])
        field.pop("default", None)


class SubscriptionChanges(BaseModel):
    """Only the fields sent change."""

    # Optional (not a union with None) keeps pydantic's error locations plain: `$.countries[0]`.
    model_config = ConfigDict(extra="forbid", json_schema_extra=_never_null)

    url: HttpUrl | None = None
    min_risk_level: RiskLevel | None = None
    countries: list[CountryCode] | None = Field(default=None, max_length=250)
    entity_ids: list[Identifier] | None = Field(default=None, max_length=1000)
    indicators: list[Slug] | None = Field(default=None, max_length=20)
    alert_types: list[AlertType] | None = Field(default=None, max_length=5)
    updates: bool | None = None
    active: bool | None = Field(
        default=None,
        description="false: nothing is sent, and its pending deliveries end dead (redeliver "
        "them once it is active again)",
    )

    _not_null = field_validator("*", mode="before")(_not_null)
    _alerting = field_validator("indicators")(_alerting)


class Rotation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    overlap_s: int = Field(
        default=DEFAULT_OVERLAP_S,
        ge=0,
        le=MAX_OVERLAP_S,
        description="How long the previous secret keeps signing beside the new one, in seconds",
    )


class SendTest(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Subscription(BaseModel):
    subscription_id: str
    url: str
    min_risk_level: RiskLevel
    countries: list[str]
    entity_ids: list[str]
    indicators: list[Indicator]
    alert_types: list[AlertType]
    updates: bool
    active: bool
    created_at: datetime
    updated_at: datetime | None
    secret_rotated_at: datetime | None
    previous_secret_expires_at: datetime | None = Field(
        description="Until when the previous secret signs too, after a rotation; null when "
        "only the current one does"
    )
    deliveries_url: str


class CreatedSubscription(Subscription):
    secret: str = Field(description="The signing secret: shown in this answer only")


class RotatedSecret(BaseModel):
    subscription_id: str
    secret: str = Field(description="The new signing secret: shown in this answer only")
    previous_secret_expires_at: datetime | None = Field(
        description="Until when the previous secret signs too; null when it stopped at once"
    )


def _stored_now() -> datetime:
    """Now, as MongoDB keeps it (whole milliseconds), so an answer says what a read will."""
    at = now()
    return at.replace(microsecond=at.microsecond // 1000 * 1000)


def webhook_secret() -> str:
    """A Standard Webhooks signing secret: ``whsec_`` and base64 of 24 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


async def resolver() -> outbound.Resolver:
    """How a webhook's host is resolved; a dependency so that tests can name their own."""
    return outbound.resolve


def _subscription(document: dict[str, Any]) -> Subscription:
    overlap_until = document.get("previous_secret_until")
    return Subscription(
        subscription_id=document["_id"],
        url=document["url"],
        min_risk_level=document.get("min_risk_level", "low"),
        countries=document.get("countries", []),
        entity_ids=document.get("entity_ids", []),
        indicators=document.get("indicators", []),
        alert_types=document.get("alert_types", []),
        updates=document.get("updates", True),
        active=document["active"],
        created_at=document["created_at"],
        updated_at=document.get("updated_at"),
        secret_rotated_at=document.get("secret_rotated_at"),
        previous_secret_expires_at=(
            overlap_until if overlap_until is not None and overlap_until > now() else None
        ),
        deliveries_url=f"/v1/deliveries?subscription_id={document['_id']}",
    )


def _filters(values: dict[str, Any]) -> dict[str, Any]:
    """The filters as stored: each list without repeats, in order."""
    return {
        name: sorted(set(value)) if isinstance(value, list) else value
        for name, value in values.items()
    }


async def _checked_url(url: HttpUrl, ctx: Context, resolve: outbound.Resolver) -> str:
    refused = await outbound.check(str(url), ctx.settings.outbound_policy(), resolve)
    if refused is not None:
        raise invalid_fields([{"field": "$.url", "message": f"the URL {refused}"}])
    return str(url)


def _not_found(subscription_id: str) -> ApiError:
    return ApiError(404, "not_found", f"no subscription {subscription_id!r}")


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
    """Subscribe a webhook, with its filters; the signing secret is in this answer and never
    again (``:rotate-secret`` makes a new one).

    A URL whose host does not resolve, or resolves to an address the outbound policy refuses
    (loopback, private, link-local, metadata…), is a 422 naming ``$.url``; notify checks again
    before every attempt, as the name may resolve elsewhere by then.
    """
    url = await _checked_url(body.url, ctx, resolve)
    at = _stored_now()
    document = {
        "_id": str(uuid.uuid4()),
        "tenant_id": caller.tenant_id,
        "url": url,
        "secret": webhook_secret(),
        **_filters(body.model_dump(exclude={"url"})),
        "active": True,
        "created_at": at,
        "updated_at": at,
    }
    await ctx.db[collections.SUBSCRIPTIONS].insert_one(document)
    return CreatedSubscription(**_subscription(document).model_dump(), secret=document["secret"])


@router.get("", response_model=list[Subscription], responses=AUTHENTICATED)
async def list_all(caller: Reader, ctx: Annotated[Context, Depends(context)]) -> list[Subscription]:
    cursor = ctx.db[collections.SUBSCRIPTIONS].find({"tenant_id": caller.tenant_id}, SECRETS)
    return [_subscription(document) async for document in cursor.sort("created_at", 1)]


@router.get(
    "/{subscription_id}",
    response_model=Subscription,
    responses={**AUTHENTICATED, 404: NOT_FOUND},
)
async def one(
    subscription_id: str, caller: Reader, ctx: Annotated[Context, Depends(context)]
) -> Subscription:
    document = await ctx.db[collections.SUBSCRIPTIONS].find_one(
        {"_id": subscription_id, "tenant_id": caller.tenant_id}, SECRETS
    )
    if document is None:
        raise _not_found(subscription_id)
    return _subscription(document)


@router.patch(
    "/{subscription_id}",
    response_model=Subscription,
    responses={**AUTHENTICATED, **JSON_BODY, 404: NOT_FOUND},
    dependencies=[Depends(json_body)],
)
async def change(
    subscription_id: str,
    body: SubscriptionChanges,
    caller: Manager,
    ctx: Annotated[Context, Depends(context)],
    resolve: Annotated[outbound.Resolver, Depends(resolver)],
) -> Subscription:
    """Change the URL, the filters or whether it is active; what is not sent stays. A new URL
    is checked as at creation."""
    changes = _filters(body.model_dump(exclude_unset=True, exclude={"url"}))
    if body.url is not None:
        changes["url"] = await _checked_url(body.url, ctx, resolve)
    document = await ctx.db[collections.SUBSCRIPTIONS].find_one_and_update(
        {"_id": subscription_id, "tenant_id": caller.tenant_id},
        {"$set": {**changes, "updated_at": _stored_now()}},
        projection=SECRETS,
        return_document=ReturnDocument.AFTER,
    )
    if document is None:
        raise _not_found(subscription_id)
    return _subscription(document)


@router.delete(
    "/{subscription_id}",
    status_code=204,
    responses={**AUTHENTICATED, 404: NOT_FOUND},
)
async def delete(
    subscription_id: str, caller: Manager, ctx: Annotated[Context, Depends(context)]
) -> Response:
    """Unsubscribe: nothing more is sent, and its pending deliveries end dead unsent."""
    deleted = await ctx.db[collections.SUBSCRIPTIONS].delete_one(
        {"_id": subscription_id, "tenant_id": caller.tenant_id}
    )
    if not deleted.deleted_count:
        raise _not_found(subscription_id)
    return Response(status_code=204)


@router.post(
    "/{subscription_id}:rotate-secret",
    response_model=RotatedSecret,
    responses={
        **AUTHENTICATED,
        **JSON_BODY,
        404: NOT_FOUND,
        409: problem("Another rotation of this subscription's secret happened meanwhile"),
    },
    dependencies=[Depends(json_body)],
)
async def rotate_secret(
    subscription_id: str,
    caller: Manager,
    ctx: Annotated[Context, Depends(context)],
    body: Rotation | None = None,
) -> RotatedSecret:
    """A new signing secret, in this answer only. The previous one keeps signing beside it for
    ``overlap_s`` (24 h by default): every delivery meanwhile carries both signatures, so a
    receiver holding either accepts it."""
    overlap = timedelta(seconds=(body or Rotation()).overlap_s)
    subscriptions = ctx.db[collections.SUBSCRIPTIONS]
    current = await subscriptions.find_one(
        {"_id": subscription_id, "tenant_id": caller.tenant_id}, {"secret": True}
    )
    if current is None:
        raise _not_found(subscription_id)
    at, secret = _stored_now(), webhook_secret()
    rotated = await subscriptions.update_one(
        {"_id": subscription_id, "tenant_id": caller.tenant_id, "secret": current["secret"]},
        {
            "$set": {
                "secret": secret,
                "previous_secret": current["secret"],
                "previous_secret_until": at + overlap,
                "secret_rotated_at": at,
                "updated_at": at,
            }
        },
    )
    if not rotated.matched_count:
        raise ApiError(
            409, "conflict", "the secret was rotated (or the subscription deleted) meanwhile"
        )
    return RotatedSecret(
        subscription_id=subscription_id,
        secret=secret,
        previous_secret_expires_at=at + overlap if overlap else None,
    )


@router.post(
    "/{subscription_id}:redeliver",
    status_code=202,
    response_model=Requested,
    responses={**AUTHENTICATED, **JSON_BODY, 404: NOT_FOUND, 409: INACTIVE},
    dependencies=[Depends(json_body)],
)
async def redeliver(
    subscription_id: str,
    caller: Requester,
    ctx: Annotated[Context, Depends(context)],
    body: RedeliverMany | None = None,
) -> Requested:
    """Send the subscription's dead alert deliveries again (or its delivered ones, with
    ``status``; in a period of recording, with ``since`` and ``until``): each becomes pending
    with a new retry horizon and the same webhook-id, its earlier attempts kept."""
    asked = body or RedeliverMany()
    await delivery_requests.active_subscription(ctx, caller.tenant_id, subscription_id)
    statuses = sorted(set(asked.status))
    recorded = {op: t for op, t in (("$gte", asked.since), ("$lt", asked.until)) if t}
    if asked.since and asked.until and asked.until <= asked.since:
        raise invalid_fields([{"field": "$.until", "message": "must be later than since"}])
    matching = await ctx.db[collections.DELIVERIES].count_documents(
        {
            "tenant_id": caller.tenant_id,
            "subscription_id": subscription_id,
            "status": {"$in": statuses},
            "alert_id": {"$ne": None},
            **({"recorded_at": recorded} if recorded else {}),
        }
    )
    event = delivery_requests.redelivery_event(
        caller,
        subscription_id,
        delivery_id=None,
        statuses=statuses,
        since=asked.since,
        until=asked.until,
    )
    await delivery_requests.publish(ctx, event, subscription_id)
    return delivery_requests.requested(event, matching, None)


@router.post(
    "/{subscription_id}:test",
    status_code=202,
    response_model=Requested,
    responses={**AUTHENTICATED, **JSON_BODY, 404: NOT_FOUND, 409: INACTIVE},
    dependencies=[Depends(json_body)],
)
async def send_test(
    subscription_id: str,
    caller: Manager,
    ctx: Annotated[Context, Depends(context)],
    body: SendTest | None = None,
) -> Requested:
    """Post a signed test event (``org.laboursight.webhook.test``) to the endpoint, once; its
    outcome is a delivery of its own, at ``delivery_url``."""
    document = await delivery_requests.active_subscription(ctx, caller.tenant_id, subscription_id)
    event = delivery_requests.requested_test_event(caller, subscription_id, document["url"])
    await delivery_requests.publish(ctx, event, subscription_id)
    return delivery_requests.requested(event, None, f"{event.id}:{subscription_id}")
