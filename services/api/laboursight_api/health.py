"""Liveness, readiness and Prometheus metrics; no authentication."""

import asyncio
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from pymongo.errors import PyMongoError

from .context import Context, context

router = APIRouter(tags=["operations"])


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    status: Literal["ready", "not ready"]
    kafka: bool
    mongodb: bool


@router.get("/healthz", response_model=Health)
async def healthz() -> Health:
    """200 while the process serves."""
    return Health(status="ok")


@router.get(
    "/readyz",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "MongoDB unreachable"}},
)
async def readyz(ctx: Annotated[Context, Depends(context)]) -> JSONResponse:
    """200 while MongoDB answers, since that is all accepting a disclosure needs; ``kafka``
    says whether the broker answers too (while it does not, accepted disclosures wait in the
    outbox: ``laboursight_api_outbox_backlog``)."""
    kafka, mongodb = await asyncio.gather(ctx.bus.ping(), _mongodb_answers(ctx))
    readiness = Readiness(status="ready" if mongodb else "not ready", kafka=kafka, mongodb=mongodb)
    return JSONResponse(readiness.model_dump(), status_code=200 if mongodb else 503)


async def _mongodb_answers(ctx: Context) -> bool:
    try:
        await ctx.db.command("ping")
    except PyMongoError:
        return False
    return True


@router.get("/metrics", include_in_schema=False)
async def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
