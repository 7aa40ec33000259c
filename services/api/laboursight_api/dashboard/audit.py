"""The pages for auditors: the method document of each rule set, and the ledger's status (the
verify result and head hash ``GET /v1/ledger`` gives) with the replay diff reports. A folder
that is not configured or not there shows as an empty list."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from laboursight_api.ledger_routes import verdict_of

from . import method_docs, replay_reports
from .access import Ctx, PageRoute, Viewer, not_found, page, render
from .session import PATH
from .wiring import Dashboard, dashboard

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Reader = Annotated[Viewer, Depends(page("read findings"))]
Auditor = Annotated[Viewer, Depends(page("verify the ledger"))]
Board = Annotated[Dashboard, Depends(dashboard)]


@router.get(f"{PATH}/method", response_class=HTMLResponse)
async def method_list(request: Request, viewer: Reader, board: Board) -> HTMLResponse:
    found = method_docs.versions(board.method_dir)
    return render(request, "method_list.html", viewer=viewer, versions=found)


@router.get(f"{PATH}/method/{{version}}", response_class=HTMLResponse)
async def method_page(request: Request, version: str, viewer: Reader, board: Board) -> HTMLResponse:
    if board.method_dir is None or version not in method_docs.versions(board.method_dir):
        raise not_found(f"method document for rule set {version!r}")
    title, body = method_docs.document(board.method_dir / f"{version}.md")
    return render(request, "method.html", viewer=viewer, version=version, heading=title, body=body)


@router.get(f"{PATH}/ledger", response_class=HTMLResponse)
async def ledger(request: Request, viewer: Auditor, board: Board, ctx: Ctx) -> HTMLResponse:
    return render(
        request,
        "ledger.html",
        viewer=viewer,
        verdict=await verdict_of(ctx, viewer.tenant_id),
        reports=replay_reports.reports_of(board.replay_reports_dir, viewer.tenant_id),
    )
