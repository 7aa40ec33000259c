"""Cases as a state machine: what may change a case, and what each change makes of it.

Plain data and decisions, no I/O. Every function takes a case and returns the case after the
change together with the ``CaseChanged`` that records it (revision + 1), or raises a
``CaseError`` saying why the change is refused; the caller stores both in one write.

Statuses move ``open → acknowledged → awaiting_supplier → remediation → verifying → closed``
(``TRANSITIONS`` lists the steps back as well), and a closed case may be ``reopened``. A case is
closed only from ``verifying``, with a reason and at least one piece of evidence; a closed case
takes nothing but comments until it is reopened.

A case is due by a date that follows its severity (the highest risk level of its alerts):
``DueDays`` after it opened (or was reopened) until a corrective action plan sets the plan's own
date. A case past its due date is reported overdue once for that date; a new date (a CAP, a
reopening, a more severe alert) can be reported again.
"""

from datetime import datetime, timedelta
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field

from laboursight_schemas.cases import (
    SYSTEM,
    CaseAction,
    CaseChanged,
    CaseStatus,
    ChangeAction,
    CorrectiveActionPlan,
    Owner,
    Reason,
    Reference,
    StatementRequest,
    Text,
)
from laboursight_schemas.disclosure import EntityKind
from laboursight_schemas.findings import RISK_LEVELS, RiskLevel

TRANSITIONS: Final[dict[CaseStatus, frozenset[CaseStatus]]] = {
    "open": frozenset({"acknowledged"}),
    "acknowledged": frozenset({"awaiting_supplier", "remediation"}),
    "awaiting_supplier": frozenset({"awaiting_supplier", "remediation"}),
    "remediation": frozenset({"awaiting_supplier", "verifying"}),
    "verifying": frozenset({"awaiting_supplier", "remediation", "closed"}),
    "closed": frozenset({"reopened"}),
    "reopened": frozenset({"acknowledged", "awaiting_supplier", "remediation", "verifying"}),
}
"""The statuses each status may become (``awaiting_supplier`` again: a further request)."""

# The status each action moves a case to; ``status_changed`` names its own.
_TARGETS: Final[dict[str, CaseStatus]] = {
    "acknowledged": "acknowledged",
    "statement_requested": "awaiting_supplier",
    "closed": "closed",
    "reopened": "reopened",
}
# The statuses ``status_changed`` moves to: the others have an action that says more.
_PLAIN_STATUSES: Final[tuple[CaseStatus, ...]] = ("remediation", "verifying")
_DETAILS: Final = ("owner", "status", "reason", "evidence", "cap", "attachment", "statement")
# What the event records of a change beyond the case's state after it (owner and status).
_RECORDED: Final = ("reason", "evidence", "cap", "attachment", "statement", "comment")
_REQUIRED: Final[dict[str, tuple[str, ...]]] = {
    "acknowledged": (),
    "owner_changed": ("owner",),
    "statement_requested": ("statement",),
    "cap_set": ("cap",),
    "comment_added": ("comment",),
    "attachment_added": ("attachment",),
    "status_changed": ("status",),
    "closed": ("reason", "evidence"),
    "reopened": ("reason",),
}
_WHY_REQUIRED: Final = {
    "reason": "a reason is required to {action} a case",
    "evidence": "closing a case needs at least one evidence reference (uri, sha256, description)",
}
_VERBS: Final = {"closed": "close", "reopened": "reopen"}

RBA_PRIORITY_DAYS: Final = 7
RBA_OTHER_DAYS: Final = 14


class Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DueDays(Frozen):
    """Days from a case's opening to its due date, by the case's severity; a tenant sets its own.

    The defaults are the RBA audit practice for corrective action plans: a CAP within 7 calendar
    days of a priority nonconformance, within 14 days of the audit report otherwise ("If
    Priority Nonconformances were found during the Audit, a CAP addressing those issues must be
    completed and submitted within 7 calendar days"; "within 14 days of the Auditee's receipt of
    the Final Validated Audit Report", RBA VAP, *Auditee Corrective Action Plan (CAP)
    Management*, https://docslib.org/doc/11704304/10-auditee-corrective-action-plan-cap-management).
    A critical alert stands for a priority finding here.
    """

    critical: int = Field(default=RBA_PRIORITY_DAYS, ge=1, le=365)
    high: int = Field(default=RBA_OTHER_DAYS, ge=1, le=365)
    medium: int = Field(default=RBA_OTHER_DAYS, ge=1, le=365)
    low: int = Field(default=RBA_OTHER_DAYS, ge=1, le=365)

    def due(self, severity: RiskLevel, at: datetime) -> datetime:
        days: int = getattr(self, severity)
        return at + timedelta(days=days)


class Triaged(Frozen):
    """What a case needs of an alert triaged into it (risk's ``alerts`` document)."""

    alert_id: str
    entity_kind: EntityKind
    entity_id: str
    risk_level: RiskLevel
    correlation_id: str


