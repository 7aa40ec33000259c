"""The case workflow over HTTP: an alert triaged into a case (``POST
/v1/alerts/{alert_id}:triage``) or dismissed with a reason (``…:dismiss``), and every change to a
case (``POST /v1/cases/{case_id}/changes``).

An answer means MongoDB holds the change and its event durably (one journaled majority write);
the event reaches ``cases.v1`` right after, or through the relay once Kafka is back. The
router's lifespan runs the relay and the overdue watch of this api process; both are safe with
several (``case_relay``, ``case_service``).
"""

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Annotated, Final, Literal

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from laboursight_schemas.cases import Owner, Reason, Text
from laboursight_schemas.disclosure import EntityKind
from laboursight_schemas.envelope import now

from .auth import require
from .background import Background
from .case_relay import CasePublisher
from .case_service import Cases, Contended, Decided, Triage, Unknown
from .case_settings import CaseSettingsStore
from .case_store import CaseFull, CaseStore
from .case_views import CaseView, detail
from .cases_domain import Change, InvalidChange, NotAllowed, StaleRevision
from .content_type import json_body
from .context import Context, context
from .errors import ApiError, invalid_fields
from .keys import Principal
from .openapi import AUTHENTICATED, JSON_BODY, problem
from .rights import roles


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    # Runs inside the application's lifespan, once its wiring is on the state.
    ctx: Context = app.state.context
    settings = ctx.settings
    store = CaseStore(ctx.db)
    await store.create_indexes()
    publisher = CasePublisher(
        ctx.bus,
        store,
        now,
        hold=timedelta(seconds=settings.api_publish_timeout_s + settings.api_relay_delay_s),
        lease=timedelta(seconds=settings.api_relay_lease_s),
    )
    cases = Cases(store, CaseSettingsStore(ctx.db), publisher, now, lambda: str(uuid.uuid4()))
    app.state.cases = cases
    app.state.case_publisher = publisher
    background = Background()
    background.every("case relay", settings.api_case_relay_interval_s, publisher.relay_once)
    background.every("overdue cases", settings.api_case_overdue_interval_s, cases.report_overdue)
    try:
        yield
    finally:
        await background.stop()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(settings.api_publish_timeout_s):
                await publisher.settled()


router = APIRouter(tags=["cases"], lifespan=_lifespan)
Writer = Annotated[Principal, Depends(require(*roles("work cases")))]
NOT_FOUND: Final = problem("No such alert or case, or another tenant's")


async def workflow(request: Request) -> Cases:
    found: Cases = request.app.state.cases
    return found


Workflow = Annotated[Cases, Depends(workflow)]
Ctx = Annotated[Context, Depends(context)]


class TriageRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    case_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="A case of the same entity to add the alert to; without it, a new case",
    )
    owner: Owner | None = Field(default=None, description="A new case's owner")
    comment: Text | None = Field(default=None, description="A note on the triage")


class DismissRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Reason = Field(description="Why the alert needs no case; required")


class Dismissal(BaseModel):
    alert_id: str
    status: Literal["dismissed"]
    entity_kind: EntityKind
    entity_id: str
    reason: str
    dismissed_by: str = Field(description="The API key id that dismissed it")
    dismissed_at: datetime


def refusal(error: Exception) -> ApiError:
    """The answer to what the workflow refused."""
    detail = str(error)
    match error:
        case Unknown():
            return ApiError(404, "not_found", detail)
        case InvalidChange():
            return invalid_fields(error.errors)
        case NotAllowed():
            return ApiError(409, "transition_not_allowed", detail, title="Not allowed now")
        case StaleRevision():
            return ApiError(409, "stale_revision", detail, title="Changed since")
        case CaseFull():
            return ApiError(409, "case_full", "the case cannot hold more changes; open a new case")
        case _:
            return ApiError(409, "conflict", detail)


REFUSED: Final = (Unknown, Decided, Contended, InvalidChange, NotAllowed, StaleRevision, CaseFull)


async def _answer(ctx: Context, tenant_id: str, case_id: str) -> CaseView:
    view = await detail(ctx, tenant_id, case_id, now())
    if view is None:  # a case is never deleted; a tenant's own case id always reads
        raise ApiError(404, "not_found", f"no case {case_id!r}")
    return view


