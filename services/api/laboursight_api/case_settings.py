"""``/v1/case-settings``: a tenant's case policy, today the days a case is due in by severity.

One document per tenant (``case_settings``, the api's); a tenant that set nothing has the
defaults (``cases_domain.DueDays``: the RBA 7/14-day CAP practice). A change applies to due
dates set from then on (a case opened, reopened, or given a more severe alert), never to the
due dates already set.
"""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field
from pymongo.asynchronous.database import AsyncDatabase

from laboursight_schemas import collections
from laboursight_schemas.envelope import now

from .auth import require
from .case_store import stored_time
from .cases_domain import DueDays
from .content_type import json_body
from .context import Context, context
from .disclosure_store import JOURNALED
from .keys import Principal
from .openapi import AUTHENTICATED, JSON_BODY
from .rights import roles

router = APIRouter(prefix="/v1/case-settings", tags=["cases"])
Document = dict[str, Any]


class CaseSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    due_days: DueDays = Field(
        default_factory=DueDays,
        description="Days from a case's opening to its due date, by its severity (the highest "
        "risk level of its alerts); a field left out takes its default",
    )


class StoredSettings(CaseSettings):
    updated_at: datetime | None = Field(description="Null: the defaults, never set")
    updated_by: str | None = Field(description="The API key id that set them")


class CaseSettingsStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._collection = db.get_collection(collections.CASE_SETTINGS, write_concern=JOURNALED)

    async def read(self, tenant_id: str) -> StoredSettings:
        found = await self._collection.find_one({"_id": tenant_id, "tenant_id": tenant_id})
        if found is None:
            return StoredSettings(updated_at=None, updated_by=None)
        return StoredSettings.model_validate(found, extra="ignore")

    async def due_days(self, tenant_id: str) -> DueDays:
        return (await self.read(tenant_id)).due_days

    async def write(
        self, tenant_id: str, settings: CaseSettings, actor: str, at: datetime
    ) -> StoredSettings:
        stored = StoredSettings(**settings.model_dump(), updated_at=at, updated_by=actor)
        await self._collection.replace_one(
            {"_id": tenant_id, "tenant_id": tenant_id},
            {"tenant_id": tenant_id, **stored.model_dump()},
            upsert=True,
        )
        return stored


@router.get("", response_model=StoredSettings, responses=AUTHENTICATED)
async def read(
    caller: Annotated[Principal, Depends(require(*roles("read cases")))],
    ctx: Annotated[Context, Depends(context)],
) -> StoredSettings:
    """The tenant's case policy, or the defaults."""
    return await CaseSettingsStore(ctx.db).read(caller.tenant_id)


@router.put(
    "",
    response_model=StoredSettings,
    responses={**AUTHENTICATED, **JSON_BODY},
    dependencies=[Depends(json_body)],
)
async def write(
    body: CaseSettings,
    caller: Annotated[Principal, Depends(require(*roles("work cases")))],
    ctx: Annotated[Context, Depends(context)],
) -> StoredSettings:
    """Set the tenant's case policy; due dates already set keep their date."""
    at = stored_time(now())
    return await CaseSettingsStore(ctx.db).write(caller.tenant_id, body, caller.key_id, at)
