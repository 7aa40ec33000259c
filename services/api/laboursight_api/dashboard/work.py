"""The analysts' work: the inbox with its triage and dismissal, the case board, a case, and its
changes, through the workflow the JSON routes use (``case_service.Cases``) and the lists they
read (``alert_queries``, ``case_queries``)."""

from collections.abc import Mapping
from typing import Annotated, Final

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from laboursight_api import keyset
from laboursight_api.alert_queries import SORT_FIELD, AlertQuery, Explained, position_of
from laboursight_api.case_queries import CaseQuery
from laboursight_api.case_routes import REFUSED
from laboursight_api.case_service import Cases, Triage, Unknown
from laboursight_api.case_store import STATE_ONLY, CaseFull, case_of
from laboursight_api.case_views import CaseSummary, detail, summary
from laboursight_api.cases_domain import InvalidChange, NotAllowed, StaleRevision
from laboursight_schemas import collections
from laboursight_schemas.envelope import now
from laboursight_schemas.findings import RISK_LEVELS

from .access import Ctx, PageRoute, Posted, Refusal, Viewer, action, not_found, page, render
from .case_forms import ACTIONS, FormProblem, change_of, field_errors
from .paging import PAGE_SIZE, next_link, start
from .rendering import ALERT_TYPES
from .session import PATH

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Inbox = Annotated[Viewer, Depends(page("read alerts"))]
Board = Annotated[Viewer, Depends(page("read cases"))]
Work = Annotated[Posted, Depends(action("work cases"))]
ALERT_STATUSES: Final = ("open", "triaged", "dismissed", "resolved")
BOARD: Final = (
    "open",
    "acknowledged",
    "awaiting_supplier",
    "remediation",
    "verifying",
    "reopened",
    "closed",
)
PER_COLUMN: Final = 20


def _workflow(request: Request) -> Cases:
    found: Cases = request.app.state.cases
    return found


def _filter(
    request: Request, name: str, allowed: tuple[str, ...], default: str | None
) -> str | None:
    value = request.query_params.get(name, default) or None
    if value is not None and value not in allowed:
        raise Refusal(422, "Unknown filter", f"{name} must be one of {', '.join(allowed)}.")
    return value


@router.get(f"{PATH}/inbox", response_class=HTMLResponse)
async def inbox(request: Request, viewer: Inbox, ctx: Ctx) -> HTMLResponse:
    """Newest alerts first, open ones by default."""
    status = _filter(request, "status", (*ALERT_STATUSES, "all"), "open")
    level = _filter(request, "risk_level", RISK_LEVELS, None)
    alert_type = _filter(request, "alert_type", ALERT_TYPES, None)
    asked = AlertQuery(
        status=None if status == "all" else status,  # type: ignore[arg-type]
        risk_level=level,  # type: ignore[arg-type]
        alert_type=alert_type,  # type: ignore[arg-type]
    )
    query = {**vars(asked), "order": "newest"}
    scan = keyset.scan_of(ctx.db[collections.ALERTS], asked.where(viewer.tenant_id), SORT_FIELD, -1)
    found = await keyset.collect(
        scan,
        Explained(ctx, viewer.tenant_id),
        position_of,
        start=start(request.query_params.get("cursor"), query, "time"),
        limit=PAGE_SIZE,
    )
    filters = {"status": status, "risk_level": level, "alert_type": alert_type}
    return render(
        request,
        "inbox.html",
        viewer=viewer,
        alerts=found.items,
        more=next_link(request.url.path, found.next, query, filters),
        filters=filters,
        statuses=(*ALERT_STATUSES, "all"),
    )


def _refused(error: Exception, back: str) -> Refusal:
    """The page that says why the workflow refused, with the way back."""
    match error:
        case Unknown():
            return not_found("such alert or case")
        case InvalidChange():
            said = "; ".join(field_errors(error.errors))
            return Refusal(422, "Not changed", f"{said}.", back=back)
        case NotAllowed() | StaleRevision() | CaseFull():
            return Refusal(409, "Not allowed now", f"{error}.", back=back)
        case _:
            return Refusal(409, "Already decided", f"{error}.", back=back)


