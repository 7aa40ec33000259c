"""Cases: what an analyst makes of an alert, as events on ``cases.v1`` (the api publishes them).

An alert is either triaged into a case or dismissed with a reason, never both. A case is about
one entity and holds one or more of its alerts; every change to it is one ``CaseChanged``,
numbered by ``revision`` (1 when it opened, one more per change), and carries the case's state
after the change, so a reader that applied revision n ignores anything at or below n and still
ends with the right state whatever order it reads them in. A dismissal is one
``AlertDismissed``. The auditors' record of a case is the sequence of its events.

Readers are tolerant (unknown fields are ignored); the length limits below only ever loosen.
"""

from typing import Annotated, Final, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from .disclosure import EntityKind
from .envelope import ALERT_DISMISSED, CASE_CHANGED, Envelope
from .findings import RiskLevel

__all__ = ["ALERT_DISMISSED", "CASE_CHANGED"]

CaseStatus = Literal[
    "open", "acknowledged", "awaiting_supplier", "remediation", "verifying", "closed", "reopened"
]
ChangeAction = Literal[
    "acknowledged",
    "owner_changed",
    "statement_requested",
    "cap_set",
    "comment_added",
    "attachment_added",
    "status_changed",
    "closed",
    "reopened",
]
"""What an analyst does to a case."""
CaseAction = Literal[ChangeAction, "opened", "alert_added", "overdue"]
"""Every change: an analyst's, a triage (``opened``, ``alert_added``) and the clock's."""
SYSTEM: Final = "system"
"""The actor of what no caller did: an overdue case."""

MAX_TEXT: Final = 4000
MAX_REASON: Final = 2000


def _not_blank(text: str) -> str:
    if not text.strip():
        raise ValueError("must not be blank")
    return text


Text = Annotated[
    str, StringConstraints(min_length=1, max_length=MAX_TEXT), AfterValidator(_not_blank)
]
Reason = Annotated[
    str, StringConstraints(min_length=1, max_length=MAX_REASON), AfterValidator(_not_blank)
]
Owner = Annotated[
    str,
    StringConstraints(min_length=1, max_length=200),
    AfterValidator(_not_blank),
    Field(description="Who is responsible for the case: a person's name, free text"),
]


class Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Reference(Frozen):
    """A document kept elsewhere (no file is uploaded): where it is, and the SHA-256 of its bytes,
    so that what is found there later can be checked to be what was referenced."""

    uri: str = Field(
        min_length=3,
        max_length=2000,
        pattern=r"^[A-Za-z][A-Za-z0-9+.\-]*:\S+$",
        description="An absolute URI: `https://…`, `s3://…`, a document system's URN",
    )
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="Lower-case hex")
    description: Text


class CorrectiveActionPlan(Frozen):
    """What the supplier will do about the findings: RBA practice, root cause first."""

    root_cause: Text
    corrective_action: Text = Field(description="What removes this occurrence")
    preventive_action: Text = Field(description="What keeps it from happening again")
    due_at: AwareDatetime = Field(description="When the actions are to be complete")


class StatementRequest(Frozen):
    """What the supplier is asked to state or provide."""

    message: Text
    respond_by: AwareDatetime | None = None


class CaseChanged(Frozen):
    """One change to a case, with the case's state after it."""

    case_id: str
    revision: int = Field(ge=1, description="1 when the case opened; one more per change")
    action: CaseAction
    status: CaseStatus = Field(description="The case's status after the change")
    previous_status: CaseStatus | None = Field(
        default=None, description="Its status before the change; null when it opened"
    )
    alert_ids: list[str] = Field(min_length=1, description="Every alert of the case, after it")
    entity_kind: EntityKind
    entity_id: str
    severity: RiskLevel = Field(description="The highest risk level of its alerts")
    owner: str | None = Field(default=None, description="After the change; null: nobody yet")
    due_at: AwareDatetime = Field(description="When the case is due, after the change")
    actor: str = Field(description="The API key id that made the change, or `system`")
    at: AwareDatetime
    alert_id: str | None = Field(
        default=None, description="`opened`, `alert_added`: the alert triaged into the case"
    )
    reason: Reason | None = Field(default=None, description="`closed`, `reopened`: why")
    evidence: list[Reference] = Field(
        default_factory=list, description="`closed`: what shows the findings are remedied"
    )
    cap: CorrectiveActionPlan | None = Field(default=None, description="`cap_set`: the plan")
    comment: Text | None = Field(
        default=None, description="`comment_added`: the comment; any other action: a note"
    )
    attachment: Reference | None = Field(default=None, description="`attachment_added`")
    statement: StatementRequest | None = Field(
        default=None, description="`statement_requested`: what the supplier is asked"
    )


class AlertDismissed(Frozen):
    """An alert an analyst judged not to need a case, and why."""

    alert_id: str
    entity_kind: EntityKind
    entity_id: str
    reason: Reason
    actor: str = Field(description="The API key id that dismissed it")
    at: AwareDatetime


CaseChangedEvent = Envelope[CaseChanged]
AlertDismissedEvent = Envelope[AlertDismissed]
