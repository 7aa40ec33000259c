"""What the case routes answer: a case in a list, and a whole case with its history and alerts."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from laboursight_schemas import collections
from laboursight_schemas.cases import (
    CaseChanged,
    CaseStatus,
    CorrectiveActionPlan,
    Reference,
    StatementRequest,
)
from laboursight_schemas.disclosure import EntityKind
from laboursight_schemas.findings import RiskLevel

from .alert_queries import AlertItem, Explained
from .case_store import CaseStore, case_of, history_of
from .cases_domain import Case, is_overdue
from .context import Context

Document = dict[str, Any]


class CaseSummary(BaseModel):
    case_id: str
    status: CaseStatus
    owner: str | None = Field(description="Who is responsible; null: nobody yet")
    severity: RiskLevel = Field(description="The highest risk level of its alerts")
    entity_kind: EntityKind
    entity_id: str
    alert_ids: list[str]
    opened_at: datetime
    opened_by: str = Field(description="The API key id that triaged its first alert")
    updated_at: datetime
    due_at: datetime = Field(
        description="By when a corrective action plan is due (the tenant's days for its "
        "severity), or once a plan is set, the plan's date"
    )
    overdue: bool = Field(description="Past its due date and not closed")
    closed_at: datetime | None
    revision: int = Field(
        description="Of its latest change; send it with a change to refuse "
        "one made on an older state"
    )
    case_url: str


class Closure(BaseModel):
    reason: str
    evidence: list[Reference]
    actor: str
    at: datetime


class CaseView(CaseSummary):
    cap: CorrectiveActionPlan | None = Field(description="The corrective action plan, if set")
    statement: StatementRequest | None = Field(
        description="The latest statement requested of the supplier"
    )
    attachments: list[Reference]
    closure: Closure | None = Field(description="Why and on what evidence it was closed")
    history: list[CaseChanged] = Field(description="Every change, oldest first: who, what, when")
    alerts: list[AlertItem] = Field(
        description="Its alerts, each with its reasons, findings, evidence and recruitment chain"
    )
    entity_url: str


def summary(case: Case, now: datetime) -> CaseSummary:
    return CaseSummary(**_summary_fields(case, now))


def _summary_fields(case: Case, now: datetime) -> dict[str, Any]:
    return {
        **case.model_dump(include=set(CaseSummary.model_fields)),
        "overdue": is_overdue(case, now),
        "case_url": f"/v1/cases/{case.case_id}",
    }


async def detail(ctx: Context, tenant_id: str, case_id: str, now: datetime) -> CaseView | None:
    """The whole case, or None when the tenant has no such case."""
    document = await CaseStore(ctx.db).load(tenant_id, case_id, history=True)
    if document is None:
        return None
    case, history = case_of(document), history_of(document)
    alerts = (
        await ctx.db[collections.ALERTS]
        .find({"_id": {"$in": list(case.alert_ids)}, "tenant_id": tenant_id})
        .sort("raised_at", 1)
        .to_list()
    )
    closed = [c for c in history if c.action == "closed"]
    closure = None
    if case.status == "closed" and closed:
        closure = Closure(**closed[-1].model_dump(include=set(Closure.model_fields)))
    return CaseView(
        **_summary_fields(case, now),
        cap=case.cap,
        statement=case.statement,
        attachments=list(case.attachments),
        closure=closure,
        history=history,
        alerts=await Explained(ctx, tenant_id).items(alerts),
        entity_url=f"/v1/entities/{case.entity_id}/risk?kind={case.entity_kind}",
    )
