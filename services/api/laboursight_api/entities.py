"""``/v1/entities/{entity_id}/risk``: an entity's risk profile as the risk service keeps it.

The profile shows the entity's own judgement, what a supplier inherits from the recruiters
that staff it, the findings of its latest disclosure with their evidence, and its history.
"""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from laboursight_schemas import collections
from laboursight_schemas.collections import entity_key
from laboursight_schemas.disclosure import EntityKind
from laboursight_schemas.entities import SourceContradiction
from laboursight_schemas.findings import RiskLevel

from .auth import require
from .context import Context, context
from .errors import ApiError, invalid_fields
from .keys import Principal
from .openapi import AUTHENTICATED, problem
from .rights import roles

router = APIRouter(prefix="/v1/entities", tags=["entities"])
Reader = Annotated[Principal, Depends(require(*roles("read entities")))]
HISTORY_LIMIT = 50
KINDS: tuple[EntityKind, ...] = ("supplier", "recruiter")


class Screening(BaseModel):
    """One screened disclosure of the entity, newest period first."""

    disclosure_id: str
    period_end: str
    risk_level: RiskLevel
    score: int
    rule_set_version: str
    rule_set_hash: str | None
    reference_data_edition: str
    computed_at: datetime


class EntityRisk(BaseModel):
    entity_kind: EntityKind
    entity_id: str
    risk_level: RiskLevel | None = None
    score: int | None = None
    explanation: str
    own: dict[str, Any] | None
    inherited: list[dict[str, Any]]
    links: list[dict[str, Any]]
    workforce: int | None = Field(
        default=None, description="a supplier's total workers, as its latest disclosure gives"
    )
    source_contradictions: list[SourceContradiction] = Field(
        default_factory=list,
        description="where this entity and the far end of a recruitment-chain link disagree",
    )
    findings: list[dict[str, Any]]
    history: list[Screening]
    version: int


async def find_profile(
    ctx: Context, tenant_id: str, entity_id: str, kind: EntityKind | None
) -> dict[str, Any]:
    """The entity's risk profile; a 404 when it has none, a 422 naming ``query:kind`` when
    the id names a supplier and a recruiter and ``kind`` does not choose."""
    kinds = KINDS if kind is None else (kind,)
    keys = [entity_key(tenant_id, k, entity_id) for k in kinds]
    found = (
        await ctx.db[collections.ENTITIES]
        .find({"_id": {"$in": keys}, "tenant_id": tenant_id})
        .to_list()
    )
    if not found:
        raise ApiError(404, "not_found", f"no risk profile for {entity_id!r}")
    if len(found) > 1:
        raise invalid_fields(
            [
                {
                    "field": "query:kind",
                    "message": f"{entity_id!r} is both a supplier and a recruiter",
                }
            ]
        )
    return found[0]


@router.get(
    "/{entity_id}/risk",
    response_model=EntityRisk,
    responses={
        **AUTHENTICATED,
        404: problem("No profile yet, or another tenant's entity"),
        422: problem("An invalid kind, or none for an id that names both kinds"),
    },
)
async def risk(
    entity_id: str,
    caller: Reader,
    ctx: Annotated[Context, Depends(context)],
    kind: Annotated[EntityKind | None, Query(description="needed when the id names both")] = None,
) -> EntityRisk:
    """Current level, score and explanation, own and inherited parts, evidence and history."""
    profile = await find_profile(ctx, caller.tenant_id, entity_id, kind)
    own = profile.get("own")
    latest = await latest_screening(ctx, caller.tenant_id, profile)
    return EntityRisk(
        entity_kind=profile["entity_kind"],
        entity_id=entity_id,
        risk_level=profile.get("risk_level"),
        score=profile.get("score"),
        explanation=profile.get("explanation", ""),
        own=own,
        inherited=profile.get("inherited", []),
        links=profile.get("links", []),
        workforce=profile.get("workforce"),
        source_contradictions=[
            SourceContradiction.model_validate(c) for c in profile.get("source_contradictions", [])
        ],
        findings=[] if latest is None else latest["findings"],
        history=await screenings_of(ctx, caller.tenant_id, profile),
        version=profile["version"],
    )


async def latest_screening(
    ctx: Context, tenant_id: str, profile: dict[str, Any]
) -> dict[str, Any] | None:
    """The stored screening of the profile's own latest disclosure, if it has one."""
    own = profile.get("own")
    if own is None:
        return None
    found: dict[str, Any] | None = await ctx.db[collections.FINDINGS].find_one(
        {"disclosure_id": own["disclosure_id"], "tenant_id": tenant_id},
        sort=[("computed_at", -1)],
    )
    return found


async def screenings_of(ctx: Context, tenant_id: str, profile: dict[str, Any]) -> list[Screening]:
    """The entity's latest ``HISTORY_LIMIT`` screenings, newest period first."""
    found = (
        ctx.db[collections.FINDINGS]
        .find(
            {
                "entity_kind": profile["entity_kind"],
                "entity_id": profile["entity_id"],
                "tenant_id": tenant_id,
            }
        )
        .sort([("period.end", -1), ("computed_at", -1)])
        .limit(HISTORY_LIMIT)
    )
    return [_screening(doc) async for doc in found]


def _screening(doc: dict[str, Any]) -> Screening:
    return Screening(
        disclosure_id=doc["disclosure_id"],
        period_end=doc["period"]["end"],
        risk_level=doc["judgement"]["risk_level"],
        score=doc["judgement"]["score"],
        rule_set_version=doc["rule_set_version"],
        rule_set_hash=doc.get("rule_set_hash"),
        reference_data_edition=doc["reference_data_edition"],
        computed_at=doc["computed_at"],
    )
