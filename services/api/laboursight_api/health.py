"""Liveness, readiness and Prometheus metrics; no authentication."""

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pymongo.errors import PyMongoError

from .context import Context, context

router = APIRouter(tags=["operations"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """200 while the process serves."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "Kafka or MongoDB unreachable"}})
async def readyz(ctx: Annotated[Context, Depends(context)]) -> JSONResponse:
    """200 when both Kafka and MongoDB answer; otherwise 503 naming the one that did not."""
    kafka, mongodb = await asyncio.gather(ctx.bus.ping(), _mongodb_answers(ctx))
    ready = kafka and mongodb
    return JSONResponse(
        {"status": "ready" if ready else "not ready", "kafka": kafka, "mongodb": mongodb},
        status_code=200 if ready else 503,
    )


async def _mongodb_answers(ctx: Context) -> bool:
    try:
        await ctx.db.command("ping")
    except PyMongoError:
        return False
    return True


@router.get("/metrics", include_in_schema=False)
async def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
