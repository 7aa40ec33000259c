"""``/v1/disclosures``: the command side publishes to Kafka, the query side reads projections."""

import asyncio
import logging
import uuid
from collections.abc import Awaitable
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from aiokafka.errors import KafkaError
from fastapi import APIRouter, Depends, Header, Request, Response
from pydantic import BaseModel
from pymongo.errors import PyMongoError

from laboursight_runtime import logs
from laboursight_schemas import collections
from laboursight_schemas.disclosure import Disclosure
from laboursight_schemas.envelope import now

from . import idempotency
from .auth import require
from .content_type import json_body
from .context import Context, context
from .errors import ApiError, invalid_fields, invalid_json, unavailable
from .events import submitted_event
from .keys import Principal
from .metrics import ACCEPTED, REJECTED
from .openapi import AUTHENTICATED, JSON_BODY, RETRY_AFTER, problem
from .validation import InvalidBody, InvalidJson, parse_disclosure

log = logging.getLogger(__name__)
router = APIRouter(prefix="/v1/disclosures", tags=["disclosures"])


class Accepted(BaseModel):
    disclosure_id: str
    status_url: str
    event_id: str


class DisclosureStatus(BaseModel):
    disclosure_id: str
    kind: Literal["supplier", "recruiter"] | None
    entity_id: str | None
    status: Literal["accepted", "screened", "failed"]
    accepted_at: datetime | None
    findings: list[dict[str, Any]]
    judgement: dict[str, Any] | None
    rule_set_version: str | None
    rule_set_hash: str | None
    reference_data_edition: str | None


def _reject(kind: str, reason: str, error: ApiError) -> ApiError:
    REJECTED.labels(kind, reason).inc()
    return error


async def _read_disclosure(request: Request) -> Disclosure:
    try:
        return parse_disclosure(await request.body())
    except InvalidJson as error:
        raise _reject("unknown", "invalid_json", invalid_json(str(error))) from None
    except InvalidBody as error:
        raise _reject(error.kind, "validation_failed", invalid_fields(error.errors)) from None


@router.post(
    "",
    status_code=202,
    response_model=Accepted,
    response_description="Kafka acknowledged the disclosure; screening follows",
    responses={
        **AUTHENTICATED,
        **JSON_BODY,
        202: {
            "headers": {"Location": {"description": "The status URL", "schema": {"type": "string"}}}
        },
        400: problem("The body is not JSON, or the Idempotency-Key header is malformed"),
        403: problem("Not a submitter key, or not bound to this supplier or recruiter"),
        409: problem("A request with this Idempotency-Key is still in progress"),
        422: problem("Invalid fields, or an Idempotency-Key reused with another body"),
        503: problem(
            "Kafka did not acknowledge, or MongoDB is unreachable; retry after Retry-After seconds",
            RETRY_AFTER,
        ),
    },
    dependencies=[Depends(json_body)],
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/Disclosure"}}
            },
        }
    },
)
async def submit(
    request: Request,
    response: Response,
    caller: Annotated[Principal, Depends(require("submitter"))],
    ctx: Annotated[Context, Depends(context)],
    idempotency_key: Annotated[str | None, Header(alias=idempotency.HEADER)] = None,
) -> dict[str, Any]:
    """Accept a disclosure: 202 once Kafka has it; screening follows asynchronously."""
    disclosure = await _read_disclosure(request)
    if disclosure.entity_id not in caller.entity_ids:
        raise _reject(
            disclosure.kind,
            "entity_not_allowed",
            ApiError(
                403,
                "forbidden",
                f"this key may not submit for {disclosure.kind} {disclosure.entity_id!r}; "
                f"it may submit for {', '.join(sorted(caller.entity_ids))}",
            ),
        )
    answer = await _accept(ctx, caller, disclosure, idempotency_key)
    response.headers["Location"] = answer["status_url"]
    return answer


async def _accept(
    ctx: Context, caller: Principal, disclosure: Disclosure, idempotency_key: str | None
) -> dict[str, Any]:
    ids = idempotency.Claimed(str(uuid.uuid4()), str(uuid.uuid4()))
    key: dict[str, str] | None = None
    if idempotency_key is not None:
        key = {
            "tenant_id": caller.tenant_id,
            "key_id": caller.key_id,
            "idempotency_key": _parse_key(idempotency_key, disclosure.kind),
        }
        decision = await _keys(ctx).claim(key, idempotency.fingerprint(disclosure), ids, now())
        if isinstance(decision, idempotency.Replay):
            return decision.response
        ids = _claimed(decision, disclosure.kind)
    token = logs.correlation_id.set(ids.disclosure_id)
    try:
        return await _publish(ctx, caller, disclosure, ids, key)
    finally:
        logs.correlation_id.reset(token)


def _parse_key(value: str, kind: str) -> str:
    try:
        return idempotency.parse_header(value)
    except ValueError as error:
        raise _reject(
            kind,
            "invalid_idempotency_key",
            ApiError(
                400,
                "invalid_idempotency_key",
                str(error),
                title=f"Malformed {idempotency.HEADER}",
                errors=[{"field": f"header:{idempotency.HEADER}", "message": str(error)}],
            ),
        ) from None