class Change(Frozen):
    """One change a caller asks for: an ``action`` and the details it takes."""

    action: ChangeAction
    revision: int | None = Field(
        default=None,
        ge=1,
        description="The revision the change was decided on; when the case changed since, "
        "the answer is a 409 rather than this change applied on top",
    )
    owner: Owner | None = Field(default=None, description="`owner_changed`; `acknowledged`")
    status: CaseStatus | None = Field(default=None, description="`status_changed`: the status")
    reason: Reason | None = Field(default=None, description="`closed`, `reopened`: why")
    evidence: list[Reference] | None = Field(
        default=None, max_length=20, description="`closed`: at least one reference"
    )
    cap: CorrectiveActionPlan | None = Field(default=None, description="`cap_set`")
    comment: Text | None = Field(
        default=None, description="`comment_added`: the comment; any other action: a note"
    )
    attachment: Reference | None = Field(default=None, description="`attachment_added`")
    statement: StatementRequest | None = Field(default=None, description="`statement_requested`")


class Case(Frozen):
    """A case as it stands; its history is the ``CaseChanged`` of each revision."""

    case_id: str
    tenant_id: str
    correlation_id: str = Field(description="Of its events: the first alert's (a disclosure id)")
    entity_kind: EntityKind
    entity_id: str
    alert_ids: tuple[str, ...]
    severity: RiskLevel
    status: CaseStatus
    owner: str | None
    due_at: datetime
    overdue_for: datetime | None = Field(description="The due date reported overdue, if any")
    cap: CorrectiveActionPlan | None
    statement: StatementRequest | None
    attachments: tuple[Reference, ...]
    opened_at: datetime
    opened_by: str
    updated_at: datetime
    closed_at: datetime | None
    revision: int


class CaseError(Exception):
    pass


class InvalidChange(CaseError):
    """The change is malformed: ``errors`` name each field (``$.reason``) and why."""

    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__("; ".join(f"{e['field']}: {e['message']}" for e in errors))
        self.errors = errors


class NotAllowed(CaseError):
    """The case's status does not allow the change."""


class StaleRevision(CaseError):
    """The change was decided on a revision the case has moved past."""


class InCase(CaseError):
    """The alert is in the case already."""


def is_overdue(case: Case, at: datetime) -> bool:
    return case.status != "closed" and case.due_at <= at


def alarm_at(case: Case) -> datetime | None:
    """When the case is to be reported overdue: its due date, unless that date was reported."""
    if case.status == "closed" or case.overdue_for == case.due_at:
        return None
    return case.due_at


def open_case(
    case_id: str,
    tenant_id: str,
    alert: Triaged,
    *,
    owner: str | None,
    comment: str | None,
    actor: str,
    at: datetime,
    due: DueDays,
) -> tuple[Case, CaseChanged]:
    case = Case(
        case_id=case_id,
        tenant_id=tenant_id,
        correlation_id=alert.correlation_id,
        entity_kind=alert.entity_kind,
        entity_id=alert.entity_id,
        alert_ids=(alert.alert_id,),
        severity=alert.risk_level,
        status="open",
        owner=owner,
        due_at=due.due(alert.risk_level, at),
        overdue_for=None,
        cap=None,
        statement=None,
        attachments=(),
        opened_at=at,
        opened_by=actor,
        updated_at=at,
        closed_at=None,
        revision=1,
    )
    return case, _changed(case, None, "opened", actor, alert_id=alert.alert_id, comment=comment)


def add_alert(
    case: Case,
    alert: Triaged,
    *,
    comment: str | None,
    actor: str,
    at: datetime,
    due: DueDays,
) -> tuple[Case, CaseChanged]:
    """``alert`` joins the case; a more severe alert brings the due date forward, until a CAP
    has set it."""
    if (alert.entity_kind, alert.entity_id) != (case.entity_kind, case.entity_id):
        raise InvalidChange(
            [
                {
                    "field": "$.case_id",
                    "message": f"case {case.case_id} is about {case.entity_kind} "
                    f"{case.entity_id}; the alert is about {alert.entity_kind} {alert.entity_id}",
                }
            ]
        )
    if alert.alert_id in case.alert_ids:
        raise InCase(f"alert {alert.alert_id} is in case {case.case_id} already")
    if case.status == "closed":
        raise NotAllowed(
            f"case {case.case_id} is closed: reopen it first, or triage the alert into a new case"
        )
    severity = max(case.severity, alert.risk_level, key=RISK_LEVELS.index)
    due_at = case.due_at
    if case.cap is None and severity != case.severity:
        due_at = min(due_at, due.due(severity, at))
    after = _next(
        case, at, alert_ids=(*case.alert_ids, alert.alert_id), severity=severity, due_at=due_at
    )
    return after, _changed(after, case.status, "alert_added", actor, alert_id=alert.alert_id)


