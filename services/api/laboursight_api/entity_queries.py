"""``GET /v1/entities``: the tenant's suppliers and recruiters as risk profiles them, highest
score first (a score always reads as its level, so this is also highest level first), then
those not scored yet (known only as the far end of a recruitment link).

Entities are searched by id prefix and by a part of their name, both case-insensitive, and
filtered by country; risk keeps the name and country of an entity's latest disclosure on its
profile. The indexes behind these queries are risk's (its ``create_indexes``); a name is
matched along the range the other filters read, as no index serves a match inside a string.
"""

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field
from pymongo.asynchronous.collection import AsyncCollection

from laboursight_schemas import collections
from laboursight_schemas.disclosure import EntityKind
from laboursight_schemas.findings import Indicator, RiskLevel

from . import keyset, queries
from .alert_queries import Country
from .auth import require
from .context import Context, context
from .cursors import Position
from .keys import Principal
from .queries import Cursor, Limit

router = APIRouter(prefix="/v1/entities", tags=["entities"])

SORT_FIELD: Final = "score"
Document = dict[str, Any]


class EntitySummary(BaseModel):
    entity_kind: EntityKind
    entity_id: str
    name: str | None = Field(description="As its latest disclosure names it")
    country: str | None = Field(description="ISO 3166-1 alpha-2, as its latest disclosure says")
    risk_level: RiskLevel | None = Field(description="Null until anything scores it")
    score: int | None
    explanation: str
    indicators: list[Indicator] = Field(description="Those of its own latest disclosure")
    inherited_from: list[str] = Field(description="The recruiters whose risk it carries")
    disclosure_id: str | None = Field(description="Its own latest disclosure, if any")
    updated_at: datetime | None
    risk_url: str = Field(description="The whole profile, with evidence and history")


class EntityPage(BaseModel):
    items: list[EntitySummary]
    next: str | None = Field(description="The next page, or null at the end of the list")


@dataclass(frozen=True)
class EntityQuery:
    id_prefix: str | None = None
    name: str | None = None
    kind: EntityKind | None = None
    risk_level: RiskLevel | None = None
    country: str | None = None

    def where(self, tenant_id: str) -> Document:
        found: Document = {"tenant_id": tenant_id}
        if self.id_prefix is not None:
            found["entity_id"] = {"$regex": "^" + re.escape(self.id_prefix), "$options": "i"}
        if self.name is not None:
            found["name"] = {"$regex": re.escape(self.name), "$options": "i"}
        if self.country is not None:
            found["country"] = self.country
        if self.kind is not None:
            found["entity_kind"] = self.kind
        if self.risk_level is not None:
            found["risk_level"] = self.risk_level
        return found


def scan_of(
    collection: AsyncCollection[Document], where: Document, scored_only: bool
) -> keyset.Scan:
    """Scored entities by (score, _id) descending, then the unscored by _id descending: two
    ranges, each read in the order of its index (a null score would otherwise fall outside
    the range a position after a score reads)."""
    scored = keyset.scan_of(
        collection, keyset.both(where, {SORT_FIELD: {"$ne": None}}), SORT_FIELD, -1
    )

    async def unscored(after_id: str | None, count: int) -> list[Document]:
        found = keyset.both(
            where,
            {SORT_FIELD: None},
            {} if after_id is None else {"_id": {"$lt": after_id}},
        )
        # By (score, _id), as the index holds them: every score here is null.
        cursor = collection.find(found).sort(keyset.sort(SORT_FIELD, -1))
        return await cursor.limit(count).to_list()

    async def scan(start: Position | None, count: int) -> list[Document]:
        if start is not None and start.key is None:
            return await unscored(start.id, count)
        documents = await scored(start, count)
        if len(documents) < count and not scored_only:
            documents += await unscored(None, count - len(documents))
        return documents

    return scan


def summary(document: Document) -> EntitySummary:
    own = document.get("own")
    kind, entity_id = document["entity_kind"], document["entity_id"]
    return EntitySummary(
        entity_kind=kind,
        entity_id=entity_id,
        name=document.get("name"),
        country=document.get("country"),
        risk_level=document.get("risk_level"),
        score=document.get(SORT_FIELD),
        explanation=document.get("explanation", ""),
        indicators=[] if own is None else own["indicators"],
        inherited_from=[part["recruiter_id"] for part in document.get("inherited", [])],
        disclosure_id=None if own is None else own["disclosure_id"],
        updated_at=document.get("updated_at"),
        risk_url=f"/v1/entities/{entity_id}/risk?kind={kind}",
    )


def position_of(document: Document) -> Position:
    return Position(document.get(SORT_FIELD), document["_id"])


async def _summaries(
    documents: list[Document], _: Position | None
) -> list[tuple[Position, EntitySummary]]:
    return [(position_of(d), summary(d)) for d in documents]


@router.get(
    "",
    response_model=EntityPage,
    responses=queries.LIST_RESPONSES,
    dependencies=[Depends(queries.only_known_parameters)],
)
async def list_entities(
    request: Request,
    caller: Annotated[Principal, Depends(require(*queries.READERS))],
    ctx: Annotated[Context, Depends(context)],
    id_prefix: Annotated[str | None, queries.text("Ids that start with this, in any case")] = None,
    name: Annotated[str | None, queries.text("Names that hold this, in any case")] = None,
    kind: Annotated[EntityKind | None, Query()] = None,
    risk_level: Annotated[RiskLevel | None, Query(description="The effective level")] = None,
    country: Country = None,
    limit: Limit = queries.DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> EntityPage:
    """Suppliers and recruiters, highest risk first, then those not scored yet; searched by id
    prefix or a part of the name."""
    asked = EntityQuery(id_prefix, name, kind, risk_level, country)
    query = vars(asked)
    scan = scan_of(
        ctx.db[collections.ENTITIES], asked.where(caller.tenant_id), risk_level is not None
    )
    page = await keyset.collect(
        scan, _summaries, position_of, start=queries.start(cursor, query, "score"), limit=limit
    )
    return EntityPage(items=page.items, next=queries.next_link(request, page.next, query))