def _claimed(decision: idempotency.Decision, kind: str) -> idempotency.Claimed:
    if isinstance(decision, idempotency.Claimed):
        return decision
    if isinstance(decision, idempotency.Mismatch):
        raise _reject(
            kind,
            "idempotency_key_reused",
            ApiError(
                422,
                "idempotency_key_reused",
                f"this {idempotency.HEADER} was already used with a different body",
                title=f"{idempotency.HEADER} reused",
                errors=[{"field": f"header:{idempotency.HEADER}", "message": "reused"}],
            ),
        )
    raise _reject(
        kind,
        "idempotency_in_progress",
        ApiError(
            409,
            "idempotency_in_progress",
            f"a request with this {idempotency.HEADER} is still in progress; retry later",
            title=f"{idempotency.HEADER} in use",
        ),
    )


def _keys(ctx: Context) -> idempotency.IdempotencyKeys:
    return idempotency.IdempotencyKeys(
        ctx.db[collections.IDEMPOTENCY_KEYS],
        timedelta(seconds=ctx.settings.api_idempotency_lock_s),
    )


async def _publish(
    ctx: Context,
    caller: Principal,
    disclosure: Disclosure,
    ids: idempotency.Claimed,
    key: dict[str, str] | None,
) -> dict[str, Any]:
    topic, event = submitted_event(
        disclosure,
        disclosure_id=ids.disclosure_id,
        event_id=ids.event_id,
        tenant_id=caller.tenant_id,
        submitted_by=caller.key_id,
    )
    try:
        async with asyncio.timeout(ctx.settings.api_publish_timeout_s):
            await ctx.bus.publish(topic, disclosure.entity_id, event)
    except Exception as error:
        if key is not None:
            await _quietly(_keys(ctx).fail(key), "could not release the idempotency key")
        if not isinstance(error, KafkaError | TimeoutError):
            raise
        log.warning("kafka did not acknowledge", extra={"error": repr(error), "topic": topic})
        raise _reject(
            disclosure.kind,
            "kafka_unavailable",
            unavailable(
                "the event log did not acknowledge the disclosure; retry later",
                ctx.settings.api_retry_after_s,
            ),
        ) from error
    ACCEPTED.labels(disclosure.kind).inc()
    answer = Accepted(
        disclosure_id=ids.disclosure_id,
        status_url=f"/v1/disclosures/{ids.disclosure_id}",
        event_id=ids.event_id,
    ).model_dump()
    # From here the event is the record: a failed write below only delays the status view.
    await _quietly(
        _record(ctx, caller, disclosure, ids, event.time), "could not record the disclosure"
    )
    if key is not None:
        await _quietly(_keys(ctx).complete(key, answer), "could not complete the idempotency key")
    log.info("disclosure accepted", extra={"kind": disclosure.kind, "event_id": ids.event_id})
    return answer


async def _record(
    ctx: Context,
    caller: Principal,
    disclosure: Disclosure,
    ids: idempotency.Claimed,
    accepted_at: datetime,
) -> None:
    # The risk service may have written the screened status first: only the status is left
    # to an insert; the facts only the api knows are set either way.
    await ctx.db[collections.DISCLOSURES].update_one(
        {"_id": ids.disclosure_id, "tenant_id": caller.tenant_id},
        {
            "$setOnInsert": {"status": "accepted"},
            "$set": {
                "kind": disclosure.kind,
                "entity_id": disclosure.entity_id,
                "submitted_by": caller.key_id,
                "event_id": ids.event_id,
            },
            "$min": {"accepted_at": accepted_at},
        },
        upsert=True,
    )


async def _quietly(write: Awaitable[object], problem: str) -> None:
    try:
        await write
    except PyMongoError as error:
        log.warning(problem, extra={"error": repr(error)})


@router.get(
    "/{disclosure_id}",
    response_model=DisclosureStatus,
    responses={**AUTHENTICATED, 404: problem("Unknown, or another tenant's")},
)
async def status(
    disclosure_id: str,
    caller: Annotated[Principal, Depends(require("submitter", "analyst", "auditor"))],
    ctx: Annotated[Context, Depends(context)],
) -> DisclosureStatus:
    """The status of a disclosure and, once screened, its findings and judgement."""
    scope = {"tenant_id": caller.tenant_id}
    document = await ctx.db[collections.DISCLOSURES].find_one({"_id": disclosure_id, **scope})
    findings = await ctx.db[collections.FINDINGS].find_one(
        {"disclosure_id": disclosure_id, **scope}, sort=[("computed_at", -1)]
    )
    # Either may be missing: risk can write before the api does, or the api's write failed.
    document, findings = document or {}, findings or {}
    entity_id = document.get("entity_id", findings.get("entity_id"))
    visible = bool(document or findings) and (
        caller.role != "submitter" or entity_id in caller.entity_ids
    )
    if not visible:
        raise ApiError(404, "not_found", f"no disclosure {disclosure_id!r}")
    return DisclosureStatus(
        disclosure_id=disclosure_id,
        kind=document.get("kind", findings.get("entity_kind")),
        entity_id=entity_id,
        status="screened" if findings else document.get("status", "accepted"),
        accepted_at=document.get("accepted_at"),
        findings=findings.get("findings", []),
        judgement=findings.get("judgement"),
        rule_set_version=findings.get("rule_set_version"),
        rule_set_hash=findings.get("rule_set_hash"),
        reference_data_edition=findings.get("reference_data_edition"),
    )
