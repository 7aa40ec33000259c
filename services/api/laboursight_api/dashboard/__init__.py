"""The dashboard: server-rendered pages under ``/dashboard`` on top of the JSON api's reads and
workflow, signed in with an API key (``session``), every form CSRF-protected (``csrf``)."""

from pathlib import Path
from typing import Final

from fastapi import APIRouter
from fastapi.responses import FileResponse

from . import audit, entity_pages, overview, sign_in, work
from .session import PATH
from .wiring import lifespan

STYLESHEET: Final = Path(__file__).with_name("static") / "dashboard.css"

# Pages, not JSON operations: none of them is in the OpenAPI document.
router = APIRouter(lifespan=lifespan, include_in_schema=False)
for _module in (sign_in, overview, work, entity_pages, audit):
    router.include_router(_module.router)


@router.get(f"{PATH}/static/dashboard.css", include_in_schema=False)
async def stylesheet() -> FileResponse:
    """The one stylesheet; public, as it holds nothing of a tenant."""
    return FileResponse(STYLESHEET, media_type="text/css")