def _back(to: str) -> Response:
    return RedirectResponse(to, status_code=303)


@router.post(f"{PATH}/alerts/{{alert_id}}/triage", response_class=HTMLResponse)
async def triage(request: Request, alert_id: str, posted: Work) -> Response:
    viewer = posted.viewer
    try:
        case_id, _ = await _workflow(request).triage(
            viewer.tenant_id,
            Triage(alert_id, None, posted.text("owner"), posted.text("comment")),
            viewer.principal.key_id,
        )
    except REFUSED as error:
        raise _refused(error, f"{PATH}/inbox") from None
    return _back(f"{PATH}/cases/{case_id}")


@router.post(f"{PATH}/alerts/{{alert_id}}/dismiss", response_class=HTMLResponse)
async def dismiss(request: Request, alert_id: str, posted: Work) -> Response:
    reason = posted.text("reason")
    if reason is None:
        raise Refusal(
            422,
            "Not dismissed",
            "Reason for dismissal: say why the alert needs no case.",
            back=f"{PATH}/inbox",
        )
    viewer = posted.viewer
    try:
        await _workflow(request).dismiss(
            viewer.tenant_id, alert_id, reason, viewer.principal.key_id
        )
    except REFUSED as error:
        raise _refused(error, f"{PATH}/inbox") from None
    back = posted.text("back")
    return _back(back if back is not None and _own(back) else f"{PATH}/inbox")


def _own(link: str | None) -> bool:
    """A link back into the dashboard (never elsewhere: an open redirect)."""
    return (
        link is not None and link.startswith(f"{PATH}/") and "//" not in link and "\\" not in link
    )


async def _column(ctx: Ctx, tenant_id: str, status: str) -> tuple[int, list[CaseSummary]]:
    at = now()
    where = CaseQuery(status=status).where(tenant_id, at)  # type: ignore[arg-type]
    cases = ctx.db[collections.CASES]
    # Closed cases: the latest closed; the others: soonest due first.
    order = [("updated_at", -1), ("_id", -1)] if status == "closed" else [("due_at", 1), ("_id", 1)]
    found = cases.find(where, STATE_ONLY).sort(order).limit(PER_COLUMN)
    return await cases.count_documents(where), [summary(case_of(d), at) async for d in found]


@router.get(f"{PATH}/cases", response_class=HTMLResponse)
async def case_board(request: Request, viewer: Board, ctx: Ctx) -> HTMLResponse:
    columns: Mapping[str, tuple[int, list[CaseSummary]]] = {
        status: await _column(ctx, viewer.tenant_id, status) for status in BOARD
    }
    return render(request, "cases.html", viewer=viewer, columns=columns)


@router.get(f"{PATH}/cases/{{case_id}}", response_class=HTMLResponse)
async def case_page(request: Request, case_id: str, viewer: Board, ctx: Ctx) -> HTMLResponse:
    view = await detail(ctx, viewer.tenant_id, case_id, now())
    if view is None:
        raise not_found(f"case {case_id!r}")
    return render(request, "case.html", viewer=viewer, case=view, actions=ACTIONS)


@router.post(f"{PATH}/cases/{{case_id}}/changes", response_class=HTMLResponse)
async def change(request: Request, case_id: str, posted: Work) -> Response:
    viewer, back = posted.viewer, f"{PATH}/cases/{case_id}"
    try:
        asked = change_of(posted)
    except FormProblem as problem:
        raise Refusal(422, "Not changed", "; ".join(problem.errors) + ".", back=back) from None
    try:
        await _workflow(request).change(viewer.tenant_id, case_id, asked, viewer.principal.key_id)
    except REFUSED as error:
        raise _refused(error, back) from None
    return _back(f"{PATH}/cases/{case_id}")
