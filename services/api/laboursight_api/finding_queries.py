"""``GET /v1/findings``: every finding risk recorded for the tenant, one item per indicator
finding of a screened disclosure, newest screening first.

Risk keeps one document per screening (``findings``) listing its findings; an item is one of
them, with its evidence, the disclosure's judgement, and the rule-set version, hash and
reference-data edition that produced it. The indexes behind these queries are risk's (its
``create_indexes``): the collection is risk's.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Final, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from laboursight_schemas import collections
from laboursight_schemas.disclosure import EntityKind
from laboursight_schemas.findings import (
    Evidence,
    IloIndicator,
    Indicator,
    RecruitmentIndicator,
    RiskLevel,
    Severity,
    Strength,
)

from . import keyset, queries
from .auth import require
from .context import Context, context
from .cursors import Position
from .keys import Principal
from .queries import Cursor, Limit, Order, Time
from .rights import roles

router = APIRouter(prefix="/v1/findings", tags=["findings"])

SORT_FIELD: Final = "computed_at"
# One literal of every slug, not a union of two: an unknown slug is then one error, named
# after the parameter alone.
Slug = Literal[IloIndicator, RecruitmentIndicator]


class FindingItem(BaseModel):
    disclosure_id: str
    entity_kind: EntityKind
    entity_id: str
    period_start: str
    period_end: str
    computed_at: datetime = Field(description="When risk recorded the screening")
    indicator: Indicator
    strength: Strength
    severity: Severity
    evidence: list[Evidence] = Field(description="Every disclosure field the rules read")
    risk_level: RiskLevel = Field(description="The judgement of the disclosure")
    score: int
    rule_set_version: str
    rule_set_hash: str | None
    reference_data_edition: str
    disclosure_url: str


class FindingPage(BaseModel):
    items: list[FindingItem]
    next: str | None = Field(description="The next page, or null at the end of the list")


@dataclass(frozen=True)
class FindingQuery:
    """What a caller asked for; the filters on a finding (indicator, rule, severity, strength)
    must all hold for the same finding."""

    entity_id: str | None = None
    kind: EntityKind | None = None
    indicator: Slug | None = None
    rule_id: str | None = None
    severity: Severity | None = None
    strength: Strength | None = None
    risk_level: RiskLevel | None = None
    rule_set_version: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def where(self, tenant_id: str) -> dict[str, Any]:
        """The screenings that hold at least one matching finding."""
        found: dict[str, Any] = {"tenant_id": tenant_id}
        for field, value in (
            ("entity_id", self.entity_id),
            ("entity_kind", self.kind),
            ("judgement.risk_level", self.risk_level),
            ("rule_set_version", self.rule_set_version),
        ):
            if value is not None:
                found[field] = value
        wanted = self.wanted()
        if wanted:
            found["findings"] = {"$elemMatch": wanted}
        return {**found, **queries.period(SORT_FIELD, self.since, self.until)}

    def wanted(self) -> dict[str, str]:
        """What one finding must hold, by its path inside a finding."""
        return {
            field: value
            for field, value in (
                ("indicator", self.indicator),
                ("evidence.rule_id", self.rule_id),
                ("severity", self.severity),
                ("strength", self.strength),
            )
            if value is not None
        }


def matches(finding: dict[str, Any], wanted: dict[str, str]) -> bool:
    for field, value in wanted.items():
        if field == "evidence.rule_id":
            if value not in {e["rule_id"] for e in finding["evidence"]}:
                return False
        elif finding[field] != value:
            return False
    return True


def items(
    documents: list[dict[str, Any]], wanted: dict[str, str], start: Position | None
) -> list[tuple[Position, FindingItem]]:
    """The matching findings of ``documents`` in their order, those at or before ``start``
    (in the document it names) left out."""
    found = []
    for document in documents:
        skip = -1
        if start is not None and start.index is not None and document["_id"] == start.id:
            skip = start.index
        for index, finding in enumerate(document["findings"]):
            if index > skip and matches(finding, wanted):
                position = Position(document[SORT_FIELD], document["_id"], index)
                found.append((position, item(document, finding)))
    return found


def item(document: dict[str, Any], finding: dict[str, Any]) -> FindingItem:
    judgement = document["judgement"]
    return FindingItem(
        disclosure_id=document["disclosure_id"],
        entity_kind=document["entity_kind"],
        entity_id=document["entity_id"],
        period_start=document["period"]["start"],
        period_end=document["period"]["end"],
        computed_at=document[SORT_FIELD],
        indicator=finding["indicator"],
        strength=finding["strength"],
        severity=finding["severity"],
        evidence=finding["evidence"],
        risk_level=judgement["risk_level"],
        score=judgement["score"],
        rule_set_version=document["rule_set_version"],
        rule_set_hash=document.get("rule_set_hash"),
        reference_data_edition=document["reference_data_edition"],
        disclosure_url=f"/v1/disclosures/{document['disclosure_id']}",
    )


def position_of(document: dict[str, Any]) -> Position:
    return Position(document[SORT_FIELD], document["_id"])


@router.get(
    "",
    response_model=FindingPage,
    responses=queries.LIST_RESPONSES,
    dependencies=[Depends(queries.only_known_parameters)],
)
async def list_findings(
    request: Request,
    caller: Annotated[Principal, Depends(require(*roles("read findings")))],
    ctx: Annotated[Context, Depends(context)],
    entity_id: Annotated[str | None, queries.text("The supplier or recruiter id")] = None,
    kind: Annotated[EntityKind | None, Query(description="The entity's kind")] = None,
    indicator: Annotated[Slug | None, Query(description="The indicator slug")] = None,
    rule_id: Annotated[str | None, queries.text("A rule that gave evidence for it")] = None,
    severity: Annotated[Severity | None, Query()] = None,
    strength: Annotated[Strength | None, Query(description="The ILO/Delphi strength")] = None,
    risk_level: Annotated[
        RiskLevel | None, Query(description="The level of the disclosure's judgement")
    ] = None,
    rule_set_version: Annotated[str | None, queries.text("The rule set that screened it")] = None,
    since: Annotated[Time, queries.since("Recorded")] = None,
    until: Annotated[Time, queries.until("Recorded")] = None,
    order: Order = "newest",
    limit: Limit = queries.DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> FindingPage:
    """Findings with their evidence, newest screening first by default; the filters on a
    finding (indicator, rule, severity, strength) all hold for the same finding."""
    asked = FindingQuery(
        entity_id,
        kind,
        indicator,
        rule_id,
        severity,
        strength,
        risk_level,
        rule_set_version,
        since,
        until,
    )
    query = {**vars(asked), "order": order}
    where, wanted = asked.where(caller.tenant_id), asked.wanted()
    direction = queries.direction(order)
    collection = ctx.db[collections.FINDINGS]

    scan = keyset.scan_of(collection, where, SORT_FIELD, direction)

    async def expand(
        documents: list[dict[str, Any]], after: Position | None
    ) -> list[tuple[Position, FindingItem]]:
        return items(documents, wanted, after)

    page = await keyset.collect(
        scan, expand, position_of, start=queries.start(cursor, query, "time"), limit=limit
    )
    return FindingPage(items=page.items, next=queries.next_link(request, page.next, query))
