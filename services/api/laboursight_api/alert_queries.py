"""``GET /v1/alerts``: the analysts' inbox, newest alert first.

Risk writes the alerts (``alerts``, its outbox) and their status; the api only reads them. Each
alert comes with why it was raised (its type and reason codes), the findings of the screening
that raised it (with their evidence), for a supplier that carries a recruiter's risk the
recruitment chain (the recruiters it inherits the alert's level from now, each with the link,
the disclosure field, that ties them), and the case it was triaged into, from the api's own
``cases`` (at once, where the status risk sets follows the case's events). The indexes behind
these queries are risk's (its ``create_indexes``).
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Final, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from laboursight_schemas import collections
from laboursight_schemas.collections import entity_key
from laboursight_schemas.disclosure import EntityKind
from laboursight_schemas.findings import (
    RISK_LEVELS,
    AlertType,
    Evidence,
    Indicator,
    ReasonCode,
    RiskLevel,
    Severity,
    Strength,
)

from . import keyset, queries
from .auth import require
from .case_store import CaseStore, Decision
from .context import Context, context
from .cursors import Position
from .finding_queries import Slug
from .keys import Principal
from .queries import Cursor, Limit, Order, Time

router = APIRouter(prefix="/v1/alerts", tags=["alerts"])

SORT_FIELD: Final = "raised_at"
# An alert's life: raised open, triaged into a case or dismissed, resolved when its condition
# no longer holds (and open again if it returns).
AlertStatus = Literal["open", "triaged", "dismissed", "resolved"]
# Alerts of data version 1.1 hold no type: they were all risk-level alerts.
DEFAULT_TYPE: Final = "risk_level"
Country = Annotated[
    str | None, Query(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2, upper case")
]


class AlertFinding(BaseModel):
    indicator: Indicator
    strength: Strength
    severity: Severity
    evidence: list[Evidence]


class ChainPart(BaseModel):
    """A recruiter whose risk the supplier carries, and the link that makes it carry it."""

    recruiter_id: str
    risk_level: RiskLevel
    score: int
    indicators: list[Indicator]
    explanation: str
    disclosure_id: str = Field(description="The recruiter's disclosure behind its level")
    link_field: str = Field(description="The disclosure field that names the link")
    link_disclosure_id: str = Field(description="The disclosure that declares the link")
    workers: int | None
    workforce_share: float | None


class AlertItem(BaseModel):
    alert_id: str
    status: str = Field(
        description="`open`, `triaged`, `dismissed` or `resolved`; an alert triaged or "
        "dismissed a moment ago shows so at once, though the `status` filter finds it under "
        "`open` until the risk service has recorded the decision"
    )
    revision: int = Field(description="0 as raised; one more for each update since")
    alert_type: AlertType
    reasons: list[ReasonCode] = Field(
        description="What the alert stands on: indicator, rule, the evidence fields, and what "
        "evidence would clear it"
    )
    case_id: str | None = Field(description="The case it was triaged into, if any")
    raised_at: datetime
    entity_kind: EntityKind
    entity_id: str
    entity_name: str | None = Field(description="As its latest disclosure that gave one names it")
    country: str | None = Field(description="The entity's, when disclosed")
    risk_level: RiskLevel
    previous_risk_level: RiskLevel | None
    score: int
    indicators: list[Indicator]
    summary: str
    disclosure_id: str = Field(description="The disclosure whose screening raised it")
    period_end: str
    rule_set_version: str
    reference_data_edition: str
    findings: list[AlertFinding] = Field(
        description="That screening's findings, with their evidence"
    )
    chain: list[ChainPart] = Field(
        description="The recruiters the entity now inherits the alert's level (or more) "
        "from; empty when its own findings explain it"
    )
    entity_url: str


class AlertPage(BaseModel):
    items: list[AlertItem]
    next: str | None = Field(description="The next page, or null at the end of the list")


@dataclass(frozen=True)
class AlertQuery:
    status: AlertStatus | None = None
    risk_level: RiskLevel | None = None
    kind: EntityKind | None = None
    entity_id: str | None = None
    alert_type: AlertType | None = None
    indicator: Slug | None = None
    country: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def where(self, tenant_id: str) -> dict[str, Any]:
        found: dict[str, Any] = {"tenant_id": tenant_id}
        for field, value in (
            ("status", self.status),
            ("alert.risk_level", self.risk_level),
            ("alert.entity_kind", self.kind),
            ("alert.entity_id", self.entity_id),
            ("alert.indicators", self.indicator),
            ("alert.country", self.country),
        ):
            if value is not None:
                found[field] = value
        if self.alert_type is not None:
            typed = [self.alert_type, *((None,) if self.alert_type == DEFAULT_TYPE else ())]
            found["alert_type"] = {"$in": typed}
        return {**found, **queries.period(SORT_FIELD, self.since, self.until)}


def chain(profile: dict[str, Any] | None, level: RiskLevel) -> list[ChainPart]:
    """The inherited parts of ``profile`` at ``level`` or above."""
    parts = [] if profile is None else profile.get("inherited", [])
    return [
        ChainPart(
            recruiter_id=part["recruiter_id"],
            risk_level=part["risk_level"],
            score=part["score"],
            indicators=part["indicators"],
            explanation=part["explanation"],
            disclosure_id=part["disclosure_id"],
            link_field=part["link"]["field"],
            link_disclosure_id=part["link"]["disclosure_id"],
            workers=part["link"].get("workers"),
            workforce_share=part["link"].get("workforce_share"),
        )
        for part in parts
        if RISK_LEVELS.index(part["risk_level"]) >= RISK_LEVELS.index(level)
    ]


def item(
    document: dict[str, Any],
    screening: dict[str, Any] | None,
    profile: dict[str, Any] | None,
    decision: Decision | None,
) -> AlertItem:
    alert = document["alert"]
    status = document.get("status", "open")
    recorded = document.get("case_id") is not None or document.get("dismissal_id") is not None
    if status == "open" and decision is not None and not recorded:
        # Decided at the api, not yet recorded on the alert by risk: say what it will be. Once
        # risk has recorded a decision, an open alert is one that reopened since.
        status = "dismissed" if decision.case_id is None else "triaged"
    return AlertItem(
        alert_id=document["_id"],
        status=status,
        revision=document.get("revision", 0),
        alert_type=alert.get("alert_type", DEFAULT_TYPE),
        reasons=[ReasonCode.model_validate(r, extra="ignore") for r in alert.get("reasons", [])],
        case_id=None if decision is None else decision.case_id,
        raised_at=document[SORT_FIELD],
        entity_kind=alert["entity_kind"],
        entity_id=alert["entity_id"],
        entity_name=alert.get("entity_name"),
        country=alert.get("country"),
        risk_level=alert["risk_level"],
        previous_risk_level=alert.get("previous_risk_level"),
        score=alert["score"],
        indicators=alert["indicators"],
        summary=alert["summary"],
        disclosure_id=alert["disclosure_id"],
        period_end=alert["period_end"],
        rule_set_version=alert["rule_set_version"],
        reference_data_edition=alert["reference_data_edition"],
        findings=[] if screening is None else screening["findings"],
        chain=chain(profile, alert["risk_level"]),
        entity_url=f"/v1/entities/{alert['entity_id']}/risk?kind={alert['entity_kind']}",
    )


def screening_of(alert: dict[str, Any], screenings: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The screening that raised ``alert``: its disclosure, rule set and reference edition."""
    for screening in screenings:
        if (
            screening["disclosure_id"] == alert["disclosure_id"]
            and screening["rule_set_version"] == alert["rule_set_version"]
            and screening["reference_data_edition"] == alert["reference_data_edition"]
        ):
            return screening
    return None


