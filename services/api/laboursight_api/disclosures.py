"""``/v1/disclosures``: the command side stores and publishes (``acceptance``), the query side
derives each status from what the api and risk stored."""

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Request, Response
from pydantic import BaseModel, Field

from laboursight_schemas.disclosure import Disclosure

from . import idempotency
from .acceptance import Accepted, accept, reject
from .auth import require
from .content_type import json_body
from .context import Context, context
from .errors import ApiError, invalid_fields, invalid_json
from .keys import Principal
from .openapi import AUTHENTICATED, JSON_BODY, RETRY_AFTER, problem
from .outbox import is_shown
from .rights import roles
from .validation import InvalidBody, InvalidJson, parse_disclosure

router = APIRouter(prefix="/v1/disclosures", tags=["disclosures"])


class FailureView(BaseModel):
    stage: str = Field(description="The stage that gave up: `screening` or `risk`")
    reason: str = Field(description="Why, in words for the submitter")
    failed_at: datetime


class DisclosureStatus(BaseModel):
    disclosure_id: str
    kind: Literal["supplier", "recruiter"] | None
    entity_id: str | None
    status: Literal["accepted", "screened", "failed"] = Field(
        description="`accepted`: stored, screening follows; `screened`: its findings are below; "
        "`failed`: a stage gave up on it, `failure` says why"
    )
    accepted_at: datetime | None
    failure: FailureView | None = None
    findings: list[dict[str, Any]]
    judgement: dict[str, Any] | None
    context: list[dict[str, Any]] | None = Field(
        default=None,
        description="Inherent risk of the commodity and origin (the US DOL list) and possible "
        "watchlist matches, for review, never a finding; null where the rule set kept it in "
        "`findings` (2026.11.0)",
    )
    contradictions: list[dict[str, Any]] | None = Field(
        default=None,
        description="Fields of the disclosure that contradict each other, each with the "
        "reading assessed; null for rule sets without contradiction rules",
    )
    rule_set_version: str | None
    rule_set_hash: str | None
    reference_data_edition: str | None
    watchlists: list[str] | None = Field(
        default=None,
        description="The watchlist editions screened against (`<list_id>@<edition>`); null for "
        "rule sets that screen none",
    )


async def _read_disclosure(request: Request) -> Disclosure:
    try:
        return parse_disclosure(await request.body())
    except InvalidJson as error:
        raise reject("unknown", "invalid_json", invalid_json(str(error))) from None
    except InvalidBody as error:
        raise reject(error.kind, "validation_failed", invalid_fields(error.errors)) from None


@router.post(
    "",
    status_code=202,
    response_model=Accepted,
    response_description="MongoDB holds the disclosure durably; it is published to Kafka and "
    "screened after this answer",
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
            "MongoDB did not store the disclosure, which is not accepted and never will be; "
            "retry after Retry-After seconds (with the same Idempotency-Key, safely)",
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
    caller: Annotated[Principal, Depends(require(*roles("submit disclosures")))],
    ctx: Annotated[Context, Depends(context)],
    idempotency_key: Annotated[str | None, Header(alias=idempotency.HEADER)] = None,
) -> dict[str, Any]:
    """Accept a disclosure: 202 once it is stored durably; screening follows asynchronously,
    even while Kafka is unreachable."""
    disclosure = await _read_disclosure(request)
    if disclosure.entity_id not in caller.entity_ids:
        raise reject(
            disclosure.kind,
            "entity_not_allowed",
            ApiError(
                403,
                "forbidden",
                f"this key may not submit for {disclosure.kind} {disclosure.entity_id!r}; "
                f"it may submit for {', '.join(sorted(caller.entity_ids))}",
            ),
        )
    answer = await accept(ctx, caller, disclosure, idempotency_key)
    response.headers["Location"] = answer["status_url"]
    return answer


@router.get(
    "/{disclosure_id}",
    response_model=DisclosureStatus,
    responses={**AUTHENTICATED, 404: problem("Unknown, or another tenant's")},
)
async def status(
    disclosure_id: str,
    caller: Annotated[Principal, Depends(require(*roles("read disclosures")))],
    ctx: Annotated[Context, Depends(context)],
) -> DisclosureStatus:
    """The status of a disclosure and, once screened, its findings and judgement."""
    document = await ctx.disclosures.find(caller.tenant_id, disclosure_id)
    if not is_shown(document, ctx.timing):
        document = None
    findings = await ctx.findings.latest(caller.tenant_id, disclosure_id)
    # Findings without the api's document: events replayed from before the api kept one.
    document, findings = document or {}, findings or {}
    entity_id = document.get("entity_id", findings.get("entity_id"))
    visible = bool(document or findings) and (
        caller.role != "submitter" or entity_id in caller.entity_ids
    )
    if not visible:
        raise ApiError(404, "not_found", f"no disclosure {disclosure_id!r}")
    status = "screened" if findings else document["status"]
    return DisclosureStatus(
        disclosure_id=disclosure_id,
        kind=document.get("kind", findings.get("entity_kind")),
        entity_id=entity_id,
        status=status,
        accepted_at=document.get("accepted_at"),
        failure=document.get("failure") if status == "failed" else None,
        findings=findings.get("findings", []),
        judgement=findings.get("judgement"),
        context=findings.get("context"),
        contradictions=findings.get("contradictions"),
        rule_set_version=findings.get("rule_set_version"),
        rule_set_hash=findings.get("rule_set_hash"),
        reference_data_edition=findings.get("reference_data_edition"),
        watchlists=findings.get("watchlists"),
    )
