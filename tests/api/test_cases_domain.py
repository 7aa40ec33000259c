"""The case state machine on its own: transitions, the details each action needs, due dates."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from laboursight_api.cases_domain import (
    TRANSITIONS,
    Case,
    Change,
    DueDays,
    InCase,
    InvalidChange,
    NotAllowed,
    StaleRevision,
    Triaged,
    add_alert,
    alarm_at,
    apply,
    open_case,
    overdue,
)
from laboursight_schemas.cases import CaseChanged, CaseStatus
from laboursight_schemas.findings import RiskLevel

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
DUE = DueDays()
SHA = "ab" * 32
EVIDENCE = {"uri": "https://docs.example/audit.pdf", "sha256": SHA, "description": "audit"}
CAP = {
    "root_cause": "fees charged by a sub-agent",
    "corrective_action": "repay the fees",
    "preventive_action": "contract clause and audits",
    "due_at": (T0 + timedelta(days=30)).isoformat(),
}


def alert(alert_id: str = "A-1", level: RiskLevel = "high", entity_id: str = "SUP-1") -> Triaged:
    return Triaged(
        alert_id=alert_id,
        entity_kind="supplier",
        entity_id=entity_id,
        risk_level=level,
        correlation_id="D-1",
    )


def opened(level: RiskLevel = "high") -> Case:
    case, _ = open_case(
        "C-1", "t", alert(level=level), owner=None, comment=None, actor="k1", at=T0, due=DUE
    )
    return case


def do(case: Case, action: str, at: datetime = T0, **details: Any) -> tuple[Case, CaseChanged]:
    change = Change.model_validate({"action": action, **details})
    return apply(case, change, actor="k1", at=at, due=DUE)


# The one way through, each step from the status before it.
LIFECYCLE: list[tuple[str, dict[str, Any], CaseStatus]] = [
    ("acknowledged", {"owner": "Priya"}, "acknowledged"),
    ("statement_requested", {"statement": {"message": "explain the fees"}}, "awaiting_supplier"),
    ("cap_set", {"cap": CAP}, "awaiting_supplier"),
    ("status_changed", {"status": "remediation"}, "remediation"),
    ("attachment_added", {"attachment": EVIDENCE}, "remediation"),
    ("status_changed", {"status": "verifying"}, "verifying"),
    ("closed", {"reason": "fees repaid", "evidence": [EVIDENCE]}, "closed"),
    ("reopened", {"reason": "fees charged again"}, "reopened"),
]


def test_a_case_goes_through_its_lifecycle_one_revision_a_change() -> None:
    case = opened()
    seen = []
    for action, details, status in LIFECYCLE:
        before = case.status
        case, change = do(case, action, **details)
        seen.append((change.revision, change.action, change.previous_status, change.status))
        assert case.status == status == change.status
        assert before != status or action in ("cap_set", "attachment_added")

    assert [s[0] for s in seen] == list(range(2, 2 + len(LIFECYCLE)))
    assert case.owner == "Priya"
    assert [a.uri for a in case.attachments] == [EVIDENCE["uri"]]
    assert case.closed_at is None  # reopened
    assert case.cap is None  # the plan did not hold: a new one is due
    assert case.due_at == T0 + timedelta(days=14)


def test_a_case_opens_due_by_the_rba_days_of_its_severity() -> None:
    assert opened("critical").due_at == T0 + timedelta(days=7)
    assert opened("high").due_at == T0 + timedelta(days=14)
    assert DueDays(high=3).due("high", T0) == T0 + timedelta(days=3)
    _, change = open_case(
        "C-9", "t", alert(), owner="Ana", comment="looks bad", actor="k1", at=T0, due=DUE
    )
    assert (change.revision, change.action, change.status, change.previous_status) == (
        1,
        "opened",
        "open",
        None,
    )
    assert (change.owner, change.comment, change.alert_id, change.actor) == (
        "Ana",
        "looks bad",
        "A-1",
        "k1",
    )


@pytest.mark.parametrize("status", sorted(TRANSITIONS))
def test_only_the_listed_transitions_are_allowed(status: CaseStatus) -> None:
    case = opened().model_copy(update={"status": status})
    moves: list[tuple[str, dict[str, Any], CaseStatus]] = [
        ("acknowledged", {}, "acknowledged"),
        ("statement_requested", {"statement": {"message": "why?"}}, "awaiting_supplier"),
        ("status_changed", {"status": "remediation"}, "remediation"),
        ("status_changed", {"status": "verifying"}, "verifying"),
        ("closed", {"reason": "done", "evidence": [EVIDENCE]}, "closed"),
        ("reopened", {"reason": "again"}, "reopened"),
    ]
    for action, details, target in moves:
        if target in TRANSITIONS[status]:
            assert do(case, action, **details)[0].status == target
        else:
            with pytest.raises(NotAllowed) as refused:
                do(case, action, **details)
            assert f"in status {status} cannot become {target}" in str(refused.value)


def test_closing_needs_a_reason_and_evidence_each_named() -> None:
    case = opened().model_copy(update={"status": "verifying"})
    with pytest.raises(InvalidChange) as refused:
        do(case, "closed")
    assert [e["field"] for e in refused.value.errors] == ["$.reason", "$.evidence"]
    with pytest.raises(InvalidChange) as refused:
        do(case, "closed", reason="done", evidence=[])
    assert [e["field"] for e in refused.value.errors] == ["$.evidence"]
    with pytest.raises(InvalidChange) as refused:
        do(opened().model_copy(update={"status": "closed"}), "reopened")
    assert refused.value.errors == [
        {"field": "$.reason", "message": "a reason is required to reopen a case"}
    ]


def test_a_detail_the_action_does_not_take_is_refused() -> None:
    with pytest.raises(InvalidChange) as refused:
        do(opened(), "comment_added", comment="hi", reason="why", owner="x")
    assert [e["field"] for e in refused.value.errors] == ["$.owner", "$.reason"]
    with pytest.raises(InvalidChange) as refused:
        do(opened(), "status_changed", status="closed")
    assert refused.value.errors == [
        {"field": "$.status", "message": "a case becomes closed by action closed"}
    ]
    with pytest.raises(InvalidChange) as refused:
        do(opened(), "cap_set", cap={**CAP, "due_at": T0.isoformat()})
    assert refused.value.errors[0]["field"] == "$.cap.due_at"


def test_a_closed_case_takes_comments_only_until_reopened() -> None:
    closed = opened().model_copy(update={"status": "closed"})
    assert do(closed, "comment_added", comment="for the record")[0].status == "closed"
    for action, details in (("owner_changed", {"owner": "B"}), ("cap_set", {"cap": CAP})):
        with pytest.raises(NotAllowed):
            do(closed, action, **details)


def test_a_change_on_an_old_revision_is_refused() -> None:
    case, _ = do(opened(), "acknowledged")
    with pytest.raises(StaleRevision):
        do(case, "comment_added", comment="x", revision=1)
    assert do(case, "comment_added", comment="x", revision=2)[1].revision == 3


def test_a_plan_sets_the_due_date_and_a_more_severe_alert_only_brings_it_forward() -> None:
    case = opened("high")
    later = T0 + timedelta(days=2)
    stricter, change = add_alert(
        case, alert("A-2", "critical"), comment=None, actor="k2", at=later, due=DUE
    )
    assert (change.action, change.alert_id, change.alert_ids) == (
        "alert_added",
        "A-2",
        ["A-1", "A-2"],
    )
    assert stricter.severity == "critical"
    assert stricter.due_at == later + timedelta(days=7)
    milder, _ = add_alert(
        stricter, alert("A-3", "high"), comment=None, actor="k", at=later, due=DUE
    )
    assert (milder.severity, milder.due_at) == ("critical", stricter.due_at)
    planned, _ = do(case, "cap_set", cap=CAP)
    assert planned.due_at == datetime.fromisoformat(CAP["due_at"])
    kept, _ = add_alert(
        planned, alert("A-4", "critical"), comment=None, actor="k", at=later, due=DUE
    )
    assert kept.due_at == planned.due_at


def test_an_alert_of_another_entity_or_into_a_closed_case_is_refused() -> None:
    with pytest.raises(InvalidChange) as refused:
        add_alert(
            opened(), alert("A-2", entity_id="SUP-2"), comment=None, actor="k", at=T0, due=DUE
        )
    assert refused.value.errors[0]["field"] == "$.case_id"
    with pytest.raises(InCase):
        add_alert(opened(), alert("A-1"), comment=None, actor="k", at=T0, due=DUE)
    closed = opened().model_copy(update={"status": "closed"})
    with pytest.raises(NotAllowed):
        add_alert(closed, alert("A-2"), comment=None, actor="k", at=T0, due=DUE)


def test_overdue_is_reported_once_per_due_date() -> None:
    case = opened("critical")
    assert overdue(case, case.due_at - timedelta(seconds=1)) is None
    late = case.due_at + timedelta(hours=1)
    report = overdue(case, late)
    assert report is not None
    reported, change = report
    assert (change.action, change.actor, change.status) == ("overdue", "system", "open")
    assert (alarm_at(reported), overdue(reported, late + timedelta(days=9))) == (None, None)
    replanned, _ = do(reported, "cap_set", at=late, cap={**CAP, "due_at": late + timedelta(days=1)})
    assert alarm_at(replanned) == replanned.due_at
    assert overdue(replanned, late + timedelta(days=2)) is not None
    closed = replanned.model_copy(update={"status": "closed"})
    assert (alarm_at(closed), overdue(closed, late + timedelta(days=2))) == (None, None)