class Explained:
    """Alerts with their screenings, the profiles of their entities and their cases, a page in
    4 queries."""

    def __init__(self, ctx: Context, tenant_id: str) -> None:
        self._findings = ctx.db[collections.FINDINGS]
        self._entities = ctx.db[collections.ENTITIES]
        self._cases = CaseStore(ctx.db)
        self._tenant_id = tenant_id

    async def __call__(
        self, documents: list[dict[str, Any]], _: Position | None
    ) -> list[tuple[Position, AlertItem]]:
        return list(zip(map(position_of, documents), await self.items(documents), strict=True))

    async def items(self, documents: list[dict[str, Any]]) -> list[AlertItem]:
        if not documents:
            return []
        alerts = [d["alert"] for d in documents]
        tenant = {"tenant_id": self._tenant_id}
        screenings = await self._findings.find(
            {**tenant, "disclosure_id": {"$in": sorted({a["disclosure_id"] for a in alerts})}},
            {"disclosure_id": 1, "rule_set_version": 1, "reference_data_edition": 1, "findings": 1},
        ).to_list()
        keys = {entity_key(self._tenant_id, a["entity_kind"], a["entity_id"]) for a in alerts}
        profiles = {
            p["_id"]: p
            async for p in self._entities.find(
                {**tenant, "_id": {"$in": sorted(keys)}}, {"inherited": 1}
            )
        }
        decided = await self._cases.decisions_of(self._tenant_id, [d["_id"] for d in documents])
        return [
            item(
                document,
                screening_of(alert, screenings),
                profiles.get(entity_key(self._tenant_id, alert["entity_kind"], alert["entity_id"])),
                decided.get(document["_id"]),
            )
            for document, alert in zip(documents, alerts, strict=True)
        ]


def position_of(document: dict[str, Any]) -> Position:
    return Position(document[SORT_FIELD], document["_id"])


@router.get(
    "",
    response_model=AlertPage,
    responses=queries.LIST_RESPONSES,
    dependencies=[Depends(queries.only_known_parameters)],
)
async def list_alerts(
    request: Request,
    caller: Annotated[Principal, Depends(require(*queries.READERS))],
    ctx: Annotated[Context, Depends(context)],
    status: Annotated[AlertStatus | None, Query()] = None,
    risk_level: Annotated[RiskLevel | None, Query(description="The level it was raised at")] = None,
    kind: Annotated[EntityKind | None, Query(description="The entity's kind")] = None,
    entity_id: Annotated[str | None, queries.text("The supplier or recruiter id")] = None,
    alert_type: Annotated[AlertType | None, Query(description="Why it was raised")] = None,
    indicator: Annotated[Slug | None, Query(description="An indicator it names")] = None,
    country: Country = None,
    since: Annotated[Time, queries.since("Raised")] = None,
    until: Annotated[Time, queries.until("Raised")] = None,
    order: Order = "newest",
    limit: Limit = queries.DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> AlertPage:
    """The inbox: alerts with their reasons, the findings and evidence behind them, the case
    each was triaged into and, where a recruiter's risk is carried, the recruitment chain;
    newest first by default."""
    asked = AlertQuery(
        status, risk_level, kind, entity_id, alert_type, indicator, country, since, until
    )
    query = {**vars(asked), "order": order}
    where, direction = asked.where(caller.tenant_id), queries.direction(order)
    collection = ctx.db[collections.ALERTS]

    scan = keyset.scan_of(collection, where, SORT_FIELD, direction)

    page = await keyset.collect(
        scan,
        Explained(ctx, caller.tenant_id),
        position_of,
        start=queries.start(cursor, query, "time"),
        limit=limit,
    )
    return AlertPage(items=page.items, next=queries.next_link(request, page.next, query))