@router.post(
    "/v1/alerts/{alert_id}:triage",
    status_code=201,
    response_model=CaseView,
    responses={
        **AUTHENTICATED,
        **JSON_BODY,
        200: {"model": CaseView, "description": "The alert joined the case named by `case_id`"},
        201: {
            "description": "A new case, with the alert",
            "headers": {"Location": {"description": "The case", "schema": {"type": "string"}}},
        },
        404: NOT_FOUND,
        409: problem(
            "The alert is in a case already or dismissed (`conflict`), or the case named is "
            "closed (`transition_not_allowed`)"
        ),
        422: problem(
            "Invalid fields, or `case_id` names a case of another entity; `errors` names each"
        ),
    },
    dependencies=[Depends(json_body)],
)
async def triage(
    alert_id: str,
    body: TriageRequest,
    response: Response,
    caller: Writer,
    cases: Workflow,
    ctx: Ctx,
) -> CaseView:
    """Open a case for the alert, or add it to a case of the same entity (`case_id`). A case is
    due by the tenant's days for its severity (`/v1/case-settings`; RBA practice by default: a
    corrective action plan within 7 days for a critical alert, 14 otherwise)."""
    if body.case_id is not None and body.owner is not None:
        raise invalid_fields(
            [{"field": "$.owner", "message": "a case's owner changes by action owner_changed"}]
        )
    try:
        case_id, created = await cases.triage(
            caller.tenant_id,
            Triage(alert_id, body.case_id, body.owner, body.comment),
            caller.key_id,
        )
    except REFUSED as error:
        raise refusal(error) from None
    if created:
        response.headers["Location"] = f"/v1/cases/{case_id}"
    else:
        response.status_code = 200
    return await _answer(ctx, caller.tenant_id, case_id)


@router.post(
    "/v1/alerts/{alert_id}:dismiss",
    response_model=Dismissal,
    responses={
        **AUTHENTICATED,
        **JSON_BODY,
        404: NOT_FOUND,
        409: problem("The alert is in a case already, or dismissed"),
    },
    dependencies=[Depends(json_body)],
)
async def dismiss(
    alert_id: str, body: DismissRequest, caller: Writer, cases: Workflow
) -> Dismissal:
    """Dismiss the alert with a reason (required): it needs no case. Final: a dismissed alert
    is never triaged."""
    try:
        dismissed = await cases.dismiss(caller.tenant_id, alert_id, body.reason, caller.key_id)
    except REFUSED as error:
        raise refusal(error) from None
    return Dismissal(
        alert_id=alert_id,
        status="dismissed",
        entity_kind=dismissed.entity_kind,
        entity_id=dismissed.entity_id,
        reason=dismissed.reason,
        dismissed_by=dismissed.actor,
        dismissed_at=dismissed.at,
    )


@router.post(
    "/v1/cases/{case_id}/changes",
    response_model=CaseView,
    responses={
        **AUTHENTICATED,
        **JSON_BODY,
        404: NOT_FOUND,
        409: problem(
            "The case's status does not allow it (`transition_not_allowed`, naming the status "
            "it is in and the one asked for), the case changed since `revision` "
            "(`stale_revision`), or it cannot hold more changes (`case_full`)"
        ),
        422: problem(
            "Invalid fields, a detail the action needs and lacks (closing: `$.reason` and "
            "`$.evidence`), or one it does not take; `errors` names each"
        ),
    },
    dependencies=[Depends(json_body)],
)
async def change(case_id: str, body: Change, caller: Writer, cases: Workflow, ctx: Ctx) -> CaseView:
    """Change the case; the change becomes an entry of its history and an event on
    `cases.v1`.

    Actions: `acknowledged` (open or reopened → acknowledged, `owner` optional);
    `owner_changed` (`owner`); `statement_requested` (→ awaiting_supplier, `statement`);
    `cap_set` (`cap`: root cause, corrective and preventive action, due date, which becomes
    the case's); `comment_added` (`comment`); `attachment_added` (`attachment`: uri, sha256,
    description); `status_changed` (`status`: remediation or verifying); `closed` (from
    verifying, `reason` and at least one `evidence` reference); `reopened` (from closed,
    `reason`). `comment` is a note on any action. A closed case takes comments only."""
    try:
        await cases.change(caller.tenant_id, case_id, body, caller.key_id)
    except REFUSED as error:
        raise refusal(error) from None
    return await _answer(ctx, caller.tenant_id, case_id)
