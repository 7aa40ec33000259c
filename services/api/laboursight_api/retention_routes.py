"""``/v1/retention`` and ``/v1/legal-holds``: how long a tenant's records are kept, and the holds
that keep them whatever their age.

Admins set both; the readers of the tenant's records (analysts, auditors, admins) see them. The
purges (``laboursight-api purge``, ``laboursight-risk purge``, ``laboursight-notify purge``)
read them: a record older than the tenant's retention goes unless a hold in force keeps it. A
retention below ``MIN_RETENTION_YEARS`` (LkSG §10(1): seven years) is refused; the ledger is kept
for good whatever either says.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator

from laboursight_schemas.cases import Reason
from laboursight_schemas.codes import Identifier
from laboursight_schemas.disclosure import EntityKind
from laboursight_schemas.envelope import now
from laboursight_schemas.retention import (
    DEFAULT_RETENTION_YEARS,
    MAX_RETENTION_YEARS,
    MIN_RETENTION_YEARS,
    years_of,
)

from .auth import require
from .case_store import stored_time
from .content_type import json_body
from .context import Context, context
from .errors import ApiError, invalid_fields
from .keys import Principal
from .openapi import AUTHENTICATED, JSON_BODY, problem
from .retention_store import RetentionStore
from .rights import roles

HOLDS = "/v1/legal-holds"


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    # Runs inside the application's lifespan, once its wiring is on the state.
    ctx: Context = app.state.context
    await RetentionStore(ctx.db).create_indexes()
    yield


router = APIRouter(tags=["retention"], lifespan=_lifespan)
Reader = Annotated[Principal, Depends(require(*roles("read retention")))]
Admin = Annotated[Principal, Depends(require(*roles("manage retention")))]
Ctx = Annotated[Context, Depends(context)]
NOT_FOUND = problem("Unknown, or another tenant's")


class RetentionChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    years: int = Field(
        description=f"How many years the tenant's records are kept: {MIN_RETENTION_YEARS} "
        f"(the legal minimum, LkSG §10(1)) to {MAX_RETENTION_YEARS}"
    )

    @field_validator("years")
    @classmethod
    def _within_bounds(cls, years: int) -> int:
        if years < MIN_RETENTION_YEARS:
            raise ValueError(
                f"must be at least {MIN_RETENTION_YEARS}: due-diligence documentation is kept "
                f"{MIN_RETENTION_YEARS} years at least (LkSG §10(1))"
            )
        if years > MAX_RETENTION_YEARS:
            raise ValueError(f"must be at most {MAX_RETENTION_YEARS}")
        return years


class RetentionPolicy(BaseModel):
    years: int = Field(description="How many years the tenant's records are kept")
    default_years: int = Field(description="What a tenant that set nothing keeps")
    min_years: int = Field(description="The floor: no tenant keeps less (LkSG §10(1))")
    updated_at: datetime | None = Field(description="Null: the default, never set")
    updated_by: str | None = Field(description="The API key id that set it")


class NewHold(BaseModel):
    model_config = ConfigDict(extra="forbid")

    entity_kind: EntityKind | None = Field(
        default=None, description="With `entity_id`, the entity held; neither: the whole tenant"
    )
    entity_id: Identifier | None = Field(default=None, description="The supplier or recruiter id")
    reason: Reason = Field(description="Why the records are held: the matter, for the record")


class LegalHold(BaseModel):
    hold_id: str
    scope: Literal["tenant", "entity"] = Field(
        description="`tenant`: every record of the tenant is held; `entity`: the entity's"
    )
    entity_kind: EntityKind | None
    entity_id: str | None
    reason: str
    state: Literal["in_force", "released"]
    placed_at: datetime
    placed_by: str = Field(description="The API key id that placed it")
    released_at: datetime | None
    released_by: str | None = Field(description="The API key id that released it")


class LegalHolds(BaseModel):
    items: list[LegalHold] = Field(description="Every hold, released ones too, latest first")


def _policy(document: dict[str, Any] | None) -> RetentionPolicy:
    return RetentionPolicy(
        years=years_of(document),
        default_years=DEFAULT_RETENTION_YEARS,
        min_years=MIN_RETENTION_YEARS,
        updated_at=None if document is None else document["updated_at"],
        updated_by=None if document is None else document["updated_by"],
    )


def _hold(document: dict[str, Any]) -> LegalHold:
    return LegalHold(
        hold_id=document["_id"],
        scope="tenant" if document["entity_id"] is None else "entity",
        entity_kind=document["entity_kind"],
        entity_id=document["entity_id"],
        reason=document["reason"],
        state="in_force" if document["released_at"] is None else "released",
        placed_at=document["placed_at"],
        placed_by=document["placed_by"],
        released_at=document["released_at"],
        released_by=document["released_by"],
    )


@router.get("/v1/retention", response_model=RetentionPolicy, responses=AUTHENTICATED)
async def read_retention(caller: Reader, ctx: Ctx) -> RetentionPolicy:
    """How long the tenant's records are kept: its own years, or the default."""
    return _policy(await RetentionStore(ctx.db).policy(caller.tenant_id))