def apply(
    case: Case, change: Change, *, actor: str, at: datetime, due: DueDays
) -> tuple[Case, CaseChanged]:
    """The case after ``change``; raises InvalidChange, StaleRevision or NotAllowed."""
    _check_fields(change, at)
    if change.revision is not None and change.revision != case.revision:
        raise StaleRevision(
            f"case {case.case_id} is at revision {case.revision}, the change was made on "
            f"revision {change.revision}: read the case again"
        )
    target = _target(change)
    if target is not None and target not in TRANSITIONS[case.status]:
        allowed = " or ".join(sorted(TRANSITIONS[case.status]))
        raise NotAllowed(
            f"a case in status {case.status} cannot become {target} (action {change.action}); "
            f"from {case.status} it may become {allowed}"
        )
    if target is None and case.status == "closed" and change.action != "comment_added":
        raise NotAllowed(
            f"case {case.case_id} is closed: it takes comments only until it is reopened "
            f"(action {change.action})"
        )
    after = _next(case, at, **_effects(case, change, target, at, due))
    details = {name: getattr(change, name) for name in _RECORDED}
    return after, _changed(after, case.status, change.action, actor, **details)


def overdue(case: Case, at: datetime) -> tuple[Case, CaseChanged] | None:
    """The overdue report of ``case`` at ``at``, or None when there is none to make."""
    if alarm_at(case) is None or case.due_at > at:
        return None
    after = _next(case, at, overdue_for=case.due_at)
    return after, _changed(after, case.status, "overdue", SYSTEM)


def _check_fields(change: Change, at: datetime) -> None:
    required = _REQUIRED[change.action]
    allowed = {*required, "comment", *(("owner",) if change.action == "acknowledged" else ())}
    errors = []
    for name in required:
        if getattr(change, name) in (None, []):
            why = _WHY_REQUIRED.get(name, f"action {change.action} needs {name}")
            errors.append(
                {"field": f"$.{name}", "message": why.format(action=_VERBS.get(change.action))}
            )
    for name in (*_DETAILS, "comment"):
        if name not in allowed and getattr(change, name) is not None:
            errors.append({"field": f"$.{name}", "message": f"not part of {change.action}"})
    if change.status is not None and change.action == "status_changed":
        errors += _plain_status(change.status)
    if change.cap is not None and change.cap.due_at <= at:
        errors.append({"field": "$.cap.due_at", "message": "must be in the future"})
    respond_by = None if change.statement is None else change.statement.respond_by
    if respond_by is not None and respond_by <= at:
        errors.append({"field": "$.statement.respond_by", "message": "must be in the future"})
    if errors:
        raise InvalidChange(errors)


def _plain_status(status: CaseStatus) -> list[dict[str, str]]:
    if status in _PLAIN_STATUSES:
        return []
    by = {target: action for action, target in _TARGETS.items()}
    if status in by:
        message = f"a case becomes {status} by action {by[status]}"
    else:
        message = "a case never returns to open; " + " or ".join(_PLAIN_STATUSES) + " here"
    return [{"field": "$.status", "message": message}]


def _target(change: Change) -> CaseStatus | None:
    if change.action == "status_changed":
        return change.status
    return _TARGETS.get(change.action)


def _effects(
    case: Case, change: Change, target: CaseStatus | None, at: datetime, due: DueDays
) -> dict[str, Any]:
    effects: dict[str, Any] = {} if target is None else {"status": target}
    if change.owner is not None:
        effects["owner"] = change.owner
    if change.cap is not None:
        effects.update(cap=change.cap, due_at=change.cap.due_at)
    if change.statement is not None:
        effects["statement"] = change.statement
    if change.attachment is not None:
        effects["attachments"] = (*case.attachments, change.attachment)
    if change.action == "closed":
        effects["closed_at"] = at
    if change.action == "reopened":
        # A plan that did not hold: the case is due again as a new one, for a new plan.
        effects.update(closed_at=None, cap=None, due_at=due.due(case.severity, at))
    return effects


def _next(case: Case, at: datetime, **changes: Any) -> Case:
    return case.model_copy(update={**changes, "revision": case.revision + 1, "updated_at": at})


def _changed(
    case: Case, before: CaseStatus | None, action: CaseAction, actor: str, **details: Any
) -> CaseChanged:
    return CaseChanged(
        case_id=case.case_id,
        revision=case.revision,
        action=action,
        status=case.status,
        previous_status=before,
        alert_ids=list(case.alert_ids),
        entity_kind=case.entity_kind,
        entity_id=case.entity_id,
        severity=case.severity,
        owner=case.owner,
        due_at=case.due_at,
        actor=actor,
        at=case.updated_at,
        **{name: value for name, value in details.items() if value is not None},
    )