@router.put(
    "/v1/retention",
    response_model=RetentionPolicy,
    responses={**AUTHENTICATED, **JSON_BODY},
    dependencies=[Depends(json_body)],
)
async def set_retention(body: RetentionChange, caller: Admin, ctx: Ctx) -> RetentionPolicy:
    """Keep the tenant's records ``years`` years; below the legal minimum is a 422 (`$.years`).
    The next purge goes by it."""
    at = stored_time(now())
    stored = await RetentionStore(ctx.db).set_years(caller.tenant_id, body.years, caller.key_id, at)
    return _policy(stored)


@router.post(
    HOLDS,
    status_code=201,
    response_model=LegalHold,
    responses={
        **AUTHENTICATED,
        **JSON_BODY,
        201: {"headers": {"Location": {"description": "The hold", "schema": {"type": "string"}}}},
    },
    dependencies=[Depends(json_body)],
)
async def place_hold(body: NewHold, response: Response, caller: Admin, ctx: Ctx) -> LegalHold:
    """Hold the tenant's records (no entity), or one entity's, from any purge until the hold is
    released; an entity need not have records yet."""
    if (body.entity_kind is None) != (body.entity_id is None):
        missing = "$.entity_id" if body.entity_id is None else "$.entity_kind"
        raise invalid_fields(
            [{"field": missing, "message": "an entity hold names both entity_kind and entity_id"}]
        )
    at = stored_time(now())
    placed = await RetentionStore(ctx.db).place(
        caller.tenant_id, body.entity_kind, body.entity_id, body.reason, caller.key_id, at
    )
    response.headers["Location"] = f"{HOLDS}/{placed['_id']}"
    return _hold(placed)


@router.get(HOLDS, response_model=LegalHolds, responses=AUTHENTICATED)
async def list_holds(caller: Reader, ctx: Ctx) -> LegalHolds:
    """The tenant's holds, in force and released, the latest placed first."""
    return LegalHolds(
        items=[_hold(d) for d in await RetentionStore(ctx.db).holds(caller.tenant_id)]
    )


@router.get(
    HOLDS + "/{hold_id}", response_model=LegalHold, responses={**AUTHENTICATED, 404: NOT_FOUND}
)
async def get_hold(hold_id: str, caller: Reader, ctx: Ctx) -> LegalHold:
    found = await RetentionStore(ctx.db).hold(caller.tenant_id, hold_id)
    if found is None:
        raise _not_found(hold_id)
    return _hold(found)


@router.delete(
    HOLDS + "/{hold_id}", response_model=LegalHold, responses={**AUTHENTICATED, 404: NOT_FOUND}
)
async def release_hold(hold_id: str, caller: Admin, ctx: Ctx) -> LegalHold:
    """Release the hold: it is kept, with who released it and when, and holds nothing from
    then on; releasing it again changes nothing."""
    released = await RetentionStore(ctx.db).release(
        caller.tenant_id, hold_id, caller.key_id, stored_time(now())
    )
    if released is None:
        raise _not_found(hold_id)
    return _hold(released)


def _not_found(hold_id: str) -> ApiError:
    return ApiError(404, "not_found", f"no legal hold {hold_id!r}")
